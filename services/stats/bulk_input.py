"""What the bulk loader (``services.stats.bulk``) takes: a dossier that already happened, its checks, and
the JSON-lines input the command reads it from, codes resolved to ids.

JSON lines for ``load``: ``{"agency": code, "procedure": code, "received_at": iso, "status": ...,
"channel": 1, "due_at": iso, "resolved_at": iso, "returned_at": iso, "closed_at": iso, "outcome":
"early|on_time|late", "late_by_rule": false, "digitised": false, "paid_online": false, "rating":
"satisfied|acceptable|dissatisfied", "code": optional, "working_seconds": n, "limit_seconds": n,
"steps": [{"unit": code, "assignee": username, "position": 1, "started_at": iso, "due_at": iso,
"ended_at": iso, "outcome": ...}]}``. The procedure version is the one in force on the day of receipt.
``working_seconds`` and ``limit_seconds`` are what the previous system's dossier clock measured (working
time used, pauses excluded, and the legal limit, 1 working day = 28,800 s): without them a resolved
dossier counts in every indicator but those of working time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.calendar.working import VN_TZ
from services.domain.rules import in_force
from services.domain.vocabulary import STATUS_CODES

OUTCOMES = frozenset({"early", "on_time", "late"})
RATINGS = frozenset({"satisfied", "acceptable", "dissatisfied"})


class BulkError(ValueError):
    """A record the loader refuses, with its position in the input."""


@dataclass(frozen=True)
class BulkStep:
    unit_id: uuid.UUID
    started_at: datetime
    due_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    assignee_id: uuid.UUID | None = None
    position: int = 1
    budget_seconds: int = 8 * 3600


@dataclass(frozen=True)
class BulkDossier:
    """One dossier as it stands. ``received_at`` is when the desk got it (submitted, for a refused one)."""

    agency_id: uuid.UUID
    procedure_version_id: uuid.UUID
    received_at: datetime
    status: str
    channel: int = 1
    due_at: datetime | None = None
    resolved_at: datetime | None = None
    returned_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    late_by_rule: bool = False
    digitised: bool = False
    paid_online: bool = False
    rating: str | None = None
    steps: tuple[BulkStep, ...] = ()
    code: str | None = None
    return_method: str = "counter"
    # what the dossier clock measured when it was resolved (working seconds, 1 day = 8 h, pauses excluded)
    # and its budget, the legal limit: both or neither
    working_seconds: int | None = None
    limit_seconds: int | None = None

    def check(self) -> None:
        if self.status not in STATUS_CODES or self.status == "submitted":
            raise BulkError(f"status {self.status!r} cannot be loaded")
        if self.channel not in (1, 2, 3):
            raise BulkError(f"channel must be 1, 2 or 3, not {self.channel!r}")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise BulkError(f"outcome must be one of {sorted(OUTCOMES)}")
        if self.status in ("resolved", "returned") and self.outcome is None:
            raise BulkError("a resolved or returned dossier needs its outcome")
        if (self.working_seconds is None) != (self.limit_seconds is None):
            raise BulkError("working_seconds and limit_seconds go together")
        if self.working_seconds is not None and (self.working_seconds < 0 or (self.limit_seconds or 0) <= 0):
            raise BulkError("working_seconds must be at least 0 and limit_seconds more than 0")
        if self.working_seconds is not None and self.status not in ("resolved", "returned"):
            raise BulkError("only a resolved or returned dossier has a measured working time")
        if self.rating is not None and self.rating not in RATINGS:
            raise BulkError(f"rating must be one of {sorted(RATINGS)}")
        moments = [self.received_at, self.due_at, self.resolved_at, self.returned_at, self.closed_at]
        for step in self.steps:
            moments += [step.started_at, step.due_at, step.ended_at]
            if step.outcome is not None and (step.outcome not in OUTCOMES or step.ended_at is None):
                raise BulkError("a step outcome needs ended_at and one of early, on_time, late")
        if any(moment is not None and moment.tzinfo is None for moment in moments):
            raise BulkError("times must carry their UTC offset")


def local_day(moment: datetime) -> date:
    """The day of ``moment`` in Vietnam: codes and procedure versions go by it."""
    return moment.astimezone(VN_TZ).date()


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class _Version:
    id: uuid.UUID
    number: int
    published: bool
    valid_from: date
    valid_to: date | None


class InputCatalogue:
    """Codes in the input resolved to ids, the procedure version by the day of receipt.

    The version is the one in force that day (``services.domain.rules.in_force``, the highest number
    should two overlap); a day before every version falls back to the first, as history predates it.
    """

    def __init__(
        self,
        agencies: dict[str, uuid.UUID],
        versions: dict[str, list[_Version]],
        staff: dict[str, uuid.UUID],
    ) -> None:
        self.agencies, self.versions, self.staff = agencies, versions, staff

    @classmethod
    async def read(cls, connection: asyncpg.Connection) -> InputCatalogue:
        agencies = {row["code"]: row["id"] for row in await connection.fetch("SELECT code, id FROM agency")}
        staff = {row["username"]: row["id"] for row in await connection.fetch("SELECT username, id FROM staff")}
        versions: dict[str, list[_Version]] = {}
        for row in await connection.fetch(
            "SELECT p.code, v.id, v.version, v.published, v.valid_from, v.valid_to"
            " FROM procedure_version v JOIN procedure p ON p.id = v.procedure_id ORDER BY v.valid_from, v.version"
        ):
            versions.setdefault(row["code"], []).append(
                _Version(row["id"], row["version"], row["published"], row["valid_from"], row["valid_to"])
            )
        return cls(agencies, versions, staff)

    def agency(self, code: str) -> uuid.UUID:
        if code not in self.agencies:
            raise BulkError(f"unknown agency {code!r}")
        return self.agencies[code]

    def version(self, code: str, day: date) -> uuid.UUID:
        if code not in self.versions:
            raise BulkError(f"unknown procedure {code!r}")
        versions = self.versions[code]
        current = [
            v
            for v in versions
            if in_force(published=v.published, valid_from=v.valid_from, valid_to=v.valid_to, day=day)
        ]
        return max(current, key=lambda v: v.number).id if current else versions[0].id

    def record(self, data: dict[str, Any]) -> BulkDossier:
        received = _moment(data["received_at"])
        assert received is not None
        steps = tuple(
            BulkStep(
                unit_id=self.agency(step["unit"]),
                assignee_id=self.staff[step["assignee"]] if step.get("assignee") else None,
                position=int(step.get("position", n)),
                started_at=_moment(step["started_at"]) or received,
                due_at=_moment(step["due_at"]) or received,
                ended_at=_moment(step.get("ended_at")),
                outcome=step.get("outcome"),
            )
            for n, step in enumerate(data.get("steps", ()), start=1)
        )
        return BulkDossier(
            agency_id=self.agency(data["agency"]),
            procedure_version_id=self.version(data["procedure"], local_day(received)),
            received_at=received,
            status=data["status"],
            channel=int(data.get("channel", 1)),
            due_at=_moment(data.get("due_at")),
            resolved_at=_moment(data.get("resolved_at")),
            returned_at=_moment(data.get("returned_at")),
            closed_at=_moment(data.get("closed_at")),
            outcome=data.get("outcome"),
            late_by_rule=bool(data.get("late_by_rule", False)),
            digitised=bool(data.get("digitised", False)),
            paid_online=bool(data.get("paid_online", False)),
            rating=data.get("rating"),
            steps=steps,
            code=data.get("code"),
            return_method=data.get("return_method", "counter"),
            working_seconds=data.get("working_seconds"),
            limit_seconds=data.get("limit_seconds"),
        )


def read_jsonl(path: Path, catalogue: InputCatalogue) -> Iterator[BulkDossier]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield catalogue.record(json.loads(line))
            except (KeyError, ValueError, TypeError) as exc:
                raise BulkError(f"{path}:{number}: {exc}") from exc
