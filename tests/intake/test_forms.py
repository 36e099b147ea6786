"""The printable forms: Vietnamese text survives into the PDF, user input is escaped, the record book paginates."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from services.dossier.forms import (
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
from tests.pdf import flat, keep, pdf_pages

VN = ZoneInfo("Asia/Ho_Chi_Minh")

HEADER = AgencyHeader(
    name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
    parent_name="Ủy ban nhân dân thành phố Hải Phòng",
    place="Hải Phòng",
)
CODE = "000.17.22.H56-261123-0001"
APPOINTMENT = datetime(2026, 11, 25, 9, 0, tzinfo=VN)
APPOINTMENT_TEXT = "ngày 25 tháng 11 năm 2026"
TRACKING_URL = f"https://motcua.haiphong.gov.vn/tra-cuu/{CODE}"
SECRET = "K7QF-2M9X"


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def receipt(**changes: Any) -> ReceiptForm:
    form = ReceiptForm(
        header=HEADER,
        dossier_code=CODE,
        applicant_name="Nguyễn Thị Thu Hà",
        applicant_address="Số 12 ngõ 45 phố Lạch Tray, phường Ngô Quyền, thành phố Hải Phòng",
        applicant_phone="0912 345 678",
        applicant_email="thuha.nguyen@example.vn",
        procedure_name="Cấp Giấy chứng nhận đăng ký hộ kinh doanh",
        documents=[
            ReceivedDocument(name="Giấy đề nghị đăng ký hộ kinh doanh", form_label="Bản chính", copies=1),
            ReceivedDocument(name="Căn cước công dân của chủ hộ kinh doanh", form_label="Bản sao", copies=1),
            ReceivedDocument(name="Hợp đồng thuê địa điểm kinh doanh", form_label="Bản sao chứng thực", copies=2),
        ],
        dossier_count=1,
        time_limit_label="03 ngày làm việc",
        received_at=vn(2026, 11, 23, 8, 45),
        appointment_at=APPOINTMENT,
        return_method_label="Bộ phận Tiếp nhận và Trả kết quả",
        tracking_url=TRACKING_URL,
        secret=SECRET,
        officer_name="Trần Văn Đức",
        printed_at=vn(2026, 11, 23, 8, 50),
    )
    return replace(form, **changes)


def supplement() -> SupplementForm:
    return SupplementForm(
        header=HEADER,
        dossier_code=CODE,
        applicant_name="Nguyễn Thị Thu Hà",
        applicant_address="Số 12 ngõ 45 phố Lạch Tray, phường Ngô Quyền, thành phố Hải Phòng",
        applicant_phone="0912 345 678",
        procedure_name="Cấp Giấy chứng nhận đăng ký hộ kinh doanh",
        received_at=vn(2026, 11, 23, 8, 45),
        items=[
            SupplementItem(
                what="Hợp đồng thuê địa điểm kinh doanh",
                reason="Bản sao chưa được chứng thực; cần nộp bản sao chứng thực hoặc bản chính để đối chiếu",
            ),
            SupplementItem(what="Giấy đề nghị đăng ký hộ kinh doanh", reason="Thiếu chữ ký của chủ hộ kinh doanh"),
        ],
        deadline_at=vn(2026, 11, 25, 17, 0),
        deadline_note="Thời gian bổ sung hồ sơ không tính vào thời hạn giải quyết.",
        officer_name="Trần Văn Đức",
        officer_phone="0225 3 842 555",
        printed_at=date(2026, 11, 23),
    )


def refusal() -> RefusalForm:
    return RefusalForm(
        header=HEADER,
        dossier_code=CODE,
        applicant_name="Lê Hoàng Yến",
        applicant_address="Thôn Đông, xã An Đồng, thành phố Hải Phòng",
        procedure_name="Đăng ký khai sinh",
        submitted_at=vn(2026, 11, 25, 14, 30),
        reasons=[
            "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan.",
            "Người yêu cầu không cung cấp giấy chứng sinh theo quy định.",
        ],
        legal_basis="khoản 2 Điều 19 Nghị định số 61/2018/NĐ-CP",
        officer_name="Trần Văn Đức",
        printed_at=vn(2026, 11, 25, 14, 40),
    )


def record_book(count: int = 30) -> RecordBookForm:
    start = vn(2026, 11, 2, 8, 0)
    names = ["Nguyễn Thị Thu Hà", "Trần Văn Đức", "Phạm Quỳnh Anh", "Công ty TNHH Thương mại Đông Hải"]
    rows = [
        RecordRow(
            dossier_code=f"000.17.22.H56-2611{2 + i // 5:02d}-{i + 1:04d}",
            procedure_name="Cấp Giấy chứng nhận đăng ký hộ kinh doanh",
            dossier_count=1,
            applicant_name=names[i % len(names)],
            applicant_contact=f"Phường Ngô Quyền, Hải Phòng / 0912 345 {i:03d}",
            resolving_agency="Phòng Tài chính - Kế hoạch",
            received_at=start + timedelta(days=i // 5, minutes=15 * i),
            appointment_at=(start + timedelta(days=i // 5 + 3)).date(),
            transferred_at=(start + timedelta(days=i // 5)).date(),
            result_at=(start + timedelta(days=i // 5 + 2)).date() if i % 3 else None,
            returned_at=(start + timedelta(days=i // 5 + 3)).date() if i % 3 == 1 else None,
            note="Yêu cầu bổ sung" if i % 7 == 0 else None,
        )
        for i in range(count)
    ]
    return RecordBookForm(
        header=HEADER,
        period_from=date(2026, 11, 1),
        period_to=date(2026, 11, 30),
        rows=rows,
        printed_at=date(2026, 12, 1),
    )


# --- dates --------------------------------------------------------------------------------------------------------


def test_datetime_text_in_vietnam_time() -> None:
    assert vn_datetime_text(vn(2026, 11, 25, 9, 0)) == "09 giờ 00 phút, ngày 25 tháng 11 năm 2026"
    assert vn_datetime_text(datetime(2026, 11, 24, 17, 0, tzinfo=UTC)) == "00 giờ 00 phút, ngày 25 tháng 11 năm 2026"


def test_midnight_utc_is_seven_in_the_morning() -> None:
    assert vn_datetime_text(datetime(2026, 11, 25, 0, 0, tzinfo=UTC)) == "07 giờ 00 phút, ngày 25 tháng 11 năm 2026"


def test_end_of_year_crosses_into_january_in_vietnam() -> None:
    assert vn_datetime_text(datetime(2026, 12, 31, 20, 5, tzinfo=UTC)) == "03 giờ 05 phút, ngày 01 tháng 01 năm 2027"


def test_naive_datetime_is_taken_as_local() -> None:
    assert vn_datetime_text(datetime(2026, 11, 25, 16, 30)) == "16 giờ 30 phút, ngày 25 tháng 11 năm 2026"


def test_zero_before_small_days_and_months_one_and_two_only() -> None:
    assert vn_date_text(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert vn_date_text(date(2026, 3, 5)) == "ngày 05 tháng 3 năm 2026"
    assert vn_date_text(date(2026, 10, 10)) == "ngày 10 tháng 10 năm 2026"


def test_date_line() -> None:
    assert vn_date_line("Hải Phòng", date(2026, 11, 23)) == "Hải Phòng, ngày 23 tháng 11 năm 2026"
    assert vn_date_line("Hải Phòng", datetime(2026, 11, 22, 18, 0, tzinfo=UTC)) == (
        "Hải Phòng, ngày 23 tháng 11 năm 2026"
    )


# --- forms --------------------------------------------------------------------------------------------------------


def test_receipt() -> None:
    pdf = render_receipt(receipt())
    keep("01_receipt.pdf", pdf, picture=True)
    pages = pdf_pages(pdf)
    assert len(pages) == 1
    text = flat(pages[0])
    for expected in (
        "Mẫu số 01",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
        "Hải Phòng, ngày 23 tháng 11 năm 2026",
        CODE,
        "Nguyễn Thị Thu Hà",
        "Trần Văn Đức",
        "Cấp Giấy chứng nhận đăng ký hộ kinh doanh",
        "Hợp đồng thuê địa điểm kinh doanh",
        "Bản sao chứng thực",
        "Thời gian nhận hồ sơ: 08 giờ 45 phút, ngày 23 tháng 11 năm 2026",
        f"Thời gian trả kết quả giải quyết hồ sơ: 09 giờ 00 phút, {APPOINTMENT_TEXT}",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "(Ký và ghi rõ họ tên)",
        TRACKING_URL,
        f"Mã tra cứu: {SECRET}",
    ):
        assert expected in text, expected


def test_receipt_missing_contact_prints_dotted_lines() -> None:
    text = flat(pdf_pages(render_receipt(receipt(applicant_address=None, applicant_email="", documents=[])))[0])
    assert "Địa chỉ: ....." in text
    assert "Không có giấy tờ kèm theo" in text


def test_applicant_name_is_escaped() -> None:
    pdf = render_receipt(receipt(applicant_name="<b>Nguyễn</b> & Con <script>x</script>"))
    keep("01_receipt_escaped.pdf", pdf)
    text = flat(pdf_pages(pdf)[0])
    assert "<b>Nguyễn</b> & Con <script>x</script>" in text


def test_supplement() -> None:
    pdf = render_supplement(supplement())
    keep("02_supplement.pdf", pdf)
    text = flat("\n".join(pdf_pages(pdf)))
    for expected in (
        "Mẫu số 02",
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        CODE,
        "Nguyễn Thị Thu Hà",
        "Hợp đồng thuê địa điểm kinh doanh",
        "Thiếu chữ ký của chủ hộ kinh doanh",
        f"trước 17 giờ 00 phút, {APPOINTMENT_TEXT}",
        "NGƯỜI HƯỚNG DẪN",
        "Trần Văn Đức, số điện thoại 0225 3 842 555",
    ):
        assert expected in text, expected


def test_refusal() -> None:
    pdf = render_refusal(refusal())
    keep("03_refusal.pdf", pdf)
    text = flat("\n".join(pdf_pages(pdf)))
    for expected in (
        "Mẫu số 03",
        "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        CODE,
        "Lê Hoàng Yến",
        "Đăng ký khai sinh",
        f"14 giờ 30 phút, {APPOINTMENT_TEXT}",
        "Hải Phòng, ngày 25 tháng 11 năm 2026",
        "Căn cứ quy định tại khoản 2 Điều 19 Nghị định số 61/2018/NĐ-CP",
        "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan.",
        "Người yêu cầu không cung cấp giấy chứng sinh theo quy định.",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
    ):
        assert expected in text, expected


def test_record_book_spans_pages_and_lists_every_dossier() -> None:
    form = record_book(30)
    pdf = render_record_book(form)
    keep("07_record_book.pdf", pdf)
    pages = pdf_pages(pdf)
    assert len(pages) > 1
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    text = flat("\n".join(pages))
    assert "SỔ THEO DÕI HỒ SƠ" in text
    assert "Từ ngày 01 tháng 11 năm 2026 đến ngày 30 tháng 11 năm 2026" in text
    for column in ("Mã hồ sơ", "Tên thủ tục", "Cơ quan chủ trì giải quyết", "Ngày hẹn trả", "Ghi chú"):
        assert column in text
    for row in form.rows:
        assert row.dossier_code in text, row.dossier_code
    assert "Trần Văn Đức" in text
    assert "Công ty TNHH Thương mại Đông Hải" in text
    # The header row repeats on every page.
    assert all("Mã hồ sơ" in page for page in pages)


def test_empty_record_book() -> None:
    text = flat(pdf_pages(render_record_book(record_book(0)))[0])
    assert "Không có hồ sơ trong kỳ." in text
