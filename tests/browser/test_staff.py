"""The staff workspace in a real browser: the counter desk, the inbox, the dossier page and its actions."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import FilePayload, Page, expect

from tests.browser.conftest import BrowserStack, axe_check, new_page, screenshot, sign_in, wait_until

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CENTRE = "000.00.01.H26"  # tiepnhan's desk
LAND_OFFICE = "000.01.03.H26"  # chuyenvien and lanhdao


def applicant(name: str = "Trần Văn Bình") -> dict[str, Any]:
    return {
        "full_name": name,
        "id_number": "031190004567",
        "phone": "0912345678",
        "email": "binh@example.vn",
        "address": "Số 5 Điện Biên Phủ, Hải Phòng",
    }


@pytest.fixture(scope="module")
def procedure(stack: BrowserStack) -> dict[str, Any]:
    """A province procedure received at the centre and resolved by the land office (specialist, then head)."""
    found = httpx.get(
        stack.url("intake") + "/api/v1/procedures",
        params={"agency": LAND_OFFICE, "interagency": "false", "limit": 100},
    ).json()["items"]
    for item in found:
        if item["online_mode"] == "none":
            continue
        detail = httpx.get(stack.url("intake") + f"/api/v1/procedures/{item['code']}").json()
        roles = [step["role"] for step in detail["steps"]]
        receiving = [a["code"] for a in detail["agencies"] if a["role"] == "receiving"]
        if roles == ["counter", "specialist", "head", "counter"] and receiving == [CENTRE]:
            return dict(detail)
    raise AssertionError("no demo procedure of the land office fits")


def counter_dossier(stack: BrowserStack, procedure: dict[str, Any], name: str = "Trần Văn Bình") -> dict[str, Any]:
    answer = httpx.post(
        stack.url("intake") + "/api/v1/counter/dossiers",
        json={"procedure_code": procedure["code"], "applicant": applicant(name), "return_method": "counter"},
        headers={"Authorization": f"Bearer {stack.token('tiepnhan')}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def routed(stack: BrowserStack, code: str) -> dict[str, Any]:
    """Wait until workflow_api has routed the dossier (the relay delivers dossier.received)."""
    token = stack.token("tiepnhan")
    seen: dict[str, Any] = {}

    async def check() -> bool:
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                stack.url("workflow") + f"/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {token}"}
            )
        seen.update(answer.json())
        return bool(answer.status_code == 200 and seen.get("status") == "processing")

    await wait_until(check, what=f"{code} routed")
    return seen


async def dossier_status(stack: BrowserStack, code: str, username: str = "tiepnhan") -> str:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            stack.url("workflow") + f"/api/v1/dossiers/{code}",
            headers={"Authorization": f"Bearer {stack.token(username)}"},
        )
    return str(answer.json()["status"])


async def test_counter_receives_a_dossier_and_prints_the_receipt(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    await sign_in(page, "tiepnhan")
    await page.goto("/can-bo/mot-cua")
    await expect(page.get_by_role("heading", name="Tiếp nhận hồ sơ tại quầy")).to_be_visible()
    await axe_check(page, "staff-counter-empty")

    # the form says what is missing, in Vietnamese, before anything is sent
    await page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    await expect(page.get_by_text("Vui lòng chọn thủ tục hành chính.")).to_be_visible()
    await page.get_by_label("Số CCCD hoặc mã số thuế").fill("12345")
    await page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    await expect(page.get_by_text("Số CCCD phải gồm 12 chữ số")).to_be_visible()

    await page.get_by_label("Chọn thủ tục").select_option(procedure["code"])
    await expect(page.get_by_test_id("procedure-facts")).to_contain_text("Thời hạn giải quyết")
    await page.get_by_label("Họ và tên").fill("Lê Thị Hoa")
    await page.get_by_label("Số CCCD hoặc mã số thuế").fill("031190004567")
    await page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    first_document = procedure["required_documents"][0]
    await page.get_by_label(f"{first_document['code']}. {first_document['name'][:40]}", exact=False).check()
    await axe_check(page, "staff-counter-filled")
    await screenshot(page, "staff-counter-form")
    await page.get_by_role("button", name="Tiếp nhận hồ sơ").click()

    await expect(page.get_by_role("heading", name="Đã tiếp nhận hồ sơ")).to_be_visible()
    code = (await page.get_by_test_id("dossier-code").inner_text()).strip()
    assert code.startswith(CENTRE + "-")
    assert await page.get_by_test_id("dossier-secret").inner_text()
    await expect(page.get_by_test_id("appointment")).to_have_text(re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}"))
    assert code not in page.url
    await axe_check(page, "staff-counter-done")
    await screenshot(page, "staff-counter-receipt")

    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="In phiếu tiếp nhận và hẹn trả kết quả (PDF)").click()
    download = await waiting.value
    path = await download.path()
    assert path is not None
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.suggested_filename == f"{code}-01.pdf"


async def test_counter_accepts_an_online_submission(page: Page, stack: BrowserStack, procedure: dict[str, Any]) -> None:
    body = {"procedure_code": procedure["code"], "applicant": applicant("Phạm Minh Châu"), "return_method": "counter"}
    first_document = procedure["required_documents"][0]["code"]
    submitted = httpx.post(
        stack.url("intake") + "/api/v1/dossiers",
        data={"data": json.dumps(body)},
        files=[(first_document, ("don-de-nghi.pdf", PDF, "application/pdf"))],
    )
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]

    await sign_in(page, "tiepnhan")
    await page.goto("/can-bo/mot-cua/truc-tuyen")
    await expect(page.get_by_role("heading", name="Hồ sơ trực tuyến chờ kiểm tra", level=2)).to_be_visible()
    await axe_check(page, "staff-online-list")
    await screenshot(page, "staff-online-list")
    await page.get_by_role("link", name=code).click()
    await expect(page.get_by_role("heading", name=f"Kiểm tra hồ sơ {code}")).to_be_visible()
    await expect(page.get_by_test_id("checklist")).to_contain_text("Đã có")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Tải don-de-nghi.pdf").click()
    attached = await waiting.value
    attached_path = await attached.path()
    assert attached_path is not None
    with open(attached_path, "rb") as pdf:
        assert pdf.read() == PDF

    # a refusal needs reasons: the form says so and sends nothing
    await page.get_by_role("button", name="Từ chối tiếp nhận").click()
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_text("Vui lòng nhập lý do, mỗi dòng một lý do")).to_be_visible()
    await axe_check(page, "staff-online-check")
    await screenshot(page, "staff-online-check")

    await page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    await page.get_by_label("Ý kiến xử lý").fill("Hồ sơ đầy đủ.")
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("decision-done")).to_contain_text("Đã tiếp nhận hồ sơ")
    assert await dossier_status(stack, code) in {"received", "processing"}

    # the receipt of an online dossier: printed without the secret, which the citizen already holds
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="In giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)").click()
    download = await waiting.value
    path = await download.path()
    assert path is not None
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.suggested_filename == f"{code}-01.pdf"


async def test_specialist_forwards_head_approves_and_the_counter_returns(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    code = counter_dossier(stack, procedure, "Đỗ Quang Huy")["code"]
    await routed(stack, code)

    # the specialist: the inbox, then the dossier page and its buttons
    await sign_in(page, "chuyenvien")
    await page.goto("/can-bo/ho-so")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=code))
    await expect(row).to_have_attribute("data-due", "ok")
    await expect(page.get_by_test_id("counts")).to_contain_text("Đang xử lý")
    await axe_check(page, "staff-inbox")
    await screenshot(page, "staff-inbox")
    await row.get_by_role("link", name=code).click()
    await expect(page.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
    await expect(page.get_by_test_id("status")).to_have_text("Đang xử lý")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Tiếp nhận")
    await expect(page.get_by_test_id("remaining")).to_contain_text("còn")
    await axe_check(page, "staff-dossier")
    await screenshot(page, "staff-dossier-specialist")
    await page.get_by_role("button", name="Chuyển bước tiếp theo").click()
    await expect(page.get_by_test_id("form-forward")).to_be_visible()
    await page.get_by_label("Ý kiến xử lý").fill("Đủ điều kiện, trình lãnh đạo.")
    await axe_check(page, "staff-dossier-forward-form")
    await page.get_by_role("button", name="Xác nhận: Chuyển bước tiếp theo").click()
    await expect(page.get_by_test_id("action-done")).to_contain_text("Đã chuyển hồ sơ sang bước tiếp theo")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Đủ điều kiện, trình lãnh đạo.")
    await expect(page.get_by_role("button", name="Chuyển bước tiếp theo")).to_have_count(0)

    # the head: sending back without a reason is stopped in the browser, in Vietnamese; then approve
    head = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await sign_in(head, "lanhdao")
        await head.goto(f"/can-bo/ho-so/{code}")
        await head.get_by_role("button", name="Trả lại bước trước").click()
        await head.get_by_role("button", name="Xác nhận: Trả lại bước trước").click()
        await expect(head.get_by_text("Vui lòng nhập lý do trả lại hồ sơ (ít nhất 5 ký tự).")).to_be_visible()
        await expect(head.get_by_label("Lý do")).to_have_attribute("aria-invalid", "true")
        await screenshot(head, "staff-dossier-send-back-invalid")
        assert await dossier_status(stack, code) == "processing"
        await head.get_by_role("button", name="Phê duyệt, có kết quả").click()
        await head.get_by_label("Kết quả giải quyết").fill("Đã ký giấy chứng nhận.")
        await head.get_by_label("Tệp kết quả").set_input_files(
            files=[FilePayload(name="giay-chung-nhan.pdf", mimeType="application/pdf", buffer=PDF)]
        )
        await head.get_by_role("button", name="Xác nhận: Phê duyệt, có kết quả").click()
        await expect(head.get_by_test_id("action-done")).to_contain_text("Đã phê duyệt")
        await expect(head.get_by_test_id("status")).to_have_text("Đã xử lý xong")
        await expect(head.get_by_role("button", name="Tải giay-chung-nhan.pdf")).to_be_visible()
        await axe_check(head, "staff-dossier-resolved")
    finally:
        await head.context.close()

    # the counter returns the result
    counter = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await sign_in(counter, "tiepnhan")
        await counter.goto("/can-bo/mot-cua/tra-ket-qua")
        await counter.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
        await counter.get_by_label("Ghi chú khi trao kết quả").fill("Công dân nhận trực tiếp.")
        await axe_check(counter, "staff-return")
        await screenshot(counter, "staff-return")
        await counter.get_by_role("button", name="Xác nhận đã trả kết quả").click()
        await expect(counter.get_by_test_id("returned")).to_contain_text(code)
        assert await dossier_status(stack, code) == "returned"
        await counter.goto(f"/can-bo/ho-so/{code}")
        await expect(counter.get_by_test_id("status")).to_have_text("Đã trả kết quả")
        async with counter.expect_download() as waiting:
            await counter.get_by_role("button", name="In phiếu kiểm soát quá trình (Mẫu 06)").click()
        sheet = await waiting.value
        sheet_path = await sheet.path()
        assert sheet_path is not None
        with open(sheet_path, "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
    finally:
        await counter.context.close()


async def test_the_inbox_colours_dossiers_due_soon_and_overdue(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    code = counter_dossier(stack, procedure, "Vũ Thị Lan")["code"]
    seen = await routed(stack, code)
    step_due = datetime.fromisoformat(seen["step_due_at"])
    try:
        await sign_in(page, "chuyenvien")
        stack.clock.set(step_due - timedelta(hours=1))
        await page.goto("/can-bo/ho-so?han=soon")
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=code))
        await expect(row).to_have_attribute("data-due", "soon")
        await expect(row.get_by_text("Sắp đến hạn")).to_be_visible()
        await axe_check(page, "staff-inbox-soon")
        await screenshot(page, "staff-inbox-soon")

        stack.clock.set(step_due + timedelta(days=60))
        await page.goto("/can-bo/ho-so?han=overdue")
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=code))
        await expect(row).to_have_attribute("data-due", "overdue")
        await expect(row.get_by_text("Quá hạn")).to_be_visible()
        await axe_check(page, "staff-inbox-overdue")
        await screenshot(page, "staff-inbox-overdue")
        await page.goto(f"/can-bo/ho-so/{code}")
        await expect(page.get_by_test_id("remaining")).to_contain_text("quá")
    finally:
        stack.clock.reset()


async def test_stopping_needs_reasons_and_gives_the_notice(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    code = counter_dossier(stack, procedure, "Trịnh Văn Tú")["code"]
    await routed(stack, code)
    await sign_in(page, "chuyenvien")
    await page.goto(f"/can-bo/ho-so/{code}")
    await page.get_by_role("button", name="Dừng xử lý").click()
    await page.get_by_role("button", name="Xác nhận: Dừng xử lý").click()
    await expect(page.get_by_text("Vui lòng nhập lý do, mỗi dòng một lý do")).to_be_visible()
    reasons = "Thửa đất đang có tranh chấp.\nChưa đủ điều kiện cấp lại."
    await page.get_by_label("Lý do (mỗi dòng một lý do)").fill(reasons)
    await page.get_by_role("button", name="Xác nhận: Dừng xử lý").click()
    await expect(page.get_by_test_id("status")).to_have_text("Dừng xử lý")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Thửa đất đang có tranh chấp.")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Tải thông báo dừng xử lý (Mẫu 05)").click()
    notice = await waiting.value
    notice_path = await notice.path()
    assert notice_path is not None
    with open(notice_path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


async def test_the_notifications_page_marks_a_notice_read(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    code = counter_dossier(stack, procedure, "Hoàng Thị Mai")["code"]
    await routed(stack, code)
    token = stack.token("chuyenvien")

    async def noticed() -> bool:
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                stack.url("notify") + "/api/v1/notifications/inbox",
                params={"unread": "true"},
                headers={"Authorization": f"Bearer {token}"},
            )
        return any(item["dossier_code"] == code for item in answer.json()["items"])

    await wait_until(noticed, what="the specialist's in-app notice")
    await sign_in(page, "chuyenvien")
    await page.goto("/can-bo/thong-bao")
    await expect(page.get_by_role("heading", name="Thông báo", level=1)).to_be_visible()
    notice = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=f"Mở hồ sơ {code}"))
    await expect(notice.get_by_text("Mới", exact=True)).to_be_visible()
    await axe_check(page, "staff-notifications")
    await screenshot(page, "staff-notifications")
    before = await page.get_by_test_id("unread").inner_text()
    await notice.get_by_role("button", name="Đánh dấu đã đọc").click()
    await expect(notice.get_by_role("button", name="Đánh dấu đã đọc")).to_have_count(0)
    await expect(page.get_by_test_id("unread")).not_to_have_text(before)
    await notice.get_by_role("link", name=f"Mở hồ sơ {code}").click()
    await expect(page.get_by_test_id("sent")).to_contain_text("Trong ứng dụng")
    await expect(page.get_by_test_id("sent")).not_to_contain_text("0912345678")


async def test_the_counter_apologises_with_a_new_appointment_and_prints_the_letter(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    created = counter_dossier(stack, procedure, "Ngô Bảo Ngọc")
    code = created["code"]
    seen = await routed(stack, code)
    later = httpx.get(
        stack.url("workflow") + "/api/v1/calendar/due",
        params={"start": seen["due_at"], "hours": 2, "agency": CENTRE},
    ).json()["due_at"]
    local = datetime.fromisoformat(later).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))

    await sign_in(page, "tiepnhan")
    await page.goto(f"/can-bo/ho-so/{code}")
    await page.get_by_role("button", name="Xin lỗi và hẹn lại").click()
    await page.get_by_role("button", name="Xác nhận: Xin lỗi và hẹn lại").click()
    await expect(page.get_by_text("Vui lòng nhập lý do xin lỗi, hẹn lại (ít nhất 5 ký tự).")).to_be_visible()
    await expect(page.get_by_text("Vui lòng chọn ngày giờ hẹn trả kết quả mới.")).to_be_visible()
    await page.get_by_label("Lý do").fill("Cần xác minh thêm thông tin thửa đất.")
    await page.get_by_label("Ngày giờ hẹn trả kết quả mới").fill(local.strftime("%Y-%m-%dT%H:%M"))
    await axe_check(page, "staff-dossier-apology-form")
    await page.get_by_role("button", name="Xác nhận: Xin lỗi và hẹn lại").click()
    await expect(page.get_by_test_id("action-done")).to_contain_text("Đã ghi nhận thư xin lỗi")
    await expect(page.get_by_test_id("dossier-header")).to_contain_text(local.strftime("%d/%m/%Y %H:%M"))
    await expect(page.get_by_role("button", name="Xin lỗi và hẹn lại")).to_have_count(0)
    await screenshot(page, "staff-dossier-apology")
    async with page.expect_download() as waiting:
        await page.get_by_test_id("action-done").get_by_role("button", name="Tải thư xin lỗi, hẹn lại (Mẫu 04)").click()
    letter = await waiting.value
    letter_path = await letter.path()
    assert letter_path is not None
    with open(letter_path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


async def test_the_staff_pages_switch_to_english(page: Page, stack: BrowserStack) -> None:
    await sign_in(page, "chuyenvien")
    await page.goto("/can-bo/ho-so")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_role("heading", name="My dossiers", level=1)).to_be_visible()
    await expect(page.get_by_label("Scope")).to_be_visible()
    await axe_check(page, "staff-inbox-en")
    await page.get_by_test_id("language").select_option("vi")
    await expect(page.get_by_role("heading", name="Hồ sơ cần xử lý", level=1)).to_be_visible()


async def test_the_inbox_and_a_dossier_fit_a_phone(
    phone_page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    code = counter_dossier(stack, procedure, "Bùi Văn Nam")["code"]
    await routed(stack, code)
    await sign_in(phone_page, "chuyenvien")
    await phone_page.goto("/can-bo/ho-so")
    await expect(phone_page.get_by_role("link", name=code)).to_be_visible()
    await axe_check(phone_page, "staff-inbox-phone")
    await screenshot(phone_page, "staff-inbox-phone")
    await phone_page.goto(f"/can-bo/ho-so/{code}")
    await expect(phone_page.get_by_role("button", name="Chuyển bước tiếp theo")).to_be_visible()
    width = await phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the dossier page scrolls sideways on a phone ({width}px)"
    await axe_check(phone_page, "staff-dossier-phone")
    await screenshot(phone_page, "staff-dossier-phone")


async def test_the_desk_asks_for_a_supplement_with_what_is_missing(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    body = {"procedure_code": procedure["code"], "applicant": applicant("Đinh Công Sơn"), "return_method": "counter"}
    submitted = httpx.post(stack.url("intake") + "/api/v1/dossiers", json=body)
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]

    await sign_in(page, "tiepnhan")
    await page.goto(f"/can-bo/ho-so/{code}")
    await page.get_by_role("link", name="Kiểm tra hồ sơ tại bàn một cửa").click()
    await page.get_by_role("button", name="Yêu cầu bổ sung").click()
    missing = procedure["required_documents"][0]["name"][:300]
    await expect(page.get_by_label("Giấy tờ 1", exact=True)).to_have_value(missing)
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_text("Ghi rõ lý do cần bổ sung (ít nhất 5 ký tự).").first).to_be_visible()
    count = await page.get_by_label("Lý do bổ sung giấy tờ", exact=False).count()
    for index in range(count):
        await page.get_by_label(f"Lý do bổ sung giấy tờ {index + 1}").fill("Chưa nộp bản chính.")
    await axe_check(page, "staff-online-supplement")
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("decision-done")).to_contain_text("Đã gửi yêu cầu bổ sung")
    assert await dossier_status(stack, code) == "awaiting_supplement"
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Tải phiếu yêu cầu bổ sung (Mẫu 02)").click()
    form = await waiting.value
    form_path = await form.path()
    assert form_path is not None
    with open(form_path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


async def test_an_action_on_a_dossier_someone_else_just_moved_says_so_and_reloads(
    page: Page, stack: BrowserStack, procedure: dict[str, Any]
) -> None:
    code = counter_dossier(stack, procedure, "Lý Thu Trang")["code"]
    seen = await routed(stack, code)
    await sign_in(page, "chuyenvien")
    await page.goto(f"/can-bo/ho-so/{code}")
    await page.get_by_role("button", name="Chuyển bước tiếp theo").click()
    await page.get_by_label("Ý kiến xử lý").fill("Trình lãnh đạo.")

    moved = httpx.post(
        stack.url("workflow") + f"/api/v1/dossiers/{code}/transitions",
        json={"action": "forward", "version": seen["version"], "comment": "Chuyển từ máy khác."},
        headers={"Authorization": f"Bearer {stack.token('chuyenvien')}"},
    )
    assert moved.status_code == 200, moved.text

    await page.get_by_role("button", name="Xác nhận: Chuyển bước tiếp theo").click()
    await expect(page.get_by_test_id("conflict")).to_contain_text("Hồ sơ vừa được người khác cập nhật")
    await expect(page.get_by_role("button", name="Chuyển bước tiếp theo")).to_have_count(0)
    await expect(page.get_by_test_id("timeline")).to_contain_text("Chuyển từ máy khác.")
    timeline = httpx.get(
        stack.url("workflow") + f"/api/v1/dossiers/{code}/timeline",
        headers={"Authorization": f"Bearer {stack.token('chuyenvien')}"},
    ).json()
    assert [row["action"] for row in timeline].count("forward") == 1
