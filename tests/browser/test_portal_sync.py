"""The administrator's national portal page (Quản trị → Cổng DVCQG): a dossier whose sync the portal kept
failing is shown parked, its later state waiting behind it; one click sends it again and both reach the
fake portal, in order."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in, wait_until
from tests.browser.test_staff import applicant

BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh, at the ward's desk (tiepnhan.xa)


async def journal(stack: BrowserStack, code: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            stack.url("notify") + "/api/v1/portal-sync",
            params={"dossier": code},
            headers={"Authorization": f"Bearer {stack.token('admin')}"},
        )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_an_admin_sees_a_parked_sync_and_replays_it(page: Page, stack: BrowserStack) -> None:
    stack.portal.steer(fail_next=10_000)  # the portal is down: two attempts each, then parked
    try:
        created = httpx.post(
            stack.url("intake") + "/api/v1/counter/dossiers",
            json={"procedure_code": BIRTH, "applicant": applicant("Lê Thị Hoa"), "return_method": "counter"},
            headers={"Authorization": f"Bearer {stack.token('tiepnhan.xa')}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        code = created.json()["code"]

        async def parked() -> bool:
            items = await journal(stack, code)
            return bool(items) and items[0]["status"] == "parked"

        await wait_until(parked, what=f"{code}'s first state change parked")
    finally:
        stack.portal.steer(fail_next=0)

    await sign_in(page, "admin")
    await page.goto("/quan-tri")
    await page.get_by_role("navigation", name="Mục quản trị").get_by_role("link", name="Cổng DVCQG").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đồng bộ Cổng Dịch vụ công quốc gia")
    await expect(page.get_by_test_id("count-parked")).not_to_have_text("0")
    await expect(page.get_by_test_id("count-blocked")).not_to_have_text("0")  # its later states wait
    row = page.get_by_test_id("portal-journal").get_by_role("row").filter(has_text=code).first
    await expect(row).to_contain_text("HTTP 500 LOI_HE_THONG")
    await axe_check(page, "admin-portal-sync")
    await screenshot(page, "admin-portal-sync")

    await row.get_by_role("button", name="Gửi lại").click()
    await expect(page.get_by_test_id("replayed")).to_contain_text(code)

    async def arrived() -> bool:
        return [item["status"] for item in await journal(stack, code)] == ["acknowledged"] * 3

    await wait_until(arrived, what=f"{code} acknowledged by the portal")
    assert stack.portal.states(code)[:3] == [1, 2, 4]  # filed and received at the desk, then routed
    await page.get_by_label("Hiển thị").select_option(label="Cổng đã xác nhận")
    await expect(page.get_by_test_id("portal-journal").get_by_role("row").filter(has_text=code)).to_have_count(3)
    await screenshot(page, "admin-portal-sync-acknowledged")
