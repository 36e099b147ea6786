"""Development and test tooling, kept apart from the domain.

``make run`` (``devrun``), the gateway that serves the SPA and the three APIs behind one URL
(``gateway``), the OpenAPI dump behind ``make api-client`` (``openapi_dump``) and the launcher that
starts the services as real processes for ``make run``, the e2e/browser tests and the benchmarks
(``processes``). No domain package imports this one (an import-linter contract says so); it sits at
the edge and uses the domain. The embedded PostgreSQL stays in ``services.core.embedded_pg``
because ``services.core.config`` falls back to it when no ``MOTCUA_DATABASE_URL`` is set.
"""
