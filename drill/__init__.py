"""Fault drills and the soak (issue 15 §2, §5): the whole stack as real processes under a mixed load,
with its processes killed, its database restarted and failed over, and everything counted afterwards.

``python -m drill`` (``make drill``) and ``python -m drill.soak`` (``make soak``); tests/drill/ runs a
short form in ``make test``. docs/operations/drill.md says what each fault does and how to read the table.
"""
