"""The one-stop forms as PDF (annex of Thông tư 01/2018/TT-VPCP, carried into Thông tư 03/2025/TT-VPCP).

Pure: the inputs are frozen dataclasses filled by the caller, never ORM objects, so the forms can be rendered
and tested without a database. HTML comes from Jinja2 templates (autoescaped: names and reasons are user input)
and WeasyPrint turns it into PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TEMPLATES_DIR = Path(__file__).parent / "templates"


# --- inputs -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class AgencyHeader:
    """The issuing agency, top left of every form; ``place`` opens the date line ("Hải Phòng, ngày ...")."""

    name: str
    place: str
    parent_name: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceivedDocument:
    """One line of "Thành phần hồ sơ": ``form_label`` is bản chính / bản sao / bản sao chứng thực / bản chụp."""

    name: str
    form_label: str
    copies: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiptForm:
    """Mẫu số 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""

    header: AgencyHeader
    dossier_code: str
    applicant_name: str
    procedure_name: str
    documents: Sequence[ReceivedDocument]
    received_at: datetime
    appointment_at: datetime
    return_method_label: str
    tracking_url: str
    secret: str
    officer_name: str
    printed_at: date | datetime
    applicant_address: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    dossier_count: int = 1
    time_limit_label: str | None = None  # "05 ngày làm việc"


@dataclass(frozen=True, kw_only=True, slots=True)
class SupplementItem:
    """What must be supplemented or corrected, and why."""

    what: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SupplementForm:
    """Mẫu số 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""

    header: AgencyHeader
    dossier_code: str
    applicant_name: str
    procedure_name: str
    items: Sequence[SupplementItem]
    officer_name: str
    printed_at: date | datetime
    applicant_address: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    received_at: datetime | None = None
    deadline_at: datetime | None = None
    deadline_note: str | None = None
    officer_phone: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RefusalForm:
    """Mẫu số 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ."""

    header: AgencyHeader
    dossier_code: str
    applicant_name: str
    procedure_name: str
    reasons: Sequence[str]
    officer_name: str
    printed_at: date | datetime
    applicant_address: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    submitted_at: datetime | None = None
    legal_basis: str | None = None  # "khoản 2 Điều 19 Nghị định số 61/2018/NĐ-CP"


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordRow:
    """One line of the record book; dates may be datetimes (shown with the time) or plain dates."""

    dossier_code: str
    procedure_name: str
    applicant_name: str
    received_at: date | datetime
    appointment_at: date | datetime
    dossier_count: int = 1
    applicant_contact: str | None = None  # address and/or phone, as printed in the column
    resolving_agency: str | None = None
    transferred_at: date | datetime | None = None
    result_at: date | datetime | None = None  # result reached the desk, or supplement requested
    returned_at: date | datetime | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordBookForm:
    """Mẫu số 07 — Sổ theo dõi hồ sơ for a period (A4 landscape)."""

    header: AgencyHeader
    period_from: date
    period_to: date
    rows: Sequence[RecordRow]
    printed_at: date | datetime | None = None


# --- Vietnamese dates ---------------------------------------------------------------------------------------------


def _local(value: date | datetime) -> date | datetime:
    """Aware datetimes move to Vietnam time; naive ones are taken as already local."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(VN_TZ)
    return value


def _day(d: date) -> str:
    # Nghị định 30/2020/NĐ-CP (annex I): a zero before days under 10 and before months 1 and 2 only.
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def vn_date_text(value: date | datetime) -> str:
    """``ngày 05 tháng 3 năm 2026``."""
    return _day(_local(value))


def vn_datetime_text(dt: datetime) -> str:
    """``09 giờ 00 phút, ngày 25 tháng 11 năm 2026`` in Vietnam time."""
    local = _local(dt)
    assert isinstance(local, datetime)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {_day(local)}"


def vn_date_line(place: str, d: date | datetime) -> str:
    """``Hải Phòng, ngày 23 tháng 11 năm 2026`` — the place and date line under the national motto."""
    return f"{place}, {vn_date_text(d)}"


def _short(value: date | datetime | None) -> str:
    """Record-book cells: ``25/11/2026`` or ``25/11/2026 09:00``."""
    if value is None:
        return ""
    local = _local(value)
    if isinstance(local, datetime):
        return local.strftime("%d/%m/%Y %H:%M")
    return local.strftime("%d/%m/%Y")


def _two_digits(n: int) -> str:
    return f"{n:02d}"


_BLANK = Markup('<span class="blank">....................................</span>')


def _or_blank(value: object) -> object:
    """A missing field prints as a dotted line for the officer to fill in by hand, as on the paper form."""
    return _BLANK if value is None or value == "" else value


def _qr_svg(url: str) -> Markup:
    # The URL is only drawn as modules (no text node), so segno's SVG is safe to insert unescaped.
    svg = segno.make(url, error="m", micro=False).svg_inline(border=0, omitsize=True, dark="#000")
    return Markup(svg)  # noqa: S704 - SVG produced by segno, contains no user text


# --- rendering ----------------------------------------------------------------------------------------------------

# Built once per process: template parsing is the costly part of Jinja, caching it keeps a render at PDF speed.
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(vn_datetime=vn_datetime_text, vn_date=vn_date_text, short=_short, two=_two_digits, blank=_or_blank)
_ENV.globals.update(vn_date_line=vn_date_line)


def _pdf(template: str, **context: Any) -> bytes:
    html = _ENV.get_template(template).render(**context)
    # Every resource is inline; refusing all fetches means no user text can make the renderer open a URL or file.
    fetcher = URLFetcher(allowed_protocols=frozenset(), fail_on_errors=False)
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES_DIR), url_fetcher=fetcher).write_pdf()
    return pdf


def render_receipt(form: ReceiptForm) -> bytes:
    """Mẫu số 01 as PDF bytes, with the QR code to the tracking page and the citizen's secret."""
    return _pdf("01_receipt.html", form=form, qr_svg=_qr_svg(form.tracking_url))


def render_supplement(form: SupplementForm) -> bytes:
    """Mẫu số 02 as PDF bytes."""
    return _pdf("02_supplement.html", form=form)


def render_refusal(form: RefusalForm) -> bytes:
    """Mẫu số 03 as PDF bytes."""
    return _pdf("03_refusal.html", form=form)


def render_record_book(form: RecordBookForm) -> bytes:
    """Mẫu số 07 as PDF bytes: one table over as many landscape pages as the rows need."""
    return _pdf("07_record_book.html", form=form)
