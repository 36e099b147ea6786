"""Load the demo data (DESIGN "Demo data") into one session: agencies, roles, staff, procedures, workflows.

The province is Thành phố Hải Phòng, whose decisions and fee resolutions most records of
``data/procedures.json`` cite. Agency codes follow the national pattern of dossier codes
(``000.<unit>.<agency>.H<province>``, as in ``000.17.22.H56``) but they are DEMO codes: ``H26``
and every number below are made up and are not the real identifiers of Hải Phòng's agencies.

Choices worth knowing:

- The province specialist and head (``chuyenvien``, ``lanhdao``) work at Văn phòng Đăng ký đất
  đai (the land registration office of Sở Nông nghiệp và Môi trường), which resolves four of the
  eight province-level demo procedures, one of them inter-agency (liên thông).
- Police, tax and social insurance are central (vertical) agencies; they hang under the city's
  root only so that the agency tree stays one tree. Liên thông partners named "Công an cấp xã",
  "Thuế cơ sở" or "Đơn vị đo đạc" map to Công an thành phố, Thuế thành phố and Văn phòng Đăng ký
  đất đai: their internal routing is outside the one-stop system.
- Commune-level procedures are received and resolved by the ward that receives the dossier, so
  their workflow steps leave ``agency_id`` null; residence procedures (Công an cấp xã) included.
- Records without a time limit, or with one in calendar days, are skipped and listed in the report.
  "Trong ngày" records with value 0 keep 0 working days and a single step at the desk. Two of them, the
  certifications 2.000815 and 2.000884, are "4 tại chỗ" (``ON_THE_SPOT_PROCEDURES``): their template is
  flagged ``on_the_spot`` and its step is for the delegation role ``on_the_spot``, which both ward counter
  officers (``tiepnhan.xa``, ``tiepnhan.lechan``) hold.
- ``postal_return`` null in the source (unknown) is stored as False, flagged in ``source``.

The loader is idempotent: it looks rows up by their natural keys, inserts only what is missing and
only flushes; ``python -m services.demo.seed`` runs it in one transaction against the configured
database.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sys
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from importlib import resources
from typing import Any, NotRequired, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import hash_password
from services.core.config import Settings, get_settings
from services.core.db import create_engine, create_sessionmaker, transaction
from services.core.text import procedure_search_text
from services.dossier.steps import ON_THE_SPOT_ROLE
from services.models import (
    Agency,
    AgencyLevel,
    Procedure,
    ProcedureAgency,
    ProcedureDocument,
    ProcedureFee,
    ProcedureVersion,
    Role,
    Staff,
    StaffRole,
    WorkflowStep,
    WorkflowTemplate,
    WorkingCalendar,
)
from services.models.calendar import DEFAULT_WEEKLY_WINDOWS

TWO_TIER_SINCE = date(2025, 7, 1)
DEMO_PASSWORD = "demo"  # noqa: S105 - DESIGN: every demo account's password; loaded only in demo mode
DEMO_EMAIL_DOMAIN = "demo.motcua.vn"
WORKING_DAYS = "working_days"
COUNTER_CUTOFF = time(15, 0)


# --- agencies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLevel:
    code: str
    name_vi: str
    name_en: str
    rank: int


DEMO_LEVELS: tuple[DemoLevel, ...] = (
    DemoLevel("province", "Cấp tỉnh (tỉnh, thành phố trực thuộc trung ương)", "Province", 0),
    DemoLevel("department", "Sở, ban, ngành cấp tỉnh", "Provincial department or agency", 1),
    DemoLevel("commune", "Cấp xã (xã, phường, đặc khu)", "Commune, ward or special zone", 1),
    DemoLevel("unit", "Phòng, đơn vị trực thuộc", "Office or unit of an agency", 2),
)


@dataclass(frozen=True)
class DemoAgency:
    key: str
    code: str
    name: str
    level: str
    parent: str | None = None
    one_stop_desk: bool = False
    street_address: str | None = None
    postal_hours: str | None = None


# When the demo desks receive the postman (services.intake.postal): their opening hours on working days
DEMO_POSTAL_HOURS = "Thứ Hai–Thứ Sáu 7:30–11:30, 13:30–17:00"

DEMO_AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency("province", "000.00.00.H26", "Ủy ban nhân dân thành phố Hải Phòng", "province"),
    DemoAgency(
        "centre",
        "000.00.01.H26",
        "Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
        "department",
        "province",
        one_stop_desk=True,
        street_address="Số 18 Hoàng Diệu, phường Hồng Bàng, thành phố Hải Phòng",
        postal_hours=DEMO_POSTAL_HOURS,
    ),
    DemoAgency("justice", "000.00.02.H26", "Sở Tư pháp thành phố Hải Phòng", "department", "province"),
    DemoAgency(
        "agriculture", "000.00.03.H26", "Sở Nông nghiệp và Môi trường thành phố Hải Phòng", "department", "province"
    ),
    DemoAgency("land_office", "000.01.03.H26", "Văn phòng Đăng ký đất đai thành phố Hải Phòng", "unit", "agriculture"),
    DemoAgency("construction", "000.00.04.H26", "Sở Xây dựng thành phố Hải Phòng", "department", "province"),
    DemoAgency("finance", "000.00.05.H26", "Sở Tài chính thành phố Hải Phòng", "department", "province"),
    DemoAgency("health", "000.00.06.H26", "Sở Y tế thành phố Hải Phòng", "department", "province"),
    DemoAgency("home_affairs", "000.00.07.H26", "Sở Nội vụ thành phố Hải Phòng", "department", "province"),
    DemoAgency("industry_trade", "000.00.08.H26", "Sở Công Thương thành phố Hải Phòng", "department", "province"),
    DemoAgency("tax", "000.00.09.H26", "Thuế thành phố Hải Phòng", "department", "province"),
    DemoAgency("police", "000.00.10.H26", "Công an thành phố Hải Phòng", "department", "province"),
    DemoAgency("social_insurance", "000.00.11.H26", "Bảo hiểm xã hội thành phố Hải Phòng", "department", "province"),
    DemoAgency(
        "ward_hong_bang",
        "000.00.31.H26",
        "Ủy ban nhân dân phường Hồng Bàng",
        "commune",
        "province",
        one_stop_desk=True,
        street_address="Số 1 Hoàng Văn Thụ, phường Hồng Bàng, thành phố Hải Phòng",
        postal_hours=DEMO_POSTAL_HOURS,
    ),
    DemoAgency(
        "ward_le_chan",
        "000.00.32.H26",
        "Ủy ban nhân dân phường Lê Chân",
        "commune",
        "province",
        one_stop_desk=True,
        street_address="Số 2 Hai Bà Trưng, phường Lê Chân, thành phố Hải Phòng",
        postal_hours=DEMO_POSTAL_HOURS,
    ),
)
_AGENCY_BY_KEY = {agency.key: agency for agency in DEMO_AGENCIES}
WARD_KEYS: tuple[str, ...] = ("ward_hong_bang", "ward_le_chan")

# Which department resolves a province-level procedure, by field (lĩnh vực). A field missing here
# stops the load: a new record must be given an owner on purpose, not a guess.
PROVINCE_RESOLVER_BY_FIELD: dict[str, str] = {
    "Hộ tịch": "justice",
    "Chứng thực": "justice",
    # moved to the police in 2025: the record names Công an cấp tỉnh, not Sở Tư pháp
    "Lý lịch tư pháp": "police",
    "Đất đai": "land_office",
    "Xây dựng": "construction",
    "Thành lập và hoạt động doanh nghiệp": "finance",
    "An toàn thực phẩm (Y tế)": "health",
    "An toàn thực phẩm (Công Thương)": "industry_trade",
    "Lao động – Quan hệ lao động": "home_affairs",
    # social protection went from the former Sở LĐTBXH to Sở Y tế in 2025
    "Bảo trợ xã hội": "health",
}

# How the source names partner agencies, matched in this order (``Công an cấp xã`` is police, not
# the ward). "chair" is the chairman signing the result: the approval step.
_PARTNER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("chủ tịch", "chair"),
    ("công an", "police"),
    ("thuế", "tax"),
    ("bảo hiểm xã hội", "social_insurance"),
    ("đăng ký đất đai", "land_office"),
    ("vpđkđđ", "land_office"),
    ("đo đạc", "land_office"),
    ("nông nghiệp và môi trường", "agriculture"),
    ("phục vụ hành chính công", "centre"),
    ("cấp xã", "ward"),
)


def match_partner(text: str) -> str | None:
    """The demo agency key a source's agency wording points to, or None when it names none of ours."""
    folded = text.casefold()
    if folded.startswith("bộ "):  # a ministry's national database, not a local partner
        return None
    for needle, key in _PARTNER_PATTERNS:
        if needle in folded:
            return key
    return None


# --- roles and staff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRole:
    code: str
    name_vi: str
    name_en: str


DEMO_ROLES: tuple[DemoRole, ...] = (
    DemoRole("admin", "Quản trị hệ thống", "Administrator"),
    DemoRole("counter", "Cán bộ một cửa (tiếp nhận và trả kết quả)", "Counter officer (intake and return)"),
    DemoRole("specialist", "Chuyên viên xử lý hồ sơ", "Specialist (case handler)"),
    DemoRole("head", "Lãnh đạo phòng, sở (phê duyệt)", "Head of department or office (approver)"),
    DemoRole("leader", "Lãnh đạo cơ quan", "Agency leader (dashboard)"),
    DemoRole("inspector", "Cán bộ thanh tra, giám sát", "Inspector"),
)


@dataclass(frozen=True)
class DemoAccount:
    """A demo login; the password of every demo account is ``demo``."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    agency_code: str
    description: str

    @property
    def email(self) -> str:
        return f"{self.username}@{DEMO_EMAIL_DOMAIN}"


_PROVINCE = _AGENCY_BY_KEY["province"].code
_CENTRE = _AGENCY_BY_KEY["centre"].code
_LAND_OFFICE = _AGENCY_BY_KEY["land_office"].code
_DEMO_WARD = _AGENCY_BY_KEY["ward_hong_bang"].code

_DESK_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "Trần Quốc Khánh", ("admin",), _PROVINCE, "Administrator for the whole city"),
    DemoAccount(
        "tiepnhan",
        "Nguyễn Thị Thu Hà",
        ("counter",),
        _CENTRE,
        "Counter officer (cán bộ một cửa) at the city public administration service centre",
    ),
    DemoAccount(
        "chuyenvien",
        "Phạm Minh Tuấn",
        ("specialist",),
        _LAND_OFFICE,
        "Specialist (chuyên viên) at Văn phòng Đăng ký đất đai, which resolves the city's land procedures",
    ),
    DemoAccount(
        "lanhdao",
        "Vũ Thị Hồng Nhung",
        ("head",),
        _LAND_OFFICE,
        "Head (lãnh đạo) of Văn phòng Đăng ký đất đai: approves the land procedures",
    ),
    DemoAccount(
        "tiepnhan.xa",
        "Lê Thị Mai Anh",
        ("counter", ON_THE_SPOT_ROLE),
        _DEMO_WARD,
        "Counter officer at the one-stop desk of phường Hồng Bàng",
    ),
    DemoAccount(
        "chuyenvien.xa",
        "Hoàng Văn Đức",
        ("specialist",),
        _DEMO_WARD,
        "Specialist (công chức) of phường Hồng Bàng",
    ),
    DemoAccount(
        "lanhdao.xa",
        "Đỗ Quang Huy",
        ("head", "leader"),
        _DEMO_WARD,
        "Chairman of phường Hồng Bàng: approves and sees the dashboard",
    ),
    DemoAccount(
        "tiepnhan.lechan",
        "Phan Thị Thanh Tâm",
        ("counter", ON_THE_SPOT_ROLE),
        _AGENCY_BY_KEY["ward_le_chan"].code,
        "Counter officer at the one-stop desk of phường Lê Chân",
    ),
    DemoAccount(
        "chuyenvien.lechan",
        "Kiều Văn Thắng",
        ("specialist",),
        _AGENCY_BY_KEY["ward_le_chan"].code,
        "Specialist (công chức) of phường Lê Chân",
    ),
    DemoAccount(
        "lanhdao.lechan",
        "Tôn Nữ Minh Thư",
        ("head", "leader"),
        _AGENCY_BY_KEY["ward_le_chan"].code,
        "Chairman of phường Lê Chân",
    ),
)
# a specialist and a head in every department that resolves a procedure or takes a liên thông
# step, so no step of a demo workflow waits for nobody (tests/services/test_demo_seed.py checks it)
_DEPARTMENT_ACCOUNTS: tuple[DemoAccount, ...] = tuple(
    DemoAccount(f"{prefix}.{slug}", name, (role,), _AGENCY_BY_KEY[key].code, f"{what} at {_AGENCY_BY_KEY[key].name}")
    for key, slug, specialist, head in (
        ("justice", "tuphap", "Nguyễn Thị Lan", "Trần Văn Bình"),
        ("construction", "xaydung", "Lê Minh Châu", "Phạm Quốc Dũng"),
        ("finance", "taichinh", "Võ Thị Hạnh", "Bùi Đức Giang"),
        ("health", "yte", "Đặng Thu Hương", "Ngô Văn Khải"),
        ("home_affairs", "noivu", "Đinh Thị Loan", "Hồ Minh Mẫn"),
        ("industry_trade", "congthuong", "Dương Thị Ngọc", "Lý Văn Phúc"),
        ("tax", "thue", "Mai Thị Quyên", "Tạ Văn Sơn"),
        ("police", "congan", "Cao Thị Thảo", "Vương Đình Uy"),
        ("social_insurance", "bhxh", "Trịnh Thị Vân", "Lương Văn Xuân"),
    )
    for prefix, name, role, what in (
        ("chuyenvien", specialist, "specialist", "Specialist"),
        ("lanhdao", head, "head", "Head"),
    )
)
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (*_DESK_ACCOUNTS, *_DEPARTMENT_ACCOUNTS)


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


def _online_mode(value: str | None) -> str:
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


def _short(name: str) -> str:
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
        StepPlan(f"interagency_{number}", _short(entry["step"]), agency, "specialist", share, INTERAGENCY_ACTIONS)
        for number, ((entry, agency), share) in enumerate(zip(partners, shares, strict=True), start=1)
    ]
    steps.append(StepPlan("approve", _short(approve_name), resolver, "head", approve, APPROVE_ACTIONS))
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


# --- the loader -----------------------------------------------------------------------------------


_SINGULAR = {
    "agency_levels": "agency level",
    "agencies": "agency",
    "roles": "role",
    "staff": "staff",
    "procedures": "procedure",
    "procedure_versions": "procedure version",
    "documents": "document",
    "fees": "fee",
    "procedure_agencies": "procedure agency",
    "workflow_templates": "workflow template",
    "workflow_steps": "workflow step",
    "calendars": "calendar",
}


@dataclass(frozen=True)
class SeedReport:
    """Rows inserted per kind, and the source records left out with the reason."""

    agency_levels: int = 0
    agencies: int = 0
    roles: int = 0
    staff: int = 0
    procedures: int = 0
    procedure_versions: int = 0
    documents: int = 0
    fees: int = 0
    procedure_agencies: int = 0
    workflow_templates: int = 0
    workflow_steps: int = 0
    calendars: int = 0
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def inserted(self) -> int:
        return sum(self.counts().values())

    def counts(self) -> dict[str, int]:
        return {
            "agency_levels": self.agency_levels,
            "agencies": self.agencies,
            "roles": self.roles,
            "staff": self.staff,
            "procedures": self.procedures,
            "procedure_versions": self.procedure_versions,
            "documents": self.documents,
            "fees": self.fees,
            "procedure_agencies": self.procedure_agencies,
            "workflow_templates": self.workflow_templates,
            "workflow_steps": self.workflow_steps,
            "calendars": self.calendars,
        }

    def summary(self) -> str:
        inserted = ", ".join(
            f"{count} {kind.replace('_', ' ') if count > 1 else _SINGULAR[kind]}"
            for kind, count in self.counts().items()
            if count
        )
        skipped = ", ".join(code for code, _ in self.skipped)
        return f"Demo data: inserted {inserted or 'nothing (already loaded)'}; skipped {len(self.skipped)} " + (
            f"procedures ({skipped})." if skipped else "procedures."
        )


async def load_demo_data(session: AsyncSession) -> SeedReport:
    """Insert whatever demo rows are missing; flushes, never commits."""
    counts: Counter[str] = Counter()
    await _load_levels(session, counts)
    agency_ids = await _load_agencies(session, counts)
    await _load_roles(session, counts)
    await _load_staff(session, agency_ids, counts)
    skipped = await _load_procedures(session, agency_ids, counts)
    await _load_calendar(session, counts)
    await session.flush()
    return SeedReport(
        agency_levels=counts["agency_levels"],
        agencies=counts["agencies"],
        roles=counts["roles"],
        staff=counts["staff"],
        procedures=counts["procedures"],
        procedure_versions=counts["procedure_versions"],
        documents=counts["documents"],
        fees=counts["fees"],
        procedure_agencies=counts["procedure_agencies"],
        workflow_templates=counts["workflow_templates"],
        workflow_steps=counts["workflow_steps"],
        calendars=counts["calendars"],
        skipped=skipped,
    )


async def _load_levels(session: AsyncSession, counts: Counter[str]) -> None:
    codes = [level.code for level in DEMO_LEVELS]
    existing = set((await session.scalars(select(AgencyLevel.code).where(AgencyLevel.code.in_(codes)))).all())
    for level in DEMO_LEVELS:
        if level.code not in existing:
            session.add(
                AgencyLevel(
                    code=level.code,
                    name_vi=level.name_vi,
                    name_en=level.name_en,
                    rank=level.rank,
                    valid_from=TWO_TIER_SINCE,
                )
            )
            counts["agency_levels"] += 1
    # agencies refer to the levels and the unit of work does not order rows without a relationship
    await session.flush()


async def _load_agencies(session: AsyncSession, counts: Counter[str]) -> dict[str, uuid.UUID]:
    """Insert the missing demo agencies. An agency already there is left as it is — its address and
    postal hours included: the desk's own details are the administrator's to change, and a re-run must
    not undo that (a database loaded before the desks had addresses keeps them empty until set)."""
    codes = [agency.code for agency in DEMO_AGENCIES]
    rows = (await session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(codes)))).all()
    id_by_code: dict[str, uuid.UUID] = {code: agency_id for code, agency_id in rows}
    ids: dict[str, uuid.UUID] = {}
    for agency in DEMO_AGENCIES:  # parents come first in DEMO_AGENCIES
        if agency.code in id_by_code:
            ids[agency.key] = id_by_code[agency.code]
            continue
        row = Agency(
            id=uuid.uuid4(),
            code=agency.code,
            name=agency.name,
            level_code=agency.level,
            parent_id=ids[agency.parent] if agency.parent else None,
            is_one_stop_desk=agency.one_stop_desk,
            street_address=agency.street_address,
            postal_hours=agency.postal_hours,
            counter_cutoff=COUNTER_CUTOFF,
            valid_from=TWO_TIER_SINCE,
        )
        session.add(row)
        ids[agency.key] = row.id
        counts["agencies"] += 1
        # a self-referencing table: insert parent by parent
        await session.flush()
    return ids


async def _load_roles(session: AsyncSession, counts: Counter[str]) -> None:
    codes = [role.code for role in DEMO_ROLES]
    existing = set((await session.scalars(select(Role.code).where(Role.code.in_(codes)))).all())
    for role in DEMO_ROLES:
        if role.code not in existing:
            session.add(Role(code=role.code, name_vi=role.name_vi, name_en=role.name_en))
            counts["roles"] += 1
    await session.flush()


async def _load_staff(session: AsyncSession, agency_ids: Mapping[str, uuid.UUID], counts: Counter[str]) -> None:
    usernames = [account.username for account in DEMO_ACCOUNTS]
    existing = set((await session.scalars(select(Staff.username).where(Staff.username.in_(usernames)))).all())
    missing = [account for account in DEMO_ACCOUNTS if account.username not in existing]
    if not missing:
        return
    id_by_code = {agency.code: agency_ids[agency.key] for agency in DEMO_AGENCIES}
    password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow on purpose: once for all accounts
    for account in missing:
        session.add(
            Staff(
                username=account.username,
                full_name=account.full_name,
                email=account.email,
                password_hash=password_hash,
                demo=True,
                agency_id=id_by_code[account.agency_code],
                roles=[StaffRole(role_code=role) for role in account.roles],
            )
        )
        counts["staff"] += 1


async def _load_procedures(
    session: AsyncSession, agency_ids: Mapping[str, uuid.UUID], counts: Counter[str]
) -> tuple[tuple[str, str], ...]:
    records: list[ProcedureRecord] = []
    skipped: list[tuple[str, str]] = []
    for record in load_procedure_records():
        reason = skip_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append((record["code"], reason))

    codes = [record["code"] for record in records]
    procedure_ids: dict[str, uuid.UUID] = {
        code: procedure_id
        for code, procedure_id in (
            await session.execute(select(Procedure.code, Procedure.id).where(Procedure.code.in_(codes)))
        ).all()
    }
    for record in records:
        if record["code"] not in procedure_ids:
            procedure = _procedure(record)
            session.add(procedure)
            procedure_ids[record["code"]] = procedure.id
            counts["procedures"] += 1
    await session.flush()

    version_ids: dict[uuid.UUID, uuid.UUID] = {
        procedure_id: version_id
        for procedure_id, version_id in (
            await session.execute(
                select(ProcedureVersion.procedure_id, ProcedureVersion.id).where(
                    ProcedureVersion.procedure_id.in_(procedure_ids.values()), ProcedureVersion.version == 1
                )
            )
        ).all()
    }
    for record in records:
        procedure_id = procedure_ids[record["code"]]
        if procedure_id not in version_ids:
            version = _version(record, procedure_id, agency_ids)
            session.add(version)
            version_ids[procedure_id] = version.id
            counts["procedure_versions"] += 1
            counts["documents"] += len(version.documents)
            counts["fees"] += len(version.fees)
            counts["procedure_agencies"] += len(version.agencies)
    await session.flush()

    with_template = set(
        (
            await session.scalars(
                select(WorkflowTemplate.procedure_version_id).where(
                    WorkflowTemplate.procedure_version_id.in_(version_ids.values())
                )
            )
        ).all()
    )
    for record in records:
        version_id = version_ids[procedure_ids[record["code"]]]
        if version_id not in with_template:
            template = _template(record, version_id, agency_ids)
            session.add(template)
            counts["workflow_templates"] += 1
            counts["workflow_steps"] += len(template.steps)
    return tuple(skipped)


def _procedure(record: ProcedureRecord) -> Procedure:
    return Procedure(
        id=uuid.uuid4(),
        code=record["code"],
        name=record["name_vi"],
        field=record["field"],
        level=record["level"],
        search_text=procedure_search_text(record["code"], record["name_vi"], record["field"]),
    )


def _version(record: ProcedureRecord, procedure_id: uuid.UUID, agency_ids: Mapping[str, uuid.UUID]) -> ProcedureVersion:
    limit = record["time_limit"]
    value = limit["value"]
    if value is None:
        raise ValueError(f"{record['code']}: no time limit")
    channels = record["submission_channels"]
    documents = [
        ProcedureDocument(
            position=position,
            code=_document_code(position),
            name=document["name"].strip(),
            form=document["form"],
            mandatory=document["mandatory"],
        )
        for position, document in enumerate(record["documents"], start=1)
    ]
    fees = [
        ProcedureFee(
            position=position, kind=fee["type"], name=fee["name"], amount_vnd=fee["amount_vnd"], note=fee["note"]
        )
        for position, fee in enumerate(record["fees"], start=1)
    ]
    return ProcedureVersion(
        id=uuid.uuid4(),
        procedure_id=procedure_id,
        version=1,
        valid_from=TWO_TIER_SINCE,
        published=True,
        time_limit_value=value,
        time_limit_unit=WORKING_DAYS,
        cutoff_rule=limit["cutoff_15h_rule"] is not False,
        online_mode=_online_mode(record["online_mode"]),
        interagency=record["is_lien_thong"],
        # an empty channel list says nothing; only a list without "postal" rules postal submission out
        postal_submission=not channels or "postal" in channels,
        postal_return=record["postal_return"] is True,
        result_description=record["result"],
        legal_basis=list(record["legal_basis"]),
        source=_provenance(record),
        documents=documents,
        fees=fees,
        agencies=[
            ProcedureAgency(agency_id=agency_id, role=role) for agency_id, role in _agency_roles(record, agency_ids)
        ],
    )


def _document_code(position: int) -> str:
    return f"D{position:02d}"


def _provenance(record: ProcedureRecord) -> dict[str, object]:
    limit = record["time_limit"]
    source: dict[str, object] = {
        "id": record["id"],
        "uncertain": record["uncertain"],
        "uncertainty_note": record["uncertainty_note"],
        "time_limit_note": limit["note"],
        "same_day": limit["same_day"],
        "sources": record["sources"],
        "code_note": record["code_note"],
        "resolving_agency": record["resolving_agency"],
        "coordinating_agencies": record["coordinating_agencies"],
        "postal_return_unknown": record["postal_return"] is None,
        "fee_exemptions": {str(position): fee["exemptions"] for position, fee in enumerate(record["fees"], start=1)},
    }
    document_notes = {
        _document_code(position): document["note"]
        for position, document in enumerate(record["documents"], start=1)
        if "note" in document
    }
    if document_notes:
        source["document_notes"] = document_notes
    if record["lien_thong"] is not None:
        source["lien_thong"] = dict(record["lien_thong"])
    return source


def _agency_roles(record: ProcedureRecord, agency_ids: Mapping[str, uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    if record["level"] == "commune":
        receiving = [agency_ids[key] for key in WARD_KEYS]
        resolving = list(receiving)
    else:
        receiving = [agency_ids["centre"]]
        resolver = resolving_agency_key(record)
        if resolver is None:
            raise ValueError(f"{record['code']}: a province-level procedure needs a resolving department")
        resolving = [agency_ids[resolver]]
    rows = [(agency_id, "receiving") for agency_id in receiving] + [(agency_id, "resolving") for agency_id in resolving]
    involved = set(receiving) | set(resolving)
    partners = list(record["coordinating_agencies"])
    if record["lien_thong"] is not None:
        partners += [entry["agency"] for entry in record["lien_thong"]["agencies"]]
    for text in partners:
        key = match_partner(text)
        # wording that names no agency of ours ("các cơ quan được hỏi ý kiến") or the ward itself
        if key is None or key in ("ward", "chair"):
            continue
        agency_id = agency_ids[key]
        if agency_id not in involved:
            involved.add(agency_id)
            rows.append((agency_id, "coordinating"))
    return rows


def _template(record: ProcedureRecord, version_id: uuid.UUID, agency_ids: Mapping[str, uuid.UUID]) -> WorkflowTemplate:
    steps = [
        WorkflowStep(
            position=position,
            code=plan.code,
            name=plan.name,
            name_en=STEP_NAMES_EN.get(plan.name),
            agency_id=None if plan.agency is None else agency_ids[plan.agency],
            role_code=plan.role,
            # half days are exact in binary floating point
            share_value=float(plan.share),
            share_unit=WORKING_DAYS,
            allowed_actions=list(plan.actions),
        )
        for position, plan in enumerate(plan_steps(record), start=1)
    ]
    return WorkflowTemplate(
        procedure_version_id=version_id,
        version=1,
        name=_short(f"Quy trình {record['name_vi']}"),
        on_the_spot=record["code"] in ON_THE_SPOT_PROCEDURES,
        steps=steps,
    )


async def _load_calendar(session: AsyncSession, counts: Counter[str]) -> None:
    existing = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.agency_id.is_(None)).limit(1))
    if existing is None:
        session.add(WorkingCalendar(agency_id=None, weekly_windows=copy.deepcopy(DEFAULT_WEEKLY_WINDOWS)))
        counts["calendars"] += 1


# --- command line ---------------------------------------------------------------------------------


async def _seed(settings: Settings) -> SeedReport:
    engine = create_engine(settings, application_name="motcua-seed", pool_size=1)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await load_demo_data(session)
    finally:
        await engine.dispose()


def main() -> int:
    """Load the demo data into the configured database in one transaction."""
    settings = get_settings()
    if not settings.demo:
        # the demo accounts all have the password "demo": never in a real deployment
        print("Refusing to load demo data: set MOTCUA_DEMO=1 (never in production).", file=sys.stderr)
        return 2
    report = asyncio.run(_seed(settings))
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
