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

How a national record becomes a version (``source`` keeps the rest of the record):

- ``level``: the record's ``levels`` when it has them, else derived from its departments' names
  ("… cấp xã" → commune, "… cấp tỉnh", "Sở …" → province, "Bộ …", "Cục …" → ministry), else
  ``unknown``; ``source.levels`` holds them all and ``source.levels_derived`` says which way.
- The time limit comes from the first method (counter, then post, then online) that states one:
  ``WORKING_DAY`` → working_days, ``DAY`` → days, ``HOUR`` → hours, ``MONTH`` → months; a text
  (unit ``OTHER``) is read when it states exactly one "N ngày làm việc" / "N giờ làm việc" / "N ngày"
  (an extension "tăng thêm … N ngày" for remote communes is not the limit and is ignored).
  Otherwise the unit is ``unknown`` and the value 0 (a documented sentinel, never an invented number);
  the text itself is kept as ``source.time_limit_text`` and shown.
- ``online_mode``: ``full_online`` → full, ``offline_only`` → none, else partial; ``unknown`` when the
  record carries no details (5,168 of 5,670). Postal submission and return are true only when the
  record says so (a ``POSTAL`` method; ``AT_HOME`` among the returning ways).
- Fees of the same method: ``FEE`` → lệ phí, ``SERVICE_FEE`` → phí, ``PRICE_LEVEL`` → other;
  ``vnd`` null stays null (set by the province). Documents keep their names, with form
  ``unspecified`` (the record does not say).

It is fast by construction: one query reads the state of every procedure, and the writes are bulk
``INSERT``/``UPDATE`` statements in batches, in one transaction.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
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
from services.intake.catalogue import NATIONAL_ORIGIN, local_today
from services.models import Procedure, ProcedureDocument, ProcedureFee, ProcedureVersion

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_PATH = DATA_DIR / "national_catalogue.jsonl.gz"
CURATED_PATH = Path(__file__).parents[1] / "demo" / "data" / "procedures.json"
CATALOGUE = "dichvucong.gov.vn, public crawl 2026-07-18"
IN_FORCE_STATES = frozenset({"ACTIVE", "UPDATED"})
UNKNOWN = "unknown"
BATCH = 1000

_METHOD_ORDER = {"DIRECT": 0, "POSTAL": 1, "ONLINE": 2}
_UNITS = {"WORKING_DAY": "working_days", "DAY": "days", "HOUR": "hours", "MONTH": "months"}
_FEE_KINDS = {"FEE": ("lệ phí", "Lệ phí"), "SERVICE_FEE": ("phí", "Phí"), "PRICE_LEVEL": ("other", "Mức giá")}
_TEXT_LIMITS = (
    (re.compile(r"(\d+)\s*ngày làm việc", re.IGNORECASE), "working_days"),
    (re.compile(r"(\d+)\s*giờ làm việc", re.IGNORECASE), "working_hours"),
    (re.compile(r"(\d+)\s*ngày(?!\s*làm việc)", re.IGNORECASE), "days"),
)
_EXTENSION = "thêm"  # "tăng thêm không quá 10 ngày" for remote communes: an extension, not the limit
_LEVEL_HINTS = (
    ("commune", ("cấp xã", "ủy ban nhân dân xã", "ubnd xã", "phường", "đặc khu")),
    ("province", ("cấp tỉnh", "sở ", "tỉnh", "thành phố trực thuộc trung ương")),
    ("ministry", ("bộ ", "cục ", "tổng cục", "chính phủ", "thủ tướng", "ngân hàng nhà nước việt nam")),
)
_LEVEL_ORDER = ("province", "commune", "ministry")


# --- reading ---------------------------------------------------------------------------------------


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of the file (gzip when the name ends in .gz); blank lines are skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def curated_codes(path: Path = CURATED_PATH) -> frozenset[str]:
    """The codes of the curated demo catalogue: never imported over."""
    if not path.exists():
        return frozenset()
    return frozenset(record["code"] for record in json.loads(path.read_text(encoding="utf-8"))["procedures"])


# --- one record → the rows of a version ------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """What one national record becomes: the procedure's columns and one version's rules."""

    code: str
    name: str
    field: str
    level: str
    in_force: bool
    digest: str
    time_limit_value: int
    time_limit_unit: str
    online_mode: str
    postal_submission: bool
    postal_return: bool
    source: dict[str, Any]
    documents: list[str]
    fees: list[tuple[str, str, int | None]]


def _clean(text: str) -> str:
    return " ".join(text.split())


def _digest(record: Mapping[str, Any]) -> str:
    content = {key: value for key, value in record.items() if key != "state"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def derive_levels(departments: Sequence[str]) -> list[str]:
    """Levels named by the departments ("Ủy ban nhân dân cấp xã" → commune …), in a fixed order."""
    found: set[str] = set()
    for department in departments:
        folded = f"{department.lower()} "
        for level, hints in _LEVEL_HINTS:
            if any(hint in folded for hint in hints):
                found.add(level)
                break
    return [level for level in _LEVEL_ORDER if level in found]


def parse_time_limit(time: object, unit: object) -> tuple[int, str] | None:
    """(value, unit) of one method's time, or None when it states no single usable figure."""
    if isinstance(time, bool):
        return None
    if isinstance(time, int | float) and unit in _UNITS:
        if float(time) != int(time) or time < 0:
            return None  # e.g. 0.5 working days: shown as the record words it, not rounded
        return int(time), _UNITS[str(unit)]
    if isinstance(time, str):
        found: set[tuple[int, str]] = set()
        rest = time
        for pattern, text_unit in _TEXT_LIMITS:
            found.update(
                (int(match.group(1)), text_unit)
                for match in pattern.finditer(rest)
                if _EXTENSION not in rest[max(0, match.start() - 30) : match.start()].lower()
            )
            rest = pattern.sub(" ", rest)
        if len(found) == 1:
            return found.pop()
    return None


def _methods(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    methods = [method for method in record.get("methods") or [] if isinstance(method, dict)]
    return sorted(methods, key=lambda method: _METHOD_ORDER.get(str(method.get("channel")), 9))


def plan(record: Mapping[str, Any]) -> Planned:
    """The procedure and version one national record describes (pure: no database)."""
    details = "methods" in record
    departments = [_clean(d) for d in record.get("departments") or [] if isinstance(d, str) and d.strip()]
    fields = [_clean(f) for f in record.get("fields") or [] if isinstance(f, str) and f.strip()]
    explicit = [level for level in record.get("levels") or [] if isinstance(level, str)]
    levels = explicit or derive_levels(departments)
    level = next((candidate for candidate in _LEVEL_ORDER if candidate in levels), levels[0] if levels else UNKNOWN)
    methods = _methods(record)
    limit: tuple[int, str] | None = None
    for method in methods:
        limit = parse_time_limit(method.get("time"), method.get("unit"))
        if limit is not None:
            break
    first = methods[0] if methods else {}
    time_text = first.get("time")
    time_limit_text = _clean(time_text) if isinstance(time_text, str) else None
    if (
        time_limit_text is None
        and limit is None
        and isinstance(time_text, int | float)
        and not isinstance(time_text, bool)
    ):
        time_limit_text = f"{time_text} ({first.get('unit')})"
    if record.get("full_online"):
        online_mode = "full"
    elif record.get("offline_only"):
        online_mode = "none"
    else:
        online_mode = "partial" if details else UNKNOWN
    channels = sorted({str(method.get("channel")) for method in methods})
    returning = sorted(
        {
            str(way)
            for entry in record.get("returning") or []
            if isinstance(entry, dict)
            for way in entry.get("value") or []
        }
    )
    fees: list[tuple[str, str, int | None]] = []
    for fee in first.get("fees") or []:
        kind, name = _FEE_KINDS.get(str(fee.get("type")), ("other", str(fee.get("type"))))
        amount = fee.get("vnd")
        row = (kind, name, int(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None)
        if row not in fees:
            fees.append(row)
    source: dict[str, Any] = {
        "origin": NATIONAL_ORIGIN,
        "catalogue": CATALOGUE,
        "hash": _digest(record),
        "state": record.get("state"),
        "type": record.get("type"),
        "published_by": record.get("published_by"),
        "departments": departments,
        "fields": fields,
        "target": [t for t in record.get("target") or [] if isinstance(t, str)],
        "levels": levels,
        "levels_derived": not explicit,
        "details": details,
        "channels": channels,
        "returning": returning,
        "time_limit_text": time_limit_text,
    }
    return Planned(
        code=str(record["code"]).strip(),
        name=_clean(str(record.get("name") or record["code"])),
        field=(fields[0] if fields else "Khác")[:200],
        level=level,
        in_force=record.get("state") in IN_FORCE_STATES,
        digest=source["hash"],
        time_limit_value=limit[0] if limit else 0,
        time_limit_unit=limit[1] if limit else UNKNOWN,
        online_mode=online_mode,
        postal_submission="POSTAL" in channels,
        postal_return="AT_HOME" in returning,
        source=source,
        documents=[_clean(d) for d in record.get("documents") or [] if isinstance(d, str) and d.strip()],
        fees=fees,
    )


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
