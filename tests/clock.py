"""Moving the services' clock from a test: the clock file (``MOTCUA_CLOCK_FILE``) that other processes read.

Written atomically (a new file renamed over the old): a process reading while a plain write is under way
would see an empty file, which means the real time (services.core.clock.FileClock) — a jump to today in
the middle of a time-travel test.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path


def write_clock(path: Path, instant: datetime | None) -> None:
    """Set the clock file to ``instant``; ``None`` empties it (the real time again)."""
    fresh = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fresh.write_text(instant.isoformat() if instant is not None else "")
    os.replace(fresh, path)
