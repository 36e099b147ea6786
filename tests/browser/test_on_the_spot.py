"""4 tại chỗ in a real browser: the ward's delegated counter officer resolves a certified copy on the spot,
and the citizen tracks it and sees it returned."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import BrowserStack, axe_check, new_page, screenshot, sign_in

CERTIFIED_COPY = "2.000815"  # chứng thực bản sao từ bản chính: on the spot in the demo
WARD = "000.00.31.H26"  # phường Hồng Bàng, tiepnhan.xa's desk


async def test_the_counter_resolves_on_the_spot_and_the_citizen_sees_it_returned(
    page: Page, stack: BrowserStack, browser: Browser
) -> None:
    await sign_in(page, "tiepnhan.xa")
    await page.goto("/can-bo/mot-cua")
    await expect(page.get_by_role("heading", name="Tiếp nhận hồ sơ tại quầy")).to_be_visible()
    await page.get_by_label("Chọn thủ tục").select_option(CERTIFIED_COPY)
    spot = page.get_by_test_id("on-the-spot")
    await expect(spot.get_by_text("Giải quyết tại chỗ (4 tại chỗ)")).to_be_visible()

    await page.get_by_label("Họ và tên").fill("Ngô Thị Lan")
    await page.get_by_label("Số CCCD hoặc mã số thuế").fill("031190004567")
    await page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    # the result handed over must be written down before anything is sent
    await page.get_by_role("button", name="Giải quyết tại chỗ").click()
    await expect(page.get_by_text("Hãy ghi kết quả trao cho công dân.")).to_be_visible()
    await expect(page.get_by_label("Kết quả trao cho công dân")).to_be_focused()
    await page.get_by_label("Kết quả trao cho công dân").fill("02 bản sao chứng thực từ bản chính Giấy khai sinh")
    await axe_check(page, "staff-on-the-spot-form")
    await screenshot(page, "staff-on-the-spot-form")
    await page.get_by_role("button", name="Giải quyết tại chỗ").click()

    await expect(page.get_by_role("heading", name="Đã giải quyết và trả kết quả tại chỗ")).to_be_visible()
    code = (await page.get_by_test_id("dossier-code").inner_text()).strip()
    secret = (await page.get_by_test_id("dossier-secret").inner_text()).strip()
    assert code.startswith(WARD + "-")
    await expect(page.get_by_test_id("spot-status")).to_have_text("Đã trả kết quả")
    await expect(page.get_by_test_id("spot-outcome")).to_have_text("Trước hạn")
    await axe_check(page, "staff-on-the-spot-done")
    await screenshot(page, "staff-on-the-spot-done")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="In phiếu tiếp nhận và trả kết quả (PDF)").click()
    download = await waiting.value
    path = await download.path()
    assert path is not None
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.suggested_filename == f"{code}-01.pdf"

    # the citizen, at home, with the code and secret from the slip
    citizen = await new_page(browser, stack)
    try:
        await citizen.goto("/tra-cuu")
        await citizen.get_by_label("Mã hồ sơ").fill(code)
        await citizen.get_by_label("Mã bí mật").fill(secret)
        await citizen.get_by_role("button", name="Tra cứu").click()
        await expect(citizen.get_by_test_id("status-label")).to_have_text("Đã trả kết quả")
        await expect(citizen.get_by_test_id("status-sentence")).to_have_text("Kết quả đã được trả cho bạn.")
        await expect(citizen.get_by_test_id("timeline")).to_contain_text("Đã trả kết quả")
        await axe_check(citizen, "track-on-the-spot")
        await screenshot(citizen, "citizen-track-on-the-spot")
    finally:
        await citizen.context.close()


async def test_the_counter_refuses_on_the_spot_with_a_reason(page: Page, stack: BrowserStack) -> None:
    await sign_in(page, "tiepnhan.xa")
    await page.goto("/can-bo/mot-cua")
    await page.get_by_label("Chọn thủ tục").select_option(CERTIFIED_COPY)
    await page.get_by_label("Họ và tên").fill("Đinh Văn Sơn")
    await page.get_by_label("Số CCCD hoặc mã số thuế").fill("031190004568")
    await page.get_by_label("Số điện thoại di động").fill("0912 345 679")
    await page.get_by_label("Không đủ điều kiện — từ chối tiếp nhận").check()
    await page.get_by_label("Lý do từ chối").fill("Bản chính bị tẩy xóa, sửa chữa")
    await page.get_by_role("button", name="Giải quyết tại chỗ").click()
    await expect(page.get_by_role("heading", name="Đã từ chối tiếp nhận hồ sơ")).to_be_visible()
    await expect(page.get_by_test_id("spot-status")).to_have_text("Không được tiếp nhận")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="In phiếu từ chối tiếp nhận (PDF)").click()
    download = await waiting.value
    assert download.suggested_filename.endswith("-03.pdf")


async def test_a_procedure_that_is_not_on_the_spot_offers_only_the_receipt(page: Page) -> None:
    await sign_in(page, "tiepnhan.xa")
    await page.goto("/can-bo/mot-cua")
    await page.get_by_label("Chọn thủ tục").select_option("1.004873")  # xác nhận tình trạng hôn nhân: 3 days
    await expect(page.get_by_test_id("procedure-facts")).to_contain_text("Thời hạn giải quyết")
    await expect(page.get_by_test_id("on-the-spot")).to_have_count(0)
    await expect(page.get_by_role("button", name="Giải quyết tại chỗ")).to_have_count(0)
