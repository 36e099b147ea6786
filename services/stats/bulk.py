"""Bulk loading of dossiers that already happened (history from a previous system, benchmarks) with
COPY, and the rebuild and check of the statistics aggregates.

::

    python -m services.stats.bulk load dossiers.jsonl [--batch 20000] [--connections 2]
    python -m services.stats.bulk rebuild      # recount every aggregate from the tables
    python -m services.stats.bulk verify       # compare the aggregates with a recount (exit 1 on drift)

A loaded dossier arrives finished or in progress: received, resolved, returned, withdrawn, stopped
or refused, with its times, outcome and step clocks. Each batch is one transaction on one
connection: codes are taken from ``dossier_sequence`` (so later counter codes never collide), the
rows go in with ``COPY`` (``copy_records_to_table``), and the statistics triggers are switched off
for that transaction only (``motcua.stats_bulk``) — per-row triggers would cost more than the COPY —
then the batch's contribution is added to the aggregates in one statement per table (the rollups
follow the cells by their own trigger), with the same SQL functions the triggers use
(``services.stats.aggregates``, which also holds ``rebuild`` and ``verify``). Other sessions keep
their triggers: nothing they write is missed. Batches are sharded by receiving agency over the
connections, so two connections never wait on the same code counter or aggregate row.

Loaded dossiers get time-ordered ids (UUID version 7 layout) so the primary key grows at its right
edge, no personal data (``applicant_name`` says it is historical data, the id number is empty) and an
unusable tracking secret. Only step clocks are created (``steps``); a dossier without steps has none.

What a loaded dossier is, its checks and the JSON-lines input: ``services.stats.bulk_input``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from services.models.dossier import dossier_code
from services.stats.aggregates import (
    BATCH_DOSSIERS,
    BATCH_OFFICERS,
    BATCH_OPEN,
    BATCH_OPEN_STEPS,
    BATCH_STEPS,
    _connect,
    rebuild,
    verify,
)
from services.stats.bulk_input import BulkDossier, BulkError, BulkStep, InputCatalogue, local_day, read_jsonl

HISTORICAL = "(dữ liệu lịch sử)"
UNUSABLE_SECRET = "!bulk"  # noqa: S105 - never the HMAC of any secret: loaded dossiers cannot be tracked by secret


@dataclass
class LoadReport:
    dossiers: int = 0
    steps: int = 0
    ratings: int = 0
    seconds: float = 0.0
    batches: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# --- ids and codes -------------------------------------------------------------------------------


class _TimeOrderedIds:
    """UUIDs with the version 7 layout: the load's start in milliseconds, then a counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prefix = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76
        self._next = secrets.randbits(40)

    def take(self, count: int) -> list[uuid.UUID]:
        with self._lock:
            first, self._next = self._next, self._next + count
        return [
            # 12 bits of the counter in rand_a, the variant bits, 62 bits in rand_b
            uuid.UUID(int=self._prefix | (n >> 62 & 0xFFF) << 64 | 0b10 << 62 | (n & ((1 << 62) - 1)))
            for n in range(first, first + count)
        ]


_IDS = _TimeOrderedIds()


async def _agency_codes(connection: asyncpg.Connection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await connection.fetch("SELECT id, code FROM agency WHERE id = ANY($1::uuid[])", list(set(ids)))
    return {row["id"]: row["code"] for row in rows}


async def _allocate_codes(connection: asyncpg.Connection, dossiers: Sequence[BulkDossier]) -> list[str]:
    """Codes in the desk's format (``services.models.dossier.dossier_code``) from the same daily counters."""
    wanted = Counter((d.agency_id, local_day(d.received_at)) for d in dossiers if d.code is None)
    if not wanted:
        return [d.code or "" for d in dossiers]
    keys = sorted(wanted)
    rows = await connection.fetch(
        """INSERT INTO dossier_sequence AS s (agency_id, day, last_value)
           SELECT * FROM unnest($1::uuid[], $2::date[], $3::integer[]) ORDER BY 1, 2
           ON CONFLICT (agency_id, day) DO UPDATE SET last_value = s.last_value + excluded.last_value
           RETURNING agency_id, day, last_value""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [wanted[k] for k in keys],
    )
    following = {
        (row["agency_id"], row["day"]): row["last_value"] - wanted[row["agency_id"], row["day"]] + 1 for row in rows
    }
    agency_codes = await _agency_codes(connection, (k[0] for k in keys))
    codes = []
    for d in dossiers:
        if d.code is not None:
            codes.append(d.code)
            continue
        day = local_day(d.received_at)
        value = following[d.agency_id, day]
        following[d.agency_id, day] = value + 1
        codes.append(dossier_code(agency_codes[d.agency_id], day, value))
    return codes


# --- the columns, in COPY order ------------------------------------------------------------------

DOSSIER_COLUMNS = (
    "id", "code", "procedure_version_id", "receiving_agency_id", "current_agency_id", "status", "channel",
    "lock_version", "applicant_kind", "applicant_name", "applicant_id_number", "return_method", "secret_hash",
    "submitted_at", "received_at", "clock_start_at", "due_at", "resolved_at", "returned_at", "closed_at", "outcome",
    "supplement_count", "late_by_rule", "overdue", "apology_issued", "digitised", "paid_online", "created_at",
    "updated_at", "used_working_seconds", "limit_working_seconds",
)  # fmt: skip
TIMER_COLUMNS = (
    "id", "dossier_id", "kind", "step_seq", "step_position", "agency_id", "assignee_id", "budget_seconds",
    "started_at", "due_at", "due_soon_at", "paused_seconds", "ended_at", "outcome", "created_at", "updated_at",
)  # fmt: skip
FEEDBACK_COLUMNS = ("id", "dossier_id", "rating", "created_at", "updated_at")


# --- loading -------------------------------------------------------------------------------------


def _dossier_record(d: BulkDossier, dossier_id: uuid.UUID, code: str) -> tuple[Any, ...]:
    received = d.received_at if d.status != "refused" else None
    submitted = d.received_at if d.channel == 2 or d.status == "refused" else None
    return (
        dossier_id, code, d.procedure_version_id, d.agency_id, d.agency_id, d.status, d.channel,
        1, "citizen", HISTORICAL, "", d.return_method, UNUSABLE_SECRET,
        submitted, received, received, d.due_at, d.resolved_at, d.returned_at, d.closed_at, d.outcome,
        0, d.late_by_rule, False, False, d.digitised, d.paid_online, d.received_at, d.closed_at or d.received_at,
        d.working_seconds, d.limit_seconds,
    )  # fmt: skip


def _timer_record(dossier_id: uuid.UUID, seq: int, step: BulkStep) -> tuple[Any, ...]:
    return (
        None, dossier_id, "step", seq, step.position, step.unit_id, step.assignee_id, step.budget_seconds,
        step.started_at, step.due_at, step.due_at, 0, step.ended_at, step.outcome,
        step.started_at, step.ended_at or step.started_at,
    )  # fmt: skip


async def load_batch(connection: asyncpg.Connection, dossiers: Sequence[BulkDossier]) -> LoadReport:
    """Load one batch in one transaction and add it to the statistics."""
    for n, dossier in enumerate(dossiers):
        try:
            dossier.check()
        except BulkError as exc:
            raise BulkError(f"record {n}: {exc}") from exc
    ids = _IDS.take(len(dossiers))
    timers: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    for dossier_id, d in zip(ids, dossiers, strict=True):
        for seq, step in enumerate(d.steps, start=1):
            timers.append(_timer_record(dossier_id, seq, step))
        if d.rating is not None:
            moment = d.returned_at or d.closed_at or d.received_at
            ratings.append((None, dossier_id, d.rating, moment, moment))
    for rows in (timers, ratings):
        for position, timer_id in enumerate(_IDS.take(len(rows))):
            rows[position] = (timer_id, *rows[position][1:])
    async with connection.transaction():
        await connection.execute("SELECT set_config('motcua.stats_bulk', 'on', true)")
        codes = await _allocate_codes(connection, dossiers)
        records = [_dossier_record(d, i, c) for d, i, c in zip(dossiers, ids, codes, strict=True)]
        await connection.copy_records_to_table("dossier", records=records, columns=DOSSIER_COLUMNS)
        if timers:
            await connection.copy_records_to_table("sla_timer", records=timers, columns=TIMER_COLUMNS)
        if ratings:
            await connection.copy_records_to_table("feedback", records=ratings, columns=FEEDBACK_COLUMNS)
        complained = [d.rating == "dissatisfied" for d in dossiers]
        await connection.execute(BATCH_DOSSIERS, ids, complained)
        await connection.execute(BATCH_OPEN, ids)
        if timers:
            await connection.execute(BATCH_STEPS, ids)
            await connection.execute(BATCH_OFFICERS, ids)
            await connection.execute(BATCH_OPEN_STEPS, ids)
        await connection.execute("SELECT set_config('motcua.stats_bulk', 'off', true)")
    return LoadReport(dossiers=len(dossiers), steps=len(timers), ratings=len(ratings), batches=1)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://``) as a DSN asyncpg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def load(
    dsn: str, dossiers: Iterable[BulkDossier], *, batch_size: int = 20_000, connections: int = 2
) -> LoadReport:
    """Load everything ``dossiers`` yields, in batches over ``connections`` connections (sharded by agency)."""
    started = time.perf_counter()
    report = LoadReport()
    queues: list[asyncio.Queue[list[BulkDossier] | None]] = [asyncio.Queue(maxsize=2) for _ in range(connections)]
    failures: list[BaseException] = []

    async def worker(queue: asyncio.Queue[list[BulkDossier] | None]) -> None:
        connection = await asyncpg.connect(dsn, server_settings={"application_name": "motcua-bulk"})
        try:
            await connection.execute("SET synchronous_commit = off")
            while (batch := await queue.get()) is not None:
                if failures:
                    continue  # drain: the producer must never block on a dead worker
                try:
                    done = await load_batch(connection, batch)
                except BaseException as exc:
                    failures.append(exc)
                    continue
                report.dossiers += done.dossiers
                report.steps += done.steps
                report.ratings += done.ratings
                report.batches += 1
        finally:
            await connection.close()

    tasks = [asyncio.create_task(worker(queue)) for queue in queues]
    pending: list[list[BulkDossier]] = [[] for _ in queues]
    try:
        for dossier in dossiers:
            shard = dossier.agency_id.int % connections
            pending[shard].append(dossier)
            if len(pending[shard]) >= batch_size:
                await queues[shard].put(pending[shard])
                pending[shard] = []
            if failures:
                break
        for shard, batch in enumerate(pending):
            if batch and not failures:
                await queues[shard].put(batch)
    finally:
        for queue in queues:
            await queue.put(None)
        await asyncio.gather(*tasks)
    if failures:
        raise failures[0]
    report.seconds = time.perf_counter() - started
    return report


# --- the command line ----------------------------------------------------------------------------


def _database_dsn() -> str:
    from services.core.config import Settings

    # a session of its own (``SET synchronous_commit``, COPY): never through a transaction pooler
    return asyncpg_dsn(Settings().db.resolved_direct_url())


async def _main(arguments: argparse.Namespace) -> int:
    dsn = asyncpg_dsn(arguments.url) if arguments.url else _database_dsn()
    if arguments.command == "load":
        async with _connect(dsn) as connection:
            catalogue = await InputCatalogue.read(connection)
        report = await load(
            dsn, read_jsonl(arguments.file, catalogue), batch_size=arguments.batch, connections=arguments.connections
        )
        print(
            f"loaded {report.dossiers} dossiers, {report.steps} steps, {report.ratings} ratings "
            f"in {report.seconds:.1f} s"
        )
        return 0
    if arguments.command == "rebuild":
        started = time.perf_counter()
        await rebuild(dsn)
        print(f"aggregates rebuilt in {time.perf_counter() - started:.1f} s")
        return 0
    differences = await verify(dsn)
    for table, count in differences.items():
        print(f"{table}: {count} rows differ from a recount")
    return 1 if any(differences.values()) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.stats.bulk", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("MOTCUA_BULK_DATABASE_URL"), help="database URL")
    commands = parser.add_subparsers(dest="command", required=True)
    load_command = commands.add_parser("load", help="load dossiers from a JSON-lines file")
    load_command.add_argument("file", type=Path)
    load_command.add_argument("--batch", type=int, default=20_000)
    load_command.add_argument("--connections", type=int, default=2)
    commands.add_parser("rebuild", help="recount every statistics aggregate")
    commands.add_parser("verify", help="compare the aggregates with a recount")
    arguments = parser.parse_args(argv)
    try:
        return asyncio.run(_main(arguments))
    except BulkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["HISTORICAL", "LoadReport", "asyncpg_dsn", "load", "load_batch", "main"]
