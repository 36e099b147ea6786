"""An electronic result in a real browser: the citizen opens the tracking page the message links to (the code
only), types the secret from the receipt, sees "Tải kết quả", downloads the result file, and the page then
shows the dossier returned, with the line "Công dân đã tải kết quả điện tử" and the rating form — in
Vietnamese, without personal data. The counter's results list marks such a result as needing no hand-over, and
the online submission form offers it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in, wait_until
from tests.browser.test_citizen import BIRTH, attach_mandatory, fill_applicant
from tests.browser.test_citizen import procedure as procedure_detail
from tests.browser.test_postal import WARD, move, processing
from tests.browser.test_staff import applicant
from tests.intake.setup import PDF


@pytest.fixture(scope="module")
def procedure(stack: BrowserStack) -> dict[str, Any]:
    """A demo procedure received at Hồng Bàng's desk and resolved there by its specialist then its head."""
    found = httpx.get(
        stack.url("intake") + "/api/v1/procedures", params={"limit": 100, "information_only": "false"}
    ).json()["items"]
    for item in found:
        detail = httpx.get(stack.url("intake") + f"/api/v1/procedures/{item['code']}").json()
        roles = [step["role"] for step in detail["steps"]]
        receiving = [a["code"] for a in detail["agencies"] if a["role"] == "receiving"]
        if roles == ["counter", "specialist", "head", "counter"] and WARD in receiving:
            return dict(detail)
    raise AssertionError("no demo procedure of the ward is resolved by its specialist and head")


@pytest.fixture
async def resolved_online(stack: BrowserStack, procedure: dict[str, Any]) -> dict[str, Any]:
    return await resolve_online(stack, procedure, applicant("Đoàn Thị Lan"))


async def resolve_online(stack: BrowserStack, procedure: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    """A dossier to be returned electronically, its signed decision attached by the head, resolved."""
    created = httpx.post(
        stack.url("intake") + "/api/v1/counter/dossiers",
        json={"procedure_code": procedure["code"], "applicant": person, "return_method": "online"},
        headers={"Authorization": f"Bearer {stack.token('tiepnhan.xa')}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    await wait_until(lambda: processing(stack, code), what=f"{code} routed")
    move(stack, code, "chuyenvien.xa", {"action": "forward"})
    attached = httpx.post(
        stack.url("intake") + f"/api/v1/dossiers/{code}/documents",
        data={"data": '{"kind": "result"}'},
        files=[("files", ("giay-xac-nhan-doan-thi-lan.pdf", PDF, "application/pdf"))],
        headers={"Authorization": f"Bearer {stack.token('lanhdao.xa')}"},
    )
    assert attached.status_code == 201, attached.text
    move(stack, code, "lanhdao.xa", {"action": "resolve", "result_note": "Đã ký giấy xác nhận."})
    return {"code": code, "secret": created.json()["secret"]}


async def test_the_citizen_downloads_the_result_and_sees_it_returned(
    page: Page, stack: BrowserStack, resolved_online: dict[str, Any]
) -> None:
    code, secret = resolved_online["code"], resolved_online["secret"]
    # the link in the message: the tracking page by code; the secret is typed from the receipt
    await page.goto(f"/tra-cuu/{code}")
    await page.get_by_label("Mã bí mật").fill(secret)
    await page.get_by_role("button", name="Tra cứu").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Đã có kết quả")
    results = page.get_by_test_id("results")
    await expect(results.get_by_role("heading", name="Kết quả điện tử")).to_be_visible()
    await expect(results).to_contain_text(f"ket-qua-{code}-1.pdf")
    await axe_check(page, "track-electronic-result")
    await screenshot(page, "track-electronic-result")

    async with page.expect_download() as waiting:
        await results.get_by_role("button", name=f"Tải kết quả ket-qua-{code}-1.pdf").click()
    download = await waiting.value
    assert download.suggested_filename == f"ket-qua-{code}-1.pdf"
    path = await download.path()
    assert path is not None
    with open(path, "rb") as pdf:
        assert pdf.read() == PDF
    await expect(results.get_by_role("status")).to_have_text("Đã tải kết quả về máy của bạn.")

    # the first download returned the dossier: the page says so, and the rating is offered
    await expect(page.get_by_test_id("status-label")).to_have_text("Đã trả kết quả")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Công dân đã tải kết quả điện tử")
    await expect(results).to_contain_text("Bạn có thể tải lại kết quả bất cứ lúc nào")
    await expect(page.get_by_role("heading", name="Đánh giá mức độ hài lòng")).to_be_visible()
    text = await page.locator("main").inner_text()
    for personal in ("Đoàn Thị Lan", "doan-thi-lan", "0912345678", "031190004567", "Điện Biên Phủ"):
        assert personal not in text
    assert secret not in page.url
    await axe_check(page, "track-electronic-result-returned")
    await screenshot(page, "track-electronic-result-returned")


async def test_the_counter_sees_the_result_needs_no_hand_over(
    page: Page, stack: BrowserStack, resolved_online: dict[str, Any]
) -> None:
    code = resolved_online["code"]
    await sign_in(page, "tiepnhan.xa")
    await page.goto("/can-bo/mot-cua/tra-ket-qua")
    listed = page.get_by_test_id("return-list").get_by_role("listitem").filter(has_text=code)
    await expect(listed.get_by_test_id("returned-online")).to_have_text("Kết quả điện tử")
    await page.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    await expect(page.get_by_test_id("online-return")).to_contain_text("công dân tự tải về bằng mã bảo mật")
    await axe_check(page, "staff-return-online")
    await screenshot(page, "staff-return-online")


async def test_the_citizen_asks_for_the_electronic_result_when_submitting(page: Page, stack: BrowserStack) -> None:
    await page.goto(f"/thu-tuc/{BIRTH}/nop-ho-so")
    await fill_applicant(page, id_number="031190004571")
    await attach_mandatory(page, procedure_detail(stack, BIRTH))
    await page.get_by_label("Nhận kết quả điện tử (tải về bằng mã bảo mật)").check()
    await axe_check(page, "submit-electronic-result")
    await page.get_by_role("button", name="Gửi hồ sơ").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã gửi hồ sơ", timeout=20_000)
    code = (await page.get_by_test_id("dossier-code").inner_text()).strip()
    desk = httpx.get(
        stack.url("intake") + f"/api/v1/desk/dossiers/{code}",
        headers={"Authorization": f"Bearer {stack.token('tiepnhan.xa')}"},
    )
    assert desk.status_code == 200, desk.text
    assert desk.json()["return_method"] == "online"
