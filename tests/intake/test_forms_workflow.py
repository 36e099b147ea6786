"""Forms 04 (apology), 05 (notice of stopping) and 06 (process control sheet): Vietnamese text survives into the PDF."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from services.dossier.forms import (
    OUTCOME_LABELS,
    AgencyHeader,
    ApologyForm,
    ControlRow,
    ControlSheetForm,
    StopForm,
    render_apology,
    render_control_sheet,
    render_stop,
)
from tests.pdf import flat, keep, pdf_pages

VN = ZoneInfo("Asia/Ho_Chi_Minh")

LAND_OFFICE = AgencyHeader(
    name="Văn phòng Đăng ký đất đai thành phố Hải Phòng",
    parent_name="Sở Nông nghiệp và Môi trường thành phố Hải Phòng",
    place="Hải Phòng",
)
WARD = AgencyHeader(name="Ủy ban nhân dân phường Hồng Bàng", parent_name="Thành phố Hải Phòng", place="Hải Phòng")
CODE = "000.00.31.H26-261123-0007"
APPLICANT = "Đặng Thị Nguyệt Ánh"
PROCEDURE = "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def apology(**changes: object) -> ApologyForm:
    fields: dict[str, object] = {
        "header": LAND_OFFICE,
        "document_number": "15/PXL-VPĐKĐĐ",
        "dossier_code": CODE,
        "applicant_name": APPLICANT,
        "applicant_address": "Số 8 phố Hoàng Văn Thụ, phường Hồng Bàng, thành phố Hải Phòng",
        "procedure_name": PROCEDURE,
        "received_at": vn(2026, 11, 23, 8, 45),
        "original_appointment_at": vn(2026, 11, 27, 16, 0),
        "reason": "Phải xác minh thực địa ranh giới thửa đất do có đơn đề nghị của hộ liền kề.",
        "new_appointment_at": vn(2026, 12, 4, 10, 30),
        "signer_title": "Giám đốc",
        "signer_name": "Phạm Quốc Hưng",
        "printed_at": date(2026, 11, 26),
    }
    fields.update(changes)
    return ApologyForm(**fields)  # type: ignore[arg-type]


def stop() -> StopForm:
    return StopForm(
        header=WARD,
        dossier_code=CODE,
        applicant_name=APPLICANT,
        procedure_name="Đăng ký kết hôn",
        received_at=vn(2026, 11, 23, 14, 10),
        reasons=[
            "Giấy xác nhận tình trạng hôn nhân đã hết thời hạn sử dụng.",
            "Người yêu cầu không đủ điều kiện theo khoản 1 Điều 8 Luật Hôn nhân và gia đình.",
        ],
        legal_basis="Luật Hộ tịch năm 2014",
        documents_note="Hồ sơ đã nộp được trả lại tại Bộ phận Tiếp nhận và Trả kết quả.",
        signer_title="Chủ tịch",
        signer_name="Vũ Thị Hồng Nhung",
        printed_at=vn(2026, 11, 27, 9, 0),
    )


CONTROL_ROWS = [
    ControlRow(
        agency_name="Ủy ban nhân dân phường Hồng Bàng",
        step_name="Tiếp nhận hồ sơ",
        handed_at=vn(2026, 11, 23, 8, 45),
        giver_name=APPLICANT,
        giver_unit="Người nộp hồ sơ",
        receiver_name="Trần Văn Đức",
        receiver_unit="Bộ phận Tiếp nhận và Trả kết quả",
        outcome="on_time",
    ),
    ControlRow(
        agency_name="Ủy ban nhân dân phường Hồng Bàng",
        step_name="Thẩm định, xử lý hồ sơ",
        handed_at=vn(2026, 11, 23, 9, 30),
        giver_name="Trần Văn Đức",
        giver_unit="Bộ phận Tiếp nhận và Trả kết quả",
        receiver_name="Lê Minh Khôi",
        receiver_unit="Công chức địa chính",
        step_due_at=vn(2026, 11, 25, 9, 30),
        outcome="early",
    ),
    ControlRow(
        agency_name="Văn phòng Đăng ký đất đai thành phố Hải Phòng",
        step_name="Đo đạc, chỉnh lý hồ sơ địa chính",
        handed_at=vn(2026, 11, 24, 15, 0),
        giver_name="Lê Minh Khôi",
        giver_unit="Ủy ban nhân dân phường Hồng Bàng",
        receiver_name="Nguyễn Hữu Thắng",
        receiver_unit="Chi nhánh Văn phòng Đăng ký đất đai",
        step_due_at=vn(2026, 11, 27, 15, 0),
        outcome="late",
        note="Chuyển liên thông; xác minh thực địa",
    ),
    ControlRow(
        agency_name="Ủy ban nhân dân phường Hồng Bàng",
        step_name="Trả kết quả",
        handed_at=vn(2026, 12, 2, 10, 0),
        giver_name="Nguyễn Hữu Thắng",
        giver_unit="Chi nhánh Văn phòng Đăng ký đất đai",
        receiver_name="Trần Văn Đức",
        receiver_unit="Bộ phận Tiếp nhận và Trả kết quả",
        step_due_at=vn(2026, 12, 4, 10, 30),
    ),
]


def control_sheet(rows: list[ControlRow] = CONTROL_ROWS) -> ControlSheetForm:
    return ControlSheetForm(
        header=WARD,
        dossier_code=CODE,
        applicant_name=APPLICANT,
        procedure_name=PROCEDURE,
        received_at=vn(2026, 11, 23, 8, 45),
        appointment_at=vn(2026, 11, 27, 16, 0),
        new_appointment_at=vn(2026, 12, 4, 10, 30),
        resolving_agency="Ủy ban nhân dân phường Hồng Bàng",
        coordinating_agencies=["Văn phòng Đăng ký đất đai thành phố Hải Phòng", "Thuế thành phố Hải Phòng"],
        rows=rows,
        printed_at=vn(2026, 12, 2, 10, 5),
    )


def test_apology() -> None:
    pdf = render_apology(apology())
    keep("04_apology.pdf", pdf, picture=True)
    pages = pdf_pages(pdf)
    assert len(pages) == 1
    text = flat(pages[0])
    for expected in (
        "Mẫu số 04",
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "VĂN PHÒNG ĐĂNG KÝ ĐẤT ĐAI THÀNH PHỐ HẢI PHÒNG",
        "Số: 15/PXL-VPĐKĐĐ",
        "Hải Phòng, ngày 26 tháng 11 năm 2026",
        f"Kính gửi: Ông/Bà/Tổ chức {APPLICANT}",
        f"Mã hồ sơ: {CODE}",
        PROCEDURE,
        "Thời gian nhận hồ sơ: 08 giờ 45 phút, ngày 23 tháng 11 năm 2026",
        "Thời hẹn trả kết quả giải quyết hồ sơ: 16 giờ 00 phút, ngày 27 tháng 11 năm 2026",
        "Lý do: Phải xác minh thực địa ranh giới thửa đất do có đơn đề nghị của hộ liền kề.",
        "Văn phòng Đăng ký đất đai thành phố Hải Phòng xin lỗi Ông/Bà/Tổ chức",
        "10 giờ 30 phút, ngày 04 tháng 12 năm 2026",
        "GIÁM ĐỐC",
        "(Ký, ghi rõ họ tên và đóng dấu)",
        "Phạm Quốc Hưng",
        "Nơi nhận:",
    ):
        assert expected in text, expected


def test_apology_defaults_and_escaping() -> None:
    form = apology(document_number=None, signer_title="THỦ TRƯỞNG CƠ QUAN", reason="<script>alert(1)</script> & lỗi")
    text = flat(pdf_pages(render_apology(form))[0])
    assert "Số: ....." in text
    assert "THỦ TRƯỞNG CƠ QUAN" in text
    assert "Lý do: <script>alert(1)</script> & lỗi" in text


def test_stop_notice() -> None:
    pdf = render_stop(stop())
    keep("05_stop.pdf", pdf, picture=True)
    text = flat("\n".join(pdf_pages(pdf)))
    for expected in (
        "Mẫu số 05",
        "THÔNG BÁO DỪNG XỬ LÝ HỒ SƠ",
        f"Mã hồ sơ: {CODE}",
        "ỦY BAN NHÂN DÂN PHƯỜNG HỒNG BÀNG",
        "Hải Phòng, ngày 27 tháng 11 năm 2026",
        APPLICANT,
        "Đăng ký kết hôn",
        "14 giờ 10 phút, ngày 23 tháng 11 năm 2026",
        "Căn cứ quy định tại Luật Hộ tịch năm 2014",
        "Giấy xác nhận tình trạng hôn nhân đã hết thời hạn sử dụng.",
        "khoản 1 Điều 8 Luật Hôn nhân và gia đình.",
        "Hồ sơ đã nộp được trả lại",
        "CHỦ TỊCH",
        "Vũ Thị Hồng Nhung",
    ):
        assert expected in text, expected


def test_control_sheet_lists_every_hand_over() -> None:
    pdf = render_control_sheet(control_sheet())
    keep("06_control_sheet.pdf", pdf, picture=True)
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    pages = pdf_pages(pdf)
    assert len(pages) == 1
    text = flat(pages[0])
    for expected in (
        "Mẫu số 06",
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        f"Mã hồ sơ: {CODE}",
        APPLICANT,
        PROCEDURE,
        "Thời gian nhận hồ sơ: 08 giờ 45 phút, ngày 23 tháng 11 năm 2026",
        "Thời hẹn trả kết quả: 16 giờ 00 phút, ngày 27 tháng 11 năm 2026",
        "Hẹn lại ngày trả kết quả: 10 giờ 30 phút, ngày 04 tháng 12 năm 2026",
        "Thuế thành phố Hải Phòng",
        "Tên cơ quan/đơn vị",
        "Thời gian giao, nhận hồ sơ",
        "Người giao",
        "Người nhận",
        "Hạn xử lý của bước",
        "(trước hạn/đúng hạn/quá hạn)",
        "Ghi chú",
        # each cell prints the time over the date: "15 giờ 00 phút," then "ngày 24 tháng 11 năm 2026"
        "15 giờ 00 phút, ngày 24 tháng 11 năm 2026",
        "15 giờ 00 phút, ngày 27 tháng 11 năm 2026",
        "09 giờ 30 phút, ngày 25 tháng 11 năm 2026",
        "Chuyển liên thông; xác minh thực địa",
    ):
        assert expected in text, expected
    for row in CONTROL_ROWS:
        assert row.giver_name in text, row.giver_name
        assert row.outcome_label in text, row.outcome_label
    assert {row.outcome_label for row in CONTROL_ROWS} == {*OUTCOME_LABELS.values(), ""}
    assert [row.outcome_label for row in CONTROL_ROWS] == ["Đúng hạn", "Trước hạn", "Quá hạn", ""]


def test_control_sheet_spans_pages_and_repeats_its_header() -> None:
    rows = [
        ControlRow(
            agency_name=f"Phòng chuyên môn số {i + 1}",
            handed_at=vn(2026, 11, 23 + i // 8, 8 + i % 8, 0),
            giver_name=f"Cán bộ Nguyễn Văn Lượng {i + 1}",
            receiver_name=f"Cán bộ Trần Thị Hằng {i + 2}",
            step_due_at=vn(2026, 11, 24 + i // 8, 8 + i % 8, 0),
            outcome=("early", "on_time", "late")[i % 3],
        )
        for i in range(40)
    ]
    pdf = render_control_sheet(control_sheet(rows))
    keep("06_control_sheet_long.pdf", pdf, picture=True)
    pages = pdf_pages(pdf)
    assert len(pages) > 1
    assert all("Người giao" in page for page in pages)
    text = flat("\n".join(pages))
    for row in rows:
        assert row.giver_name in text, row.giver_name


def test_empty_control_sheet() -> None:
    text = flat(pdf_pages(render_control_sheet(control_sheet([])))[0])
    assert "Chưa có lần giao, nhận hồ sơ nào." in text
