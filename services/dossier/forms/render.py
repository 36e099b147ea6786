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
    secret: str | None  # None: an online dossier, whose applicant got the secret when submitting
    officer_name: str
    printed_at: date | datetime
    applicant_address: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    dossier_count: int = 1
    time_limit_label: str | None = None  # "05 ngày làm việc"
    # 4 tại chỗ: the result handed over in the same visit (when, and what), instead of an appointment
    returned_on_the_spot_at: datetime | None = None
    result_note: str | None = None
    # the digital signature's box (issue 16 §2): the signing agency, the page that checks it, a demo key's mark
    signed_by: str | None = None
    verification_url: str | None = None
    signature_demo: bool = False


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
    verify_qr = _qr_svg(form.verification_url) if form.verification_url else None
    return _pdf("01_receipt.html", form=form, qr_svg=_qr_svg(form.tracking_url), verify_qr_svg=verify_qr)


def render_supplement(form: SupplementForm) -> bytes:
    """Mẫu số 02 as PDF bytes."""
    return _pdf("02_supplement.html", form=form)


def render_refusal(form: RefusalForm) -> bytes:
    """Mẫu số 03 as PDF bytes."""
    return _pdf("03_refusal.html", form=form)


def render_record_book(form: RecordBookForm) -> bytes:
    """Mẫu số 07 as PDF bytes: one table over as many landscape pages as the rows need."""
    return _pdf("07_record_book.html", form=form)


# --- workflow forms: 04 apology, 05 notice of stopping, 06 process control sheet --------------------------------
# Our numbering (DESIGN "Dossier lifecycle"): 04 apology, 05 notice of stopping, 06 control sheet, 07 record book.
# The annex of Thông tư 01/2018/TT-VPCP numbers them differently: Mẫu số 04 Phiếu xin lỗi và hẹn lại ngày trả kết
# quả, Mẫu số 05 Phiếu kiểm soát quá trình giải quyết hồ sơ, Mẫu số 06 Sổ theo dõi hồ sơ; it has no form for the
# notice of stopping, which agencies issue as an ordinary notice (thông báo). The fields follow the circular.

OUTCOME_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
HEAD_OF_AGENCY = "THỦ TRƯỞNG CƠ QUAN"


@dataclass(frozen=True, kw_only=True, slots=True)
class ApologyForm:
    """Mẫu số 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả, signed by the head of the late agency (``header``)."""

    header: AgencyHeader
    dossier_code: str
    applicant_name: str
    procedure_name: str
    received_at: datetime
    original_appointment_at: datetime
    reason: str
    new_appointment_at: datetime
    signer_name: str
    printed_at: date | datetime
    signer_title: str = HEAD_OF_AGENCY  # "GIÁM ĐỐC", "CHỦ TỊCH"…
    document_number: str | None = None  # "15/PXL-VPĐKĐĐ"; None prints a dotted line
    applicant_address: str | None = None
    copies_to: Sequence[str] = ("Như trên", "Lưu: VT, Bộ phận Tiếp nhận và Trả kết quả")


@dataclass(frozen=True, kw_only=True, slots=True)
class StopForm:
    """Mẫu số 05 — Thông báo dừng xử lý hồ sơ, with the reasons; signed by the head of the agency (``header``)."""

    header: AgencyHeader
    dossier_code: str
    applicant_name: str
    procedure_name: str
    received_at: datetime
    reasons: Sequence[str]
    signer_name: str
    printed_at: date | datetime
    signer_title: str = HEAD_OF_AGENCY
    document_number: str | None = None
    applicant_address: str | None = None
    legal_basis: str | None = None  # "khoản 3 Điều 25 Nghị định số 118/2025/NĐ-CP"
    documents_note: str | None = None  # what happens to the documents submitted
    copies_to: Sequence[str] = ("Như trên", "Lưu: VT, Bộ phận Tiếp nhận và Trả kết quả")


@dataclass(frozen=True, kw_only=True, slots=True)
class ControlRow:
    """One hand-over of the control sheet: who gave the dossier to whom, when, and how the step ended.

    ``agency_name`` is the unit that receives the dossier (the circular's "Tên cơ quan"); ``outcome`` is the
    step's record: ``early``, ``on_time``, ``late``, or None while it runs.
    """

    agency_name: str
    handed_at: datetime
    giver_name: str
    receiver_name: str | None
    giver_unit: str | None = None
    receiver_unit: str | None = None
    step_name: str | None = None
    step_due_at: datetime | None = None
    outcome: str | None = None
    note: str | None = None

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome or "", "")


@dataclass(frozen=True, kw_only=True, slots=True)
class ControlSheetForm:
    """Mẫu số 06 — Phiếu kiểm soát quá trình giải quyết hồ sơ (A4 landscape): one row per hand-over."""

    header: AgencyHeader
    dossier_code: str
    applicant_name: str
    procedure_name: str
    received_at: datetime
    appointment_at: datetime
    rows: Sequence[ControlRow]
    printed_at: date | datetime
    resolving_agency: str | None = None  # cơ quan (bộ phận) giải quyết
    coordinating_agencies: Sequence[str] = ()  # cơ quan phối hợp (liên thông)
    new_appointment_at: datetime | None = None  # after an apology
    returned_at: datetime | None = None


def _vn_time_text(dt: datetime) -> str:
    """``09 giờ 00 phút`` in Vietnam time: the first half of :func:`vn_datetime_text`, for narrow table cells."""
    local = _local(dt)
    assert isinstance(local, datetime)
    return f"{local.hour:02d} giờ {local.minute:02d} phút"


_ENV.filters.update(vn_time=_vn_time_text)


def render_apology(form: ApologyForm) -> bytes:
    """Mẫu số 04 as PDF bytes."""
    return _pdf("04_apology.html", form=form)


def render_stop(form: StopForm) -> bytes:
    """Mẫu số 05 as PDF bytes."""
    return _pdf("05_stop.html", form=form)


def render_control_sheet(form: ControlSheetForm) -> bytes:
    """Mẫu số 06 as PDF bytes: one table over as many landscape pages as the hand-overs need."""
    return _pdf("06_control_sheet.html", form=form)
