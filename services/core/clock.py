"""Time is injected: anything that asks "now" takes a clock, so deadline tests can travel in time.

``FileClock`` reads the instant from a file at every call, so a test can move the time of real
service and worker processes; it is refused outside demo mode.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock the caller moves by hand (tests in one process)."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


class FileClock:
    """The instant written in a file (ISO 8601 with offset); the system time when the file is empty."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            text = ""
        if not text:
            return datetime.now(UTC)
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            raise ValueError(f"{self.path} must hold an instant with its UTC offset")
        return instant
