"""The acceptance journey, through the UI only, one dossier from start to end:

a citizen submits online with a file and tracks it; the counter officer accepts it and prints the
receipt; the specialist and the head move it to resolved; the counter returns it; the citizen rates it;
the leader's dashboard counts it. Screenshots of each main page are saved (test-artifacts/screenshots/
journey-*.png) and axe runs on each.

Everyone works in their own browser context (the citizen on a phone), at phường Hồng Bàng: its counter
officer (tiepnhan.xa), specialist (chuyenvien.xa) and chairman, head and leader in one (lanhdao.xa).
Besides the UI the test only reads: the procedure's public page data (which documents are mandatory) and
whether the workers have routed the dossier yet (to wait for them rather than sleep).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import BrowserStack, axe_check, new_page, screenshot, sign_in, wait_until

PROCEDURE = "1.001193"  # Thủ tục đăng ký khai sinh: fully online, counter → specialist → head → counter
WARD = "000.00.31.H26"  # UBND phường Hồng Bàng
COUNTER, SPECIALIST, HEAD_AND_LEADER = "tiepnhan.xa", "chuyenvien.xa", "lanhdao.xa"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EMAIL = "quynhanh@example.vn"
RECEIPT_BUTTON = re.compile(r"phiếu tiếp nhận|Mẫu 01", re.IGNORECASE)


class Journey:
    """What the test saw, and the steps the UI could not do (reported together at the end)."""

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.shots = 0

    async def shot(self, page: Page, name: str) -> None:
        self.shots += 1
        await axe_check(page, f"journey {name}")
        await screenshot(page, f"journey-{self.shots:02d}-{name}")


def mandatory_documents(stack: BrowserStack) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.url('intake')}/api/v1/procedures/{PROCEDURE}")
    answer.raise_for_status()
    return [document for document in answer.json()["required_documents"] if document["mandatory"]]


async def workflow_status(stack: BrowserStack, code: str) -> str:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{stack.url('workflow')}/api/v1/dossiers/{code}",
            headers={"Authorization": f"Bearer {stack.token(COUNTER)}"},
        )
    return str(answer.json().get("status")) if answer.status_code == 200 else ""


def indicator(page: Page, label: str) -> Locator:
    box = page.get_by_test_id("indicators").locator(".indicator", has=page.get_by_text(label, exact=True))
    return box.locator(".indicator-value")


async def number(locator: Locator) -> int:
    text = (await locator.inner_text()).strip()
    digits = re.sub(r"[.\s\u00a0]", "", text)
    assert digits.isdigit(), f"not a count: {text!r}"
    return int(digits)


async def track(citizen: Page, code: str, secret: str) -> None:
    """The citizen looks the dossier up from scratch, as anyone would with the receipt in hand."""
    await citizen.goto("/tra-cuu")
    await citizen.get_by_label("Mã hồ sơ").fill(code)
    await citizen.get_by_label("Mã bí mật").fill(secret)
    await citizen.get_by_role("button", name="Tra cứu").click()
    await expect(citizen.get_by_test_id("tracking")).to_be_visible()
    assert secret not in citizen.url, "the secret must not travel in the URL"


async def test_a_dossier_from_online_submission_to_the_leaders_dashboard(
    page: Page, phone_page: Page, stack: BrowserStack
) -> None:
    journey = Journey()
    citizen, counter = phone_page, page
    browser: Browser = page.context.browser  # type: ignore[assignment]

    # 0. the leader's dashboard before: what it counts now
    leader = await new_page(browser, stack)
    try:
        await sign_in(leader, HEAD_AND_LEADER)
        await leader.goto("/lanh-dao")
        await expect(leader.get_by_role("heading", level=1)).to_have_text("Bảng điều hành")
        received_before = await number(indicator(leader, "Hồ sơ tiếp nhận"))
        resolved_before = await number(indicator(leader, "Đã giải quyết"))
    finally:
        await leader.context.close()

    # 1. the citizen submits online with a file, on a phone
    await citizen.goto("/thu-tuc")
    await citizen.get_by_role("searchbox", name="Tìm theo tên hoặc mã thủ tục").fill("khai sinh")
    await citizen.get_by_role("button", name="Tìm kiếm").click()
    await citizen.get_by_role("link", name="Thủ tục đăng ký khai sinh", exact=True).click()
    await expect(citizen.get_by_role("heading", level=1)).to_have_text("Thủ tục đăng ký khai sinh")
    await journey.shot(citizen, "citizen-procedure")
    await citizen.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
    await expect(citizen.get_by_role("heading", level=1)).to_have_text("Nộp hồ sơ trực tuyến")
    await citizen.get_by_label("Nơi nộp hồ sơ").select_option(WARD)
    await citizen.get_by_label("Họ và tên").fill("Đặng Thị Quỳnh Anh")
    await citizen.get_by_label("Số CCCD hoặc mã số thuế").fill("031195007788")
    await citizen.get_by_label("Số điện thoại di động").fill("0903 123 456")
    await citizen.get_by_role("textbox", name="Email").fill(EMAIL)
    documents = mandatory_documents(stack)
    assert documents, "the procedure asks for no document: the journey needs a file"
    for document in documents:
        await citizen.locator(f'input[type=file][data-document="{document["code"]}"]').set_input_files(
            {"name": f"{document['code']}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
    await journey.shot(citizen, "citizen-submit-form")
    await citizen.get_by_role("button", name="Gửi hồ sơ").click()
    await expect(citizen.get_by_role("heading", level=1)).to_have_text("Đã gửi hồ sơ")
    code = (await citizen.get_by_test_id("dossier-code").inner_text()).strip()
    secret = (await citizen.get_by_test_id("dossier-secret").inner_text()).strip()
    assert code.startswith(WARD + "-"), code
    await journey.shot(citizen, "citizen-submitted")

    # 2. … and tracks it
    await track(citizen, code, secret)
    await expect(citizen.get_by_test_id("status-label")).to_have_text("Mới đăng ký")
    await expect(citizen.get_by_test_id("timeline")).to_contain_text("Hồ sơ được gửi")
    await journey.shot(citizen, "citizen-track-submitted")

    # 3. the counter officer checks the online dossier and accepts it
    await sign_in(counter, COUNTER)
    await counter.goto("/can-bo/mot-cua/truc-tuyen")
    await journey.shot(counter, "counter-online-list")
    await counter.get_by_role("link", name=code).click()
    await expect(counter.get_by_role("heading", name=f"Kiểm tra hồ sơ {code}")).to_be_visible()
    await expect(counter.get_by_test_id("checklist")).to_be_visible()
    await journey.shot(counter, "counter-check")
    await counter.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    await counter.get_by_label("Ý kiến xử lý").fill("Hồ sơ đầy đủ, hợp lệ.")
    await counter.get_by_role("button", name="Xác nhận").click()
    await expect(counter.get_by_test_id("decision-done")).to_contain_text("Đã tiếp nhận hồ sơ")

    # 4. … and prints the receipt (Mẫu 01)
    receipt = counter.get_by_role("button", name=RECEIPT_BUTTON)
    if await receipt.count() == 0:
        await counter.get_by_test_id("decision-done").get_by_role("link").first.click()
        await expect(counter.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
        receipt = counter.get_by_role("button", name=RECEIPT_BUTTON)
    if await receipt.count():
        secret_box = counter.get_by_label(re.compile(r"^Mã bí mật"))
        if await secret_box.count():  # the slip carries the citizen's secret, which the citizen tells the desk
            await secret_box.first.fill(secret)
        async with counter.expect_download() as waiting:
            await receipt.first.click()
        download = await waiting.value
        assert download.suggested_filename.endswith("01.pdf"), download.suggested_filename  # Mẫu 01
        path = await download.path()
        assert path is not None
        with open(path, "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
    else:
        journey.missing.append(
            "step 4: no button to print the receipt (Mẫu 01) for an accepted online dossier — neither on "
            "/can-bo/mot-cua/truc-tuyen/<code> after 'Tiếp nhận hồ sơ' nor on /can-bo/ho-so/<code>"
        )
    await journey.shot(counter, "counter-accepted")

    async def routed() -> bool:
        return await workflow_status(stack, code) == "processing"

    await wait_until(routed, timeout=30, what=f"{code} routed to the specialist")

    # 5. the specialist finds it in the inbox and moves it on
    specialist = await new_page(browser, stack)
    try:
        await sign_in(specialist, SPECIALIST)
        await specialist.goto("/can-bo/ho-so")
        row = specialist.get_by_role("row").filter(has=specialist.get_by_role("link", name=code))
        await expect(row).to_be_visible()
        await journey.shot(specialist, "specialist-inbox")
        await row.get_by_role("link", name=code).click()
        await expect(specialist.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
        await expect(specialist.get_by_test_id("status")).to_have_text("Đang xử lý")
        await journey.shot(specialist, "specialist-dossier")
        await specialist.get_by_role("button", name="Chuyển bước tiếp theo").click()
        await specialist.get_by_label("Ý kiến xử lý").fill("Đủ điều kiện đăng ký khai sinh, trình lãnh đạo ký.")
        await specialist.get_by_role("button", name="Xác nhận: Chuyển bước tiếp theo").click()
        await expect(specialist.get_by_test_id("action-done")).to_contain_text("Đã chuyển hồ sơ sang bước tiếp theo")
    finally:
        await specialist.context.close()

    # 6. the head approves: resolved
    head = await new_page(browser, stack)
    try:
        await sign_in(head, HEAD_AND_LEADER)
        await head.goto("/can-bo/ho-so")
        await head.get_by_role("link", name=code).click()
        await expect(head.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
        await head.get_by_role("button", name="Phê duyệt, có kết quả").click()
        await head.get_by_label("Kết quả giải quyết").fill("Đã cấp Giấy khai sinh bản chính.")
        await journey.shot(head, "head-approve")
        await head.get_by_role("button", name="Xác nhận: Phê duyệt, có kết quả").click()
        await expect(head.get_by_test_id("action-done")).to_contain_text("Đã phê duyệt")
        await expect(head.get_by_test_id("status")).to_have_text("Đã xử lý xong")
        await journey.shot(head, "head-resolved")
    finally:
        await head.context.close()

    await track(citizen, code, secret)
    await expect(citizen.get_by_test_id("status-label")).to_have_text("Đã có kết quả")
    await journey.shot(citizen, "citizen-track-resolved")

    # 7. the counter returns the result
    await counter.goto("/can-bo/mot-cua/tra-ket-qua")
    await counter.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    await counter.get_by_label("Ghi chú khi trao kết quả").fill("Công dân nhận trực tiếp tại quầy.")
    await journey.shot(counter, "counter-return")
    await counter.get_by_role("button", name="Xác nhận đã trả kết quả").click()
    await expect(counter.get_by_test_id("returned")).to_contain_text(code)
    await counter.goto(f"/can-bo/ho-so/{code}")
    await expect(counter.get_by_test_id("status")).to_have_text("Đã trả kết quả")
    await journey.shot(counter, "counter-returned")

    # 8. the citizen sees it returned and rates the service
    await track(citizen, code, secret)
    await expect(citizen.get_by_test_id("status-label")).to_have_text("Đã trả kết quả")
    await citizen.get_by_label("Hài lòng", exact=True).check()
    await citizen.get_by_label("Góp ý thêm (không bắt buộc)").fill("Cán bộ hướng dẫn tận tình.")
    await journey.shot(citizen, "citizen-rate")
    await citizen.get_by_role("button", name="Gửi đánh giá").click()
    await expect(citizen.get_by_text("Cảm ơn bạn đã đánh giá.")).to_be_visible()
    await journey.shot(citizen, "citizen-rated")

    # 9. the leader's dashboard counts it
    leader = await new_page(browser, stack)
    try:
        await sign_in(leader, HEAD_AND_LEADER)
        await leader.goto("/lanh-dao")
        await expect(indicator(leader, "Hồ sơ tiếp nhận")).to_have_text(str(received_before + 1))
        await expect(indicator(leader, "Đã giải quyết")).to_have_text(str(resolved_before + 1))
        await expect(indicator(leader, "Mức độ hài lòng")).to_have_text(re.compile(r"\d"))
        await expect(leader.get_by_test_id("by-procedure")).to_contain_text(PROCEDURE)
        await journey.shot(leader, "leader-dashboard")
    finally:
        await leader.context.close()

    # and the citizen was told by email along the way (notify_api's worker through the test's SMTP server)
    async def receipt_mailed() -> bool:
        return any(code in mail.subject and "đã được tiếp nhận" in mail.subject for mail in stack.mail.to(EMAIL))

    await wait_until(receipt_mailed, timeout=30, what="the receipt email to the citizen")

    assert not journey.missing, "the journey went through, except:\n- " + "\n- ".join(journey.missing)
