"""Printable one-stop forms (Mẫu số 01, 02, 03, 07) rendered to PDF in Vietnamese."""

from services.intake.forms.render import (
    AgencyHeader,
    ReceiptForm,
    ReceivedDocument,
    RecordBookForm,
    RecordRow,
    RefusalForm,
    SupplementForm,
    SupplementItem,
    render_receipt,
    render_record_book,
    render_refusal,
    render_supplement,
    vn_date_line,
    vn_date_text,
    vn_datetime_text,
)

__all__ = [
    "AgencyHeader",
    "ReceiptForm",
    "ReceivedDocument",
    "RecordBookForm",
    "RecordRow",
    "RefusalForm",
    "SupplementForm",
    "SupplementItem",
    "render_receipt",
    "render_record_book",
    "render_refusal",
    "render_supplement",
    "vn_date_line",
    "vn_date_text",
    "vn_datetime_text",
]
