"""After the load: what the database and the sinks hold against what was acknowledged; the table; the record.

- **Lost**: a dossier answered 201 (first or replayed) whose code is not in the database.
- **Duplicated**: more than one dossier for one logical submission (its applicant email ``drill-<n>@…`` is
  unique to it, whatever the number of attempts under its ``Idempotency-Key``).
- **Events**: every outbox event ``delivered`` — none ``pending`` once drained, none ``parked``.
- **Messages**: every email and SMS notification ``sent`` (or ``delivered``) exactly once at the sinks: the
  SMTP server's distinct Message-IDs equal the email notifications sent and no Message-ID came twice; the
  gateway accepted one SMS per SMS notification (a reference asked again is refused by the gateway —
  its contract — and counted apart as ``sms asked again``, not as a message twice).
- **After a failover** an email may come twice, by design: the sender writes its handover with
  ``synchronous_commit = off`` (services/notification/sender.py), so a handover the lost primary had not yet
  flushed is forgotten and the message sent again under its Message-ID. The emails twice counted at the
  sinks just before the primary is killed and at the end tell these repeats (reported) from a repeat after
  a process kill (a failure).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.sinks import Sinks
from drill.faults import Recovery
from drill.load import Tally

RESULTS = Path(__file__).resolve().parent / "results"
DRAIN_SECONDS = 180.0

_WAITING = text(
    "SELECT (SELECT count(*) FROM outbox_event WHERE status = 'pending')"
    " + (SELECT count(*) FROM notification WHERE status = 'queued' AND channel <> 'in_app')"
)


@dataclass
class Outcome:
    submissions: int
    sent: int
    acknowledged: int
    found: int
    lost: int
    duplicated: int
    unacknowledged: int
    replayed: int
    dossiers_in_database: int
    outbox: dict[str, int]
    notifications: dict[str, int]
    sinks: dict[str, int]
    messages_missing: int
    messages_duplicated: int  # emails twice before any failover: a failure
    messages_repeated_after_failover: int  # emails twice that appeared after the failover: allowed, see below
    requests: dict[str, int]
    answered_2xx: dict[str, int]
    errors: dict[str, int]
    flows_finished: dict[str, int]
    flows_unfinished: int
    flows_undriven: int
    faults: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{self.lost} acknowledged dossiers lost")
        if self.duplicated:
            found.append(f"{self.duplicated} duplicate dossiers")
        if self.messages_duplicated:
            found.append(f"{self.messages_duplicated} messages twice at the sinks")
        if self.messages_missing:
            found.append(f"{self.messages_missing} messages missing at the sinks")
        if self.outbox.get("pending") or self.outbox.get("parked"):
            found.append(f"events not processed: {self.outbox}")
        if self.notifications.get("queued") or self.notifications.get("failed"):
            found.append(f"notifications not sent: {self.notifications}")
        found += [f"fault not recovered: {f['fault']} ({f['target']})" for f in self.faults if not f["passed"]]
        return found


async def drained(engine: AsyncEngine, within: float = DRAIN_SECONDS, settled: float = 3.0) -> bool:
    """Nothing waits, and still nothing ``settled`` seconds later (a request the load gave up on may still
    commit its events on the server after the load stopped)."""
    deadline, empty_since = time.monotonic() + within, None
    while time.monotonic() < deadline:
        try:
            async with engine.connect() as connection:
                waiting = (await connection.execute(_WAITING)).scalar_one()
        except Exception:  # a stale connection after a failover: replaced at the next checkout
            waiting = None
        if waiting == 0:
            empty_since = empty_since or time.monotonic()
            if time.monotonic() - empty_since >= settled:
                return True
        else:
            empty_since = None
        await asyncio.sleep(0.5)
    return False


async def count(engine: AsyncEngine, tally: Tally, sinks: Sinks, faults: list[Recovery]) -> Outcome:
    await drained(engine)
    await asyncio.sleep(2.0)  # a message sent twice has had its time to arrive
    async with engine.connect() as connection:
        codes = list(tally.acknowledged)
        found = (
            await connection.execute(text("SELECT count(*) FROM dossier WHERE code = ANY(:codes)"), {"codes": codes})
        ).scalar_one()
        duplicated = (
            await connection.execute(
                text(
                    "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM dossier"
                    " WHERE applicant_email LIKE 'drill-%' GROUP BY applicant_email) AS per"
                )
            )
        ).scalar_one()
        total = (
            await connection.execute(text("SELECT count(*) FROM dossier WHERE applicant_email LIKE 'drill-%'"))
        ).scalar_one()
        outbox: dict[str, int] = {
            row[0]: row[1]
            for row in await connection.execute(text("SELECT status, count(*) FROM outbox_event GROUP BY 1"))
        }
        rows = await connection.execute(
            text("SELECT channel || ' ' || status, count(*) FROM notification WHERE channel <> 'in_app' GROUP BY 1")
        )
        notifications: dict[str, int] = {row[0]: row[1] for row in rows}
    sink = await sinks.counts()
    sent_email = notifications.get("email sent", 0) + notifications.get("email delivered", 0)
    sent_sms = notifications.get("sms sent", 0) + notifications.get("sms delivered", 0)
    missing = max(0, sent_email - sink["distinct_emails"]) + max(0, sent_sms - sink["sms"])
    twice = sink["emails"] - sink["distinct_emails"]
    before = [f["notes"].get("emails_twice_before") for f in (r.as_dict() for r in faults) if "failover" in f["fault"]]
    after_failover = twice - before[0] if before and before[0] is not None else 0
    statuses: dict[str, int] = {}
    for key, n in notifications.items():
        status = key.split(" ", 1)[1]
        statuses[status] = statuses.get(status, 0) + n
    return Outcome(
        submissions=tally.submissions,
        sent=tally.sent["submit"],
        acknowledged=len(codes),
        found=int(found),
        lost=len(codes) - int(found),
        duplicated=int(duplicated),
        unacknowledged=tally.unacknowledged,
        replayed=tally.replayed,
        dossiers_in_database=int(total),
        outbox={k: int(v) for k, v in outbox.items()},
        notifications={**{k: int(v) for k, v in notifications.items()}, **statuses},
        sinks=sink,
        messages_missing=missing,
        messages_duplicated=twice - after_failover,
        messages_repeated_after_failover=after_failover,
        requests=dict(tally.sent),
        answered_2xx=dict(tally.ok),
        errors=dict(tally.errors.most_common()),
        flows_finished=dict(tally.finished),
        flows_unfinished=tally.unfinished,
        flows_undriven=tally.undriven,
        faults=[fault.as_dict() for fault in faults],
    )


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def table(outcome: Outcome, title: str) -> str:
    lines = [f"\n{title}", "", "| figure | value |", "|---|---|"]
    rows: list[tuple[str, object]] = [
        ("submissions (each its own Idempotency-Key)", outcome.submissions),
        ("submission requests sent (retries included)", outcome.sent),
        ("acknowledged (201)", f"{outcome.acknowledged} ({outcome.replayed} by a replay)"),
        ("found in the database afterwards", outcome.found),
        ("lost", outcome.lost),
        ("duplicated", outcome.duplicated),
        ("given up unacknowledged", outcome.unacknowledged),
        (
            "flows finished / unfinished / not driven",
            f"{outcome.flows_finished} / {outcome.flows_unfinished} / {outcome.flows_undriven}",
        ),
        ("outbox events", outcome.outbox),
        ("notifications (email, SMS)", {k: v for k, v in outcome.notifications.items() if " " in k}),
        ("at the sinks", outcome.sinks),
        (
            "messages missing / twice / repeated after the failover",
            f"{outcome.messages_missing} / {outcome.messages_duplicated} / {outcome.messages_repeated_after_failover}",
        ),
        ("requests by kind (2xx)", {k: f"{v} ({outcome.answered_2xx.get(k, 0)})" for k, v in outcome.requests.items()}),
    ]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "| errors by kind | count |", "|---|---|"]
    lines += [f"| {kind} | {n} |" for kind, n in outcome.errors.items()] or ["| none | 0 |"]
    lines += [
        "",
        "| fault | target | down | answering again | backlog caught up | notes | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in outcome.faults:
        notes = ", ".join(f"{k}: {v}" for k, v in f["notes"].items())
        lines.append(
            f"| {f['fault']} | {f['target']} | {_seconds(f['down_s'])} | {_seconds(f['answering_s'])} | "
            f"{_seconds(f['caught_up_s'])} | {notes} | {'yes' if f['passed'] else 'NO'} |"
        )
    failures = outcome.failures
    lines.append("")
    lines.append("PASSED: nothing lost, nothing twice" if not failures else "FAILED: " + "; ".join(failures))
    return "\n".join(lines)


def record(name: str, outcome: Outcome, **extra: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    run = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = RESULTS / f"{run}-{name}.json"
    data = {"run": run, "kind": name, **extra, "outcome": outcome.__dict__, "failures": outcome.failures}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path
