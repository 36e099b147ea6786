"""The citizen portal in a real browser: catalogue search (with and without diacritics), a procedure's
page, an online submission with a file through to tracking, client-side validation that keeps what was
typed, the fee paid through the demo payment gateway, a complaint round trip; axe and screenshots on
every page, also at phone size."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, wait_until

BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh: commune level, fully online, received by two wards
WARD = "000.00.31.H26"  # UBND phường Hồng Bàng
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def procedure(stack: BrowserStack, code: str) -> dict[str, Any]:
    answer = httpx.get(f"{stack.url('intake')}/api/v1/procedures/{code}")
    answer.raise_for_status()
    return dict(answer.json())


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


async def fill_applicant(page: Page, *, id_number: str = "031190004567") -> None:
    await page.get_by_label("Nơi nộp hồ sơ").select_option(WARD)
    await page.get_by_label("Họ và tên").fill("Nguyễn Thị Thu Hà")
    await page.get_by_label("Số CCCD hoặc mã số thuế").fill(id_number)
    await page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    await page.get_by_label("Email", exact=True).fill("thuha@example.vn")


async def attach_mandatory(page: Page, details: dict[str, Any]) -> None:
    for document in details["required_documents"]:
        if document["mandatory"]:
            await page.locator(f'input[type=file][data-document="{document["code"]}"]').set_input_files(
                {"name": f"{document['code']}.pdf", "mimeType": "application/pdf", "buffer": PDF}
            )


async def submit_online(page: Page, stack: BrowserStack) -> tuple[str, str]:
    details = procedure(stack, BIRTH)
    await page.goto(f"/thu-tuc/{BIRTH}/nop-ho-so")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nộp hồ sơ trực tuyến")
    await fill_applicant(page)
    await attach_mandatory(page, details)
    await page.get_by_role("button", name="Gửi hồ sơ").click()
    # the upload and the submission transaction can take a while on a busy machine
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã gửi hồ sơ", timeout=20_000)
    code = (await page.get_by_test_id("dossier-code").inner_text()).strip()
    secret = (await page.get_by_test_id("dossier-secret").inner_text()).strip()
    return code, secret


async def test_search_finds_the_same_procedure_with_and_without_diacritics(page: Page) -> None:
    await page.goto("/")
    await page.get_by_role("searchbox", name="Tìm thủ tục hành chính").fill("đăng ký khai sinh")
    await page.get_by_role("button", name="Tìm kiếm").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Danh mục thủ tục hành chính")
    accented = page.get_by_role("link", name="Thủ tục đăng ký khai sinh", exact=True)
    await expect(accented).to_be_visible()
    with_accents = await page.locator(".procedure-name").all_inner_texts()
    await axe_check(page, "catalogue")
    await screenshot(page, "citizen-catalogue")

    box = page.get_by_role("searchbox", name="Tìm theo tên hoặc mã thủ tục")
    await box.fill("DANG KY KHAI SINH")
    await page.get_by_role("button", name="Tìm kiếm").click()
    await page.wait_for_url(lambda url: "DANG" in url)
    await expect(page.get_by_role("link", name="Thủ tục đăng ký khai sinh", exact=True)).to_be_visible()
    assert await page.locator(".procedure-name").all_inner_texts() == with_accents

    await box.fill("zzzz không có")
    await page.get_by_role("button", name="Tìm kiếm").click()
    await expect(page.get_by_text("Không tìm thấy thủ tục phù hợp")).to_be_visible()


async def test_the_field_filter_and_pages(page: Page) -> None:
    await page.goto("/thu-tuc")
    await expect(page.get_by_test_id("result-count")).to_contain_text("Tìm thấy")
    await expect(page.get_by_role("button", name="Trang sau")).to_be_enabled()
    await page.get_by_role("button", name="Trang sau").click()
    await expect(page.get_by_text("Trang 2/")).to_be_visible()
    await page.get_by_label("Lĩnh vực").select_option("Hộ tịch")
    await expect(page.get_by_role("link", name="Thủ tục đăng ký khai sinh", exact=True)).to_be_visible()
    await page.wait_for_url(lambda url: "linh-vuc=" in url)
    fields = page.locator(".procedure-list .citizen-facts div:nth-child(2) dd")

    async def only_civil_status() -> bool:
        texts = await fields.all_inner_texts()
        return bool(texts) and set(texts) == {"Hộ tịch"}

    await wait_until(only_civil_status, timeout=10, what="only Hộ tịch procedures listed")


async def test_a_procedure_page_shows_documents_fees_and_time_limit(page: Page, stack: BrowserStack) -> None:
    details = procedure(stack, "1.004222")  # Đăng ký thường trú: a known fee
    await page.goto("/thu-tuc/1.004222")
    await expect(page.get_by_role("heading", level=1)).to_have_text(details["name"])
    limit = details["time_limit"]["value"]
    await expect(page.get_by_test_id("time-limit")).to_have_text(f"{limit} ngày làm việc")
    documents = page.get_by_test_id("documents")
    for document in details["required_documents"]:
        await expect(documents).to_contain_text(document["name"])
    if any(document["mandatory"] for document in details["required_documents"]):
        await expect(documents.get_by_text("Bắt buộc").first).to_be_visible()
    known = [fee for fee in details["fees"] if fee["amount_vnd"]]
    for fee in known:
        await expect(page.get_by_test_id("fees")).to_contain_text(f"{vnd(fee['amount_vnd'])} đồng")
    for agency in details["agencies"]:
        await expect(page.get_by_text(agency["name"]).first).to_be_visible()
    await expect(page.get_by_role("link", name="Nộp hồ sơ trực tuyến")).to_be_visible()
    await axe_check(page, "procedure")
    await screenshot(page, "citizen-procedure")


async def test_a_bad_cccd_shows_a_vietnamese_message_and_keeps_what_was_typed(page: Page) -> None:
    await page.goto(f"/thu-tuc/{BIRTH}/nop-ho-so")
    await fill_applicant(page, id_number="12345")
    await page.get_by_role("button", name="Gửi hồ sơ").click()
    await expect(page.get_by_text("Số CCCD phải gồm đúng 12 chữ số")).to_be_visible()
    await expect(page.get_by_label("Số CCCD hoặc mã số thuế")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Số CCCD hoặc mã số thuế")).to_be_focused()
    await expect(page.get_by_test_id("form-errors")).to_be_visible()
    await expect(page.get_by_label("Họ và tên")).to_have_value("Nguyễn Thị Thu Hà")
    await expect(page.get_by_label("Số CCCD hoặc mã số thuế")).to_have_value("12345")
    await expect(page.get_by_label("Số điện thoại di động")).to_have_value("0912 345 678")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nộp hồ sơ trực tuyến")
    await axe_check(page, "submit-errors")
    await screenshot(page, "citizen-submit-errors")


async def test_an_error_only_the_api_finds_is_shown_by_its_field_and_nothing_typed_is_lost(
    page: Page, stack: BrowserStack
) -> None:
    details = procedure(stack, BIRTH)
    await page.goto(f"/thu-tuc/{BIRTH}/nop-ho-so")
    await fill_applicant(page)
    # well-formed for the browser, refused by the API's email validation (a special-use domain)
    await page.get_by_label("Email", exact=True).fill("thuha@may.test")
    await attach_mandatory(page, details)
    await page.get_by_role("button", name="Gửi hồ sơ").click()
    await expect(page.get_by_test_id("problem")).to_be_visible(timeout=20_000)
    await expect(page.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Email", exact=True)).to_have_value("thuha@may.test")
    await expect(page.get_by_label("Họ và tên")).to_have_value("Nguyễn Thị Thu Hà")
    await axe_check(page, "submit-api-error")
    await screenshot(page, "citizen-submit-api-error")
    # corrected, the same form goes through with the files still chosen
    await page.get_by_label("Email", exact=True).fill("thuha@example.vn")
    await page.get_by_role("button", name="Gửi hồ sơ").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã gửi hồ sơ", timeout=20_000)


async def test_submit_online_then_track_the_dossier(page: Page, stack: BrowserStack) -> None:
    code, secret = await submit_online(page, stack)
    assert code.startswith(WARD)
    assert len(secret) >= 8
    await expect(page.get_by_text("giữ kín mã bí mật")).to_be_visible()
    await axe_check(page, "submitted")
    await screenshot(page, "citizen-submitted")

    # straight from the receipt: the secret travels in the router state, not the URL
    await page.get_by_role("link", name="Xem tình trạng hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Mới đăng ký")
    assert secret not in page.url

    # and from scratch, by code and secret
    await page.goto("/tra-cuu")
    await axe_check(page, "track-lookup")
    await page.get_by_label("Mã hồ sơ").fill(code)
    await page.get_by_label("Mã bí mật").fill(secret)
    await page.get_by_role("button", name="Tra cứu").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Mới đăng ký")
    await expect(page.get_by_test_id("status-sentence")).to_have_text(
        "Hồ sơ đã được gửi và đang chờ cán bộ một cửa kiểm tra."
    )
    await expect(page.get_by_test_id("timeline")).to_contain_text("Hồ sơ được gửi")
    await axe_check(page, "track")
    await screenshot(page, "citizen-track")

    # a wrong secret: the same answer as an unknown code
    await page.goto("/tra-cuu")
    await page.get_by_label("Mã hồ sơ").fill(code)
    await page.get_by_label("Mã bí mật").fill("ZZZZ-9999")
    await page.get_by_role("button", name="Tra cứu").click()
    await expect(page.get_by_text("Không tìm thấy hồ sơ với mã và mã bí mật này")).to_be_visible()
    await page.get_by_label("Mã bí mật").fill(secret)
    await page.get_by_role("button", name="Tra cứu").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Mới đăng ký")


async def test_track_by_phone_shows_the_state_and_the_appointment_only(page: Page, stack: BrowserStack) -> None:
    code, _ = await submit_online(page, stack)
    await page.goto("/tra-cuu")
    await page.get_by_role("link", name="Không có mã bí mật? Tra cứu bằng số điện thoại").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tra cứu bằng số điện thoại")
    await page.get_by_label("Mã hồ sơ").fill(code)
    await page.get_by_label("Số điện thoại").fill("0912 345 678")
    async with page.expect_request(lambda request: request.url.endswith("/intake/api/v1/track")) as sent:
        await page.get_by_role("button", name="Xem tình trạng").click()
    request = await sent.value
    assert request.method == "POST"
    assert "0912" not in request.url  # the phone number travels in the body, never in a URL
    await expect(page.get_by_test_id("phone-status")).to_have_text("Mới đăng ký")
    found = page.get_by_test_id("phone-tracking")
    await expect(found).to_contain_text("hãy tra cứu bằng mã bí mật")  # no appointment before it is received
    await expect(found).not_to_contain_text("khai sinh")  # no procedure, history or notes without the secret
    await axe_check(page, "track-by-phone")
    await screenshot(page, "citizen-track-by-phone")
    await page.get_by_label("Số điện thoại").fill("0999 999 999")
    await page.get_by_role("button", name="Xem tình trạng").click()
    await expect(page.get_by_text("Không tìm thấy hồ sơ với mã và số điện thoại này.")).to_be_visible()


async def test_the_fee_is_paid_through_the_demo_gateway(page: Page, stack: BrowserStack) -> None:
    code, secret = await submit_online(page, stack)
    officer = {"Authorization": f"Bearer {stack.token('tiepnhan.xa')}"}
    intake = stack.url("intake")
    accepted = httpx.post(f"{intake}/api/v1/dossiers/{code}/accept", json={}, headers=officer)
    assert accepted.status_code == 200, accepted.text
    # the fee is asked by whoever works the dossier now: the ward's specialist, once it is routed
    specialist = {"Authorization": f"Bearer {stack.token('chuyenvien.xa')}"}
    asked = httpx.post(
        f"{intake}/api/v1/dossiers/{code}/payments",
        json={"amount_vnd": 8000, "description": "Phí cấp bản sao trích lục"},
        headers=specialist,
    )
    assert asked.status_code == 201, asked.text

    await page.get_by_role("link", name="Xem tình trạng hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Chờ nộp phí, lệ phí")
    await expect(page.get_by_test_id("paused")).to_contain_text("Tạm dừng chờ bạn nộp phí, lệ phí")
    await expect(page.get_by_test_id("payment-amount")).to_have_text("8.000 đồng")
    await axe_check(page, "track-payment")
    await screenshot(page, "citizen-track-payment")
    await page.get_by_role("button", name="Thanh toán trực tuyến").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Cổng thanh toán thử nghiệm")
    await axe_check(page, "payment-gateway")
    await screenshot(page, "citizen-payment-gateway")
    await page.get_by_role("button", name="Xác nhận thanh toán").click()
    await expect(page.get_by_text("Thanh toán thành công")).to_be_visible()
    await page.get_by_role("button", name="Quay lại hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Đang xử lý")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Đã thực hiện nghĩa vụ tài chính")
    await expect(page.get_by_test_id("remaining")).to_be_visible()
    tracked = httpx.get(f"{intake}/api/v1/track/{code}", params={"secret": secret}).json()
    assert tracked["status"] == "processing"


async def test_complaint_round_trip(page: Page) -> None:
    await page.goto("/phan-anh")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Phản ánh, kiến nghị")
    await axe_check(page, "complaint")
    await page.get_by_role("button", name="Gửi", exact=True).click()
    await expect(page.get_by_text("Vui lòng sửa")).to_be_visible()
    await page.get_by_label("Phản ánh", exact=True).check()
    await page.get_by_label("Về thủ tục").select_option(BIRTH)
    await page.get_by_label("Cơ quan bị phản ánh, kiến nghị").select_option(WARD)
    await page.get_by_label("Tiêu đề").fill("Giờ làm việc buổi trưa")
    await page.get_by_label("Nội dung").fill("Đề nghị mở thêm quầy tiếp nhận vào buổi trưa.")
    await page.get_by_role("button", name="Gửi", exact=True).click()
    complaint = (await page.get_by_test_id("complaint-code").inner_text()).strip()
    assert complaint.startswith("PAKN-")
    await screenshot(page, "citizen-complaint-sent")

    await page.get_by_label("Mã phản ánh, kiến nghị").fill(complaint)
    await page.get_by_role("button", name="Tra cứu").click()
    await expect(page.get_by_test_id("complaint-status")).to_have_text("Đã tiếp nhận, đang xem xét")
    await expect(page.get_by_test_id("complaint-found")).to_contain_text("Giờ làm việc buổi trưa")
    await axe_check(page, "complaint-found")
    await screenshot(page, "citizen-complaint-found")


async def test_the_portal_at_phone_size(phone_page: Page, stack: BrowserStack) -> None:
    page = phone_page
    for path, name in (
        ("/", "home"),
        ("/thu-tuc", "catalogue"),
        (f"/thu-tuc/{BIRTH}", "procedure"),
        (f"/thu-tuc/{BIRTH}/nop-ho-so", "submit"),
        ("/tra-cuu", "track"),
        ("/phan-anh", "complaint"),
    ):
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at 390px ({width}px)"
        await axe_check(page, f"phone {name}")
        await screenshot(page, f"citizen-phone-{name}")
    code, _ = await submit_online(page, stack)
    await screenshot(page, "citizen-phone-submitted")
    await page.get_by_role("link", name="Xem tình trạng hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Mới đăng ký")
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    await screenshot(page, "citizen-phone-track")
    assert code


async def test_the_citizen_answers_a_supplement_request(page: Page, stack: BrowserStack) -> None:
    code, _ = await submit_online(page, stack)
    officer = {"Authorization": f"Bearer {stack.token('tiepnhan.xa')}"}
    asked = httpx.post(
        f"{stack.url('intake')}/api/v1/dossiers/{code}/supplement-requests",
        json={"items": [{"document": "Giấy chứng sinh", "reason": "Bản chụp bị mờ, không đọc được"}]},
        headers=officer,
    )
    assert asked.status_code == 200, asked.text

    await page.get_by_role("link", name="Xem tình trạng hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Chờ bổ sung hồ sơ")
    await expect(page.get_by_text("Bản chụp bị mờ, không đọc được").first).to_be_visible()
    await page.get_by_role("button", name="Gửi bổ sung").click()
    await expect(page.get_by_text("Vui lòng đính kèm tệp.")).to_be_visible()
    await axe_check(page, "track-supplement")
    await screenshot(page, "citizen-track-supplement")
    await page.get_by_label("Giấy tờ bổ sung").set_input_files(
        {"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Gửi bổ sung").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Mới đăng ký")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Công dân đã bổ sung hồ sơ (1 tệp)")


async def test_the_portal_speaks_english_too(page: Page) -> None:
    await page.goto("/thu-tuc/1.001193")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_role("heading", name="Documents required")).to_be_visible()
    await expect(page.get_by_role("link", name="Submit online")).to_be_visible()
    await axe_check(page, "procedure-en")
    await page.get_by_test_id("language").select_option("vi")
    await expect(page.get_by_role("heading", name="Thành phần hồ sơ")).to_be_visible()


async def test_the_citizen_withdraws_the_dossier(page: Page, stack: BrowserStack) -> None:
    await submit_online(page, stack)
    await page.get_by_role("link", name="Xem tình trạng hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Mới đăng ký")
    await page.get_by_text("Rút hồ sơ", exact=True).first.click()
    await page.get_by_label("Lý do (không bắt buộc)").fill("Đã nộp nhầm thủ tục")
    await page.get_by_role("button", name="Rút hồ sơ").click()
    await expect(page.get_by_text("Vui lòng đánh dấu xác nhận trước khi rút hồ sơ.")).to_be_visible()
    await axe_check(page, "track-withdraw")
    await page.get_by_label("Tôi xác nhận muốn rút hồ sơ này").check()
    await page.get_by_role("button", name="Rút hồ sơ").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Đã rút hồ sơ")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Công dân rút hồ sơ.")
    await expect(page.get_by_role("button", name="Rút hồ sơ")).to_have_count(0)
