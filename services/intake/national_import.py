"""Import the national procedure catalogue (CSDL quốc gia về TTHC): ``python -m services.intake.national_import``.

The file is JSON lines, one procedure a line (``services/intake/data/national_catalogue.jsonl.gz``, a copy
of the public crawl of dichvucong.gov.vn dated 2026-07-18; plain ``.jsonl`` works too). Running the
command again with the same file changes nothing; running it with an updated file applies the
differences with the catalogue's versioning rules (``services.intake.catalogue``):

- a procedure not in the database gets version 1, valid from today (the date in Vietnam);
- a procedure whose record changed (anything but its ``state``: a content hash is kept in the
  version's ``source``) gets version N+1 valid from today, and version N ends today (``valid_to``);
  its name, field and level are updated on the procedure (they are not versioned);
- a procedure no longer in the file, or whose ``state`` is no longer ``ACTIVE`` or ``UPDATED`` (the
  two states of a record in force), ends today; it reappears as a new version if it comes back.
  Nothing is ever deleted, and a version's rules are never edited.

Local procedures win. The importer only ever touches procedures whose latest version it created
(``source.origin == "national"``), and never the codes of the curated demo catalogue
(``services/demo/data/procedures.json``, the source of the demo workflows, time shares and fees),
even before the demo seed has run: where codes overlap, the curated record is the one shown.

How a national record becomes a version is ``services.intake.national_records`` (pure: no database).

It is fast by construction: one query reads the state of every procedure, and the writes are bulk
``INSERT``/``UPDATE`` statements in batches, in one transaction.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import get_settings
from services.core.db import create_engine, create_sessionmaker, transaction
from services.core.text import procedure_search_text
from services.dossier.catalogued import NATIONAL_ORIGIN
from services.intake.catalogue import local_today
from services.intake.national_records import Planned, curated_codes, plan, read_records
from services.models import Procedure, ProcedureDocument, ProcedureFee, ProcedureVersion

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_PATH = DATA_DIR / "national_catalogue.jsonl.gz"
BATCH = 1000


# --- the import ------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    ended: int = 0
    unchanged: int = 0
    local: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.created} new, {self.updated} new versions, {self.ended} ended, {self.unchanged} unchanged, "
            f"{self.local} left to the local catalogue"
        )


@dataclass(frozen=True)
class _Latest:
    procedure_id: uuid.UUID
    name: str
    field: str
    level: str
    version_id: uuid.UUID
    version: int
    valid_from: date
    valid_to: date | None
    origin: str | None
    digest: str | None

    def open_on(self, today: date) -> bool:
        return self.valid_to is None or self.valid_to > today


Progress = Callable[[int, int], None]


async def _latest_versions(session: AsyncSession) -> dict[str, _Latest]:
    rows = await session.execute(
        select(
            Procedure.code,
            Procedure.id,
            Procedure.name,
            Procedure.field,
            Procedure.level,
            ProcedureVersion.id,
            ProcedureVersion.version,
            ProcedureVersion.valid_from,
            ProcedureVersion.valid_to,
            ProcedureVersion.source["origin"].astext,
            ProcedureVersion.source["hash"].astext,
        )
        .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
        .ext(distinct_on(Procedure.id))
        .order_by(Procedure.id, ProcedureVersion.version.desc())
    )
    return {row[0]: _Latest(*row[1:]) for row in rows.all()}


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


async def import_catalogue(
    session: AsyncSession,
    records: Iterable[Mapping[str, Any]],
    *,
    today: date,
    reserved: Iterable[str] = (),
    progress: Progress | None = None,
) -> ImportReport:
    """Bring the national procedures in line with ``records``; flushes, never commits.

    ``progress(done, total)`` is called as the records are compared, and once more when written.
    """
    report = ImportReport()
    planned: dict[str, Planned] = {}
    for record in records:
        try:
            item = plan(record)
        except (KeyError, TypeError, ValueError):
            report.skipped.append(str(record.get("code", "?")))
            continue
        planned[item.code] = item  # a code listed twice: the last line wins
    reserved_codes = set(reserved)
    latest = await _latest_versions(session)

    procedures: list[dict[str, Any]] = []
    renamed: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    ending: dict[date, list[uuid.UUID]] = {}

    def add_version(item: Planned, procedure_id: uuid.UUID, number: int, valid_from: date) -> None:
        version_id = uuid.uuid4()
        versions.append(
            {
                "id": version_id,
                "procedure_id": procedure_id,
                "version": number,
                "valid_from": valid_from,
                "valid_to": None,
                "published": True,
                "time_limit_value": item.time_limit_value,
                "time_limit_unit": item.time_limit_unit,
                "cutoff_rule": False,
                "clock_restarts_on_supplement": False,
                "online_mode": item.online_mode,
                "interagency": False,
                "postal_submission": item.postal_submission,
                "postal_return": item.postal_return,
                "result_description": None,
                "legal_basis": [],
                "source": item.source,
            }
        )
        documents.extend(
            {
                "id": uuid.uuid4(),
                "version_id": version_id,
                "position": position,
                "code": f"D{position:02d}",
                "name": name,
                "form": "unspecified",
                "mandatory": True,
                "template_path": None,
            }
            for position, name in enumerate(item.documents, start=1)
        )
        fees.extend(
            {
                "id": uuid.uuid4(),
                "version_id": version_id,
                "position": position,
                "kind": kind,
                "name": name,
                "amount_vnd": amount,
                "note": None,
            }
            for position, (kind, name, amount) in enumerate(item.fees, start=1)
        )

    done = 0
    total = len(planned)
    for code, item in planned.items():
        done += 1
        if progress is not None and done % 250 == 0:
            progress(done, total)
        current = latest.get(code)
        if code in reserved_codes or (current is not None and current.origin != NATIONAL_ORIGIN):
            report.local += 1
            continue
        if current is None:
            if not item.in_force:
                report.unchanged += 1  # never imported and not in force: nothing to record
                continue
            procedure_id = uuid.uuid4()
            procedures.append(
                {
                    "id": procedure_id,
                    "code": code,
                    "name": item.name,
                    "field": item.field,
                    "level": item.level,
                    "search_text": procedure_search_text(code, item.name, item.field),
                }
            )
            add_version(item, procedure_id, 1, today)
            report.created += 1
            continue
        is_open = current.open_on(today)
        if not item.in_force:
            if is_open:
                ending.setdefault(today, []).append(current.version_id)
                report.ended += 1
            else:
                report.unchanged += 1
            continue
        if is_open and current.digest == item.digest:
            report.unchanged += 1
            continue
        # changed, or back in the file after it ended: version N+1 from today, version N ends there
        valid_from = max(today, current.valid_from)
        if is_open:
            ending.setdefault(valid_from, []).append(current.version_id)
        add_version(item, current.procedure_id, current.version + 1, valid_from)
        if (current.name, current.field, current.level) != (item.name, item.field, item.level):
            renamed.append(
                {
                    "id": current.procedure_id,
                    "name": item.name,
                    "field": item.field,
                    "level": item.level,
                    "search_text": procedure_search_text(code, item.name, item.field),
                }
            )
        report.updated += 1

    for code, current in latest.items():
        if code in planned or current.origin != NATIONAL_ORIGIN or code in reserved_codes:
            continue
        if current.open_on(today):  # gone from the file
            ending.setdefault(today, []).append(current.version_id)
            report.ended += 1

    for end, version_ids in ending.items():
        for start in range(0, len(version_ids), BATCH):
            await session.execute(
                update(ProcedureVersion)
                .where(ProcedureVersion.id.in_(version_ids[start : start + BATCH]))
                .values(valid_to=end, updated_at=func.now())
            )
    if renamed:
        await session.execute(update(Procedure), renamed)
    for model, rows in (
        (Procedure, procedures),
        (ProcedureVersion, versions),
        (ProcedureDocument, documents),
        (ProcedureFee, fees),
    ):
        for batch in _batches(rows):
            await session.execute(insert(model), batch)
    if procedures or versions or ending:
        # fresh statistics, or the planner keeps its empty-table guesses and scans instead of using the
        # trigram index (ANALYZE is allowed inside the transaction and sees its rows)
        await session.execute(text("ANALYZE procedure, procedure_version, procedure_document, procedure_fee"))
    if progress is not None:
        progress(total, total)
    await session.flush()
    return report


# --- command line ----------------------------------------------------------------------------------


class ProgressLine:
    """A one-line progress bar on stderr, redrawn in place on a terminal, written once otherwise."""

    WIDTH = 30

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent == self.last or (not self.tty and done < total):
            return
        self.last = percent
        filled = self.WIDTH * done // max(total, 1)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        end = "\n" if done >= total else ""
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {done}/{total} {elapsed:.1f}s{end}")
        self.stream.flush()


async def _run(path: Path) -> ImportReport:
    records = read_records(path)
    settings = get_settings()
    engine = create_engine(settings, application_name="motcua-national-import", pool_size=1)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await import_catalogue(
                session,
                records,
                today=local_today(settings.clock().now()),  # the demo's moved clock too
                reserved=curated_codes(),
                progress=ProgressLine("national catalogue"),
            )
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Import the file named on the command line (default: the shipped copy) in one transaction."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in {"-h", "--help"}:
        print(__doc__.splitlines()[0] if __doc__ else "")
        return 0
    path = Path(args[0]) if args else get_settings().catalogue.path
    if not path.exists():
        print(f"No such file: {path}", file=sys.stderr)
        return 2
    report = asyncio.run(_run(path))
    print(f"national catalogue ({path.name}): {report.summary()}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} unreadable records: {', '.join(report.skipped[:10])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
