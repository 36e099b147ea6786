"""The demo's procedures as the curated source gives them (``data/procedures.json``) and the workflow
planned for each.

Choices worth knowing:

- Commune-level procedures are received and resolved by the ward that receives the dossier, so
  their workflow steps leave ``agency_id`` null; residence procedures (Công an cấp xã) included.
- Records without a time limit, or with one in calendar days, are skipped (``skip_reason``) and listed in
  the seed's report. "Trong ngày" records with value 0 keep 0 working days and a single step at the desk.
  Two of them, the certifications 2.000815 and 2.000884, are "4 tại chỗ" (``ON_THE_SPOT_PROCEDURES``):
  their template is flagged ``on_the_spot`` and its step is for the delegation role ``on_the_spot``.
- The steps' shares add up exactly to the time limit, in half days (``approve_share``, ``apportion``).

Pure: nothing here touches the database; ``services.demo.seed`` turns the plans into rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from importlib import resources
from typing import Any, NotRequired, TypedDict

from services.demo.directory import PROVINCE_RESOLVER_BY_FIELD, match_partner
from services.dossier.steps import ON_THE_SPOT_ROLE

WORKING_DAYS = "working_days"

# --- procedures as the source gives them ---------------------------------------------------------


class SourceTimeLimit(TypedDict):
    value: int | None
    unit: str | None
    same_day: bool
    cutoff_15h_rule: bool | None
    note: str | None


class SourceLienThongAgency(TypedDict):
    agency: str
    step: str
    time_limit: str | None


class SourceLienThong(TypedDict):
    agencies: list[SourceLienThongAgency]
    total_time: str | None
    split_note: str | None


class SourceDocument(TypedDict):
    name: str
    form: str
    mandatory: bool
    note: NotRequired[str]


class SourceFee(TypedDict):
    type: str
    name: str
    amount_vnd: int | None
    basis: str | None
    note: str | None
    exemptions: list[str]


class ProcedureRecord(TypedDict):
    """One record of ``data/procedures.json`` (described in the data README)."""

    id: str
    code: str
    code_note: str | None
    name_vi: str
    field: str
    level: str
    resolving_agency: str
    coordinating_agencies: list[str]
    is_lien_thong: bool
    lien_thong: SourceLienThong | None
    time_limit: SourceTimeLimit
    online_mode: str | None
    submission_channels: list[str]
    postal_return: bool | None
    result: str | None
    documents: list[SourceDocument]
    fees: list[SourceFee]
    legal_basis: list[str]
    sources: list[dict[str, str | None]]
    uncertain: bool
    uncertainty_note: str | None


def load_procedure_records() -> list[ProcedureRecord]:
    """The curated procedures shipped with the package (a copy of the shared reference data)."""
    text = resources.files("services.demo").joinpath("data/procedures.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    records: list[ProcedureRecord] = data["procedures"]
    return records


def skip_reason(record: ProcedureRecord) -> str | None:
    """Why a record cannot be loaded as a working-day procedure yet, or None."""
    limit = record["time_limit"]
    if limit["value"] is None:
        return "no time limit stated in the source"
    if limit["unit"] != WORKING_DAYS:
        return f"time limit in {limit['unit']}: calendar-day limits are not supported yet"
    return None


_ONLINE_MODES = {"toàn trình": "full", "một phần": "partial", "trực tiếp": "none"}


def parse_online_mode(value: str | None) -> str:
    if value is None:
        return "none"
    try:
        return _ONLINE_MODES[value]
    except KeyError:
        raise ValueError(f"unknown online mode {value!r}") from None


# --- workflow templates ---------------------------------------------------------------------------

RECEIVE_ACTIONS = ("forward", "request_supplement", "withdraw")
APPRAISE_ACTIONS = ("forward", "send_back", "request_supplement", "request_payment", "transfer", "stop", "withdraw")
APPROVE_ACTIONS = ("forward", "send_back", "resolve", "stop")
INTERAGENCY_ACTIONS = ("forward", "send_back", "request_supplement", "request_payment", "stop")
RETURN_ACTIONS = ("return_result", "apologize")
RESOLVE_AT_DESK_ACTIONS = ("resolve", "return_result", "request_supplement", "stop")
# "4 tại chỗ" (services.workflow.on_the_spot): the two certifications (chứng thực bản sao, chứng thực chữ ký)
# a ward's delegated counter officer resolves while the citizen waits; their step is for the delegation role
ON_THE_SPOT_PROCEDURES = frozenset({"2.000815", "2.000884"})

HALF_DAY = Decimal("0.5")
_STEP_NAME_LENGTH = 300


@dataclass(frozen=True)
class StepPlan:
    """A workflow step before it is bound to rows; ``agency`` is a demo agency key, None = receiving agency."""

    code: str
    name: str
    agency: str | None
    role: str
    share: Decimal
    actions: tuple[str, ...]


def approve_share(total: Decimal) -> Decimal:
    """The approval step's share: 20% of the limit rounded to half days, at least half a day."""
    half_days = (total * Decimal("0.4")).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    share = half_days * HALF_DAY
    if total >= 1:
        share = max(share, HALF_DAY)
    return min(share, total)


_WORKING_DAYS_TEXT = re.compile(r"(\d+(?:[.,]\d+)?)\s*ngày làm việc")


def parse_working_days(text: str | None) -> Decimal | None:
    """The first "NN ngày làm việc" in the source's wording ("tối đa 02 ngày làm việc" → 2)."""
    if not text:
        return None
    found = _WORKING_DAYS_TEXT.search(text)
    return Decimal(found.group(1).replace(",", ".")) if found else None


def apportion(budget: Decimal, stated: Sequence[Decimal | None]) -> list[Decimal]:
    """Split ``budget`` days among steps in half days, keeping the exact total.

    Steps whose time the source states get it and the others share what is left evenly. When
    the stated times add up to more than the budget, the source's steps run side by side (as the
    residence and health-insurance steps of the birth-registration group do), so the budget is
    shared in proportion to them instead.
    """
    if not stated:
        raise ValueError("no steps to share the time among")
    units = int(budget * 2)
    stated_units = [None if days is None else int((days * 2).to_integral_value(ROUND_HALF_UP)) for days in stated]
    known = sum(unit for unit in stated_units if unit is not None)
    unknown = [index for index, unit in enumerate(stated_units) if unit is None]
    if known <= units and unknown:
        result = [unit or 0 for unit in stated_units]
        rest = units - known
        for order, index in enumerate(unknown):
            result[index] = rest // len(unknown) + (1 if order < rest % len(unknown) else 0)
    elif known <= units:
        # every time is stated and some budget is left: the first partner, who opens the file, gets it
        result = [unit or 0 for unit in stated_units]
        result[0] += units - known
    else:
        mean = Fraction(known, len(stated_units) - len(unknown))
        weights = [mean if unit is None else Fraction(unit) for unit in stated_units]
        result = _largest_remainder(units, weights)
    return [Decimal(unit) * HALF_DAY for unit in result]


def _largest_remainder(units: int, weights: Sequence[Fraction]) -> list[int]:
    total = sum(weights, Fraction(0))
    quotas = [units * weight / total for weight in weights]
    result = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda index: (-(quotas[index] - result[index]), index))
    for index in by_remainder[: units - sum(result)]:
        result[index] += 1
    return result


# the English names of the demo's standard steps (a step named from the national data has none: the
# SPA shows its Vietnamese name in English mode too, rather than an invented translation)
STEP_NAMES_EN: dict[str, str] = {
    "Tiếp nhận hồ sơ": "Receive the dossier",
    "Thẩm định, xử lý hồ sơ": "Appraise and handle the dossier",
    "Phê duyệt, ký kết quả": "Approve and sign the result",
    "Trả kết quả": "Return the result",
    "Giải quyết và trả kết quả tại chỗ": "Resolve and return at the desk",
}


def short_name(name: str) -> str:
    return name if len(name) <= _STEP_NAME_LENGTH else name[: _STEP_NAME_LENGTH - 1].rstrip() + "…"


def plan_steps(record: ProcedureRecord) -> list[StepPlan]:
    """The workflow of a loadable record; the shares add up exactly to its time limit."""
    value = record["time_limit"]["value"]
    if value is None:
        raise ValueError(f"{record['code']}: no time limit")
    total = Decimal(value)
    if total == 0:
        at_desk = "Giải quyết và trả kết quả tại chỗ"
        role = ON_THE_SPOT_ROLE if record["code"] in ON_THE_SPOT_PROCEDURES else "counter"
        return [StepPlan("resolve_at_desk", at_desk, None, role, total, RESOLVE_AT_DESK_ACTIONS)]
    resolver = resolving_agency_key(record)
    receive = StepPlan("receive", "Tiếp nhận hồ sơ", None, "counter", Decimal(0), RECEIVE_ACTIONS)
    give_back = StepPlan("return", "Trả kết quả", None, "counter", Decimal(0), RETURN_ACTIONS)
    lien_thong = record["lien_thong"]
    if record["is_lien_thong"] and lien_thong and lien_thong["agencies"]:
        middle = _interagency_steps(record, lien_thong["agencies"], total, resolver)
    else:
        approve = approve_share(total)
        middle = [
            StepPlan("appraise", "Thẩm định, xử lý hồ sơ", resolver, "specialist", total - approve, APPRAISE_ACTIONS),
            StepPlan("approve", "Phê duyệt, ký kết quả", resolver, "head", approve, APPROVE_ACTIONS),
        ]
    return [receive, *middle, give_back]


def _interagency_steps(
    record: ProcedureRecord, entries: Sequence[SourceLienThongAgency], total: Decimal, resolver: str | None
) -> list[StepPlan]:
    partners: list[tuple[SourceLienThongAgency, str | None]] = []
    approve_name = "Phê duyệt, ký kết quả"
    approve_stated: Decimal | None = None
    for entry in entries:
        key = match_partner(entry["agency"])
        if key == "chair":
            approve_name, approve_stated = entry["step"], parse_working_days(entry["time_limit"])
            continue
        if key is None:
            raise ValueError(f"{record['code']}: no demo agency for liên thông partner {entry['agency']!r}")
        partners.append((entry, _step_agency(record, key)))
    approve = approve_share(total) if approve_stated is None else min(approve_stated, total)
    shares = apportion(total - approve, [parse_working_days(entry["time_limit"]) for entry, _ in partners])
    steps = [
        StepPlan(f"interagency_{number}", short_name(entry["step"]), agency, "specialist", share, INTERAGENCY_ACTIONS)
        for number, ((entry, agency), share) in enumerate(zip(partners, shares, strict=True), start=1)
    ]
    steps.append(StepPlan("approve", short_name(approve_name), resolver, "head", approve, APPROVE_ACTIONS))
    return steps


def _step_agency(record: ProcedureRecord, key: str) -> str | None:
    if key != "ward":
        return key
    if record["level"] == "commune":
        return None  # the ward that received the dossier
    raise ValueError(f"{record['code']}: a province-level step cannot name an unspecified commune")


def resolving_agency_key(record: ProcedureRecord) -> str | None:
    """The demo agency resolving a record; None for commune-level ones (the receiving ward)."""
    if record["level"] == "commune":
        return None
    try:
        return PROVINCE_RESOLVER_BY_FIELD[record["field"]]
    except KeyError:
        raise ValueError(f"{record['code']}: no resolving department for field {record['field']!r}") from None
