"""An inter-agency (liên thông) dossier in a real browser: the land office hands it to the tax office and
back, each officer working it from their own inbox, then the head approves."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, new_page, screenshot, sign_in
from tests.browser.test_staff import counter_dossier, dossier_status, routed

LIEN_THONG = "1.013831"  # Đất đai, province level: VPĐKĐĐ → Thuế → VPĐKĐĐ, approved at the land office


async def _forward_from_inbox(page: Page, code: str, comment: str, shot: str) -> None:
    await page.goto("/can-bo/ho-so")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=code))
    await expect(row).to_be_visible()
    await row.get_by_role("link", name=code).click()
    await expect(page.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
    await page.get_by_role("button", name="Chuyển bước tiếp theo").click()
    await page.get_by_label("Ý kiến xử lý").fill(comment)
    await axe_check(page, shot)
    await screenshot(page, shot)
    await page.get_by_role("button", name="Xác nhận: Chuyển bước tiếp theo").click()
    await expect(page.get_by_test_id("action-done")).to_contain_text("Đã chuyển hồ sơ sang bước tiếp theo")


async def test_a_lien_thong_dossier_goes_to_the_tax_office_and_back(page: Page, stack: BrowserStack) -> None:
    detail = httpx.get(stack.url("intake") + f"/api/v1/procedures/{LIEN_THONG}").json()
    code = counter_dossier(stack, {"code": LIEN_THONG})["code"]
    await routed(stack, code)

    await sign_in(page, "chuyenvien")
    await _forward_from_inbox(page, code, "Đã kiểm tra hồ sơ địa chính, chuyển cơ quan thuế.", "lien-thong-land-office")

    tax = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await sign_in(tax, "chuyenvien.thue")
        await _forward_from_inbox(tax, code, "Đã xác định nghĩa vụ tài chính.", "lien-thong-tax-office")
        # the tax officer no longer holds it: it went back to the land office
        await tax.goto("/can-bo/ho-so")
        await expect(tax.get_by_role("link", name=code)).to_have_count(0)
    finally:
        await tax.context.close()

    await _forward_from_inbox(page, code, "Đủ điều kiện, trình lãnh đạo ký.", "lien-thong-back-at-land-office")

    head = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await sign_in(head, "lanhdao")
        await head.goto(f"/can-bo/ho-so/{code}")
        await head.get_by_role("button", name="Phê duyệt, có kết quả").click()
        await head.get_by_label("Kết quả giải quyết").fill("Đã ký xác nhận biến động.")
        await head.get_by_role("button", name="Xác nhận: Phê duyệt, có kết quả").click()
        await expect(head.get_by_test_id("status")).to_have_text("Đã xử lý xong")
        # the control sheet shows the dossier's trip through both agencies
        timeline = head.get_by_test_id("timeline")
        await expect(timeline).to_contain_text("Thuế thành phố Hải Phòng")
        await expect(timeline).to_contain_text("Đã xác định nghĩa vụ tài chính.")
        await screenshot(head, "lien-thong-resolved")
    finally:
        await head.context.close()
    assert await dossier_status(stack, code) == "resolved"
    assert detail["interagency"] is True
