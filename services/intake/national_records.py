"""The national catalogue's records (CSDL quốc gia về TTHC) read, and each one planned as the rows of a
procedure version — pure: no database (``services.intake.national_import`` writes the rows).

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
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.dossier.catalogued import NATIONAL_ORIGIN

CURATED_PATH = Path(__file__).parents[1] / "demo" / "data" / "procedures.json"
CATALOGUE = "dichvucong.gov.vn, public crawl 2026-07-18"
IN_FORCE_STATES = frozenset({"ACTIVE", "UPDATED"})
UNKNOWN = "unknown"

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
