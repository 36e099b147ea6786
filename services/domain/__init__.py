"""The one vocabulary of the dossier: its states, the staff roles, "overdue" and "version in force".

Every other module imports these names instead of writing the sets out (STYLE 16): a new state or role
is one edit here, and tests/domain/test_vocabulary.py fails when it is incomplete.

Why a package of its own rather than ``services/models``: the role sets are needed by
``services.core.deps`` (the named FastAPI dependencies ``StaffActor``, ``LeaderActor``…), and core never
imports the ORM. ``services.domain`` imports nothing of ours — only the standard library and SQLAlchemy's
expression language — so it sits below both core and models and every layer may use it. The rules that
need SQL take the columns as arguments (``services.domain.rules``), so they do not know the tables.
"""
