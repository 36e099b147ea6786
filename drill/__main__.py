"""``python -m drill`` (``make drill``): the full drill; prints the table, records the run in drill/results/,
exits 1 when anything acknowledged was lost, anything came twice or a fault did not heal.

``DRILL_SHORT=1`` runs the short form (as tests/drill does); ``DRILL_RATE`` sets the submissions a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys

from drill.run import FULL, SHORT, drill
from drill.verify import record, table


def main() -> int:
    plan = SHORT if os.environ.get("DRILL_SHORT") == "1" else FULL
    if os.environ.get("DRILL_RATE"):
        plan = dataclasses.replace(plan, rate=float(os.environ["DRILL_RATE"]))
    outcome, stack = asyncio.run(drill(plan))
    print(table(outcome, f"Drill ({'short' if plan is SHORT else 'full'}, {plan.rate:g} submissions/s)"))
    path = record("drill", outcome, plan=dataclasses.asdict(plan), logs=str(stack.logs))
    print(f"\nrecorded in {path}")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
