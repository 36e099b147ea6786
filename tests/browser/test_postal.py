"""The public post's failures in a real browser: a result the postman could not deliver comes back to the
desk. The citizen, tracking the dossier, reads the failed attempts and where the result waits (in
Vietnamese, without personal data); the counter officer sees the returned result with the operator's
reference and fee, is offered the counter hand-over and a re-delivery, and asks for the re-delivery (or
hands the result over at the counter). The
administrator gives an agency the street address and hours the postman is sent."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from standardwebhooks import Webhook

from services.calendar.working import VN_TZ
from tests.browser.conftest import (
    POSTAL_WEBHOOK_SECRET,
    BrowserStack,
    axe_check,
    new_page,
    screenshot,
    sign_in,
    wait_until,
)
from tests.browser.test_i18n import text as catalogued
from tests.browser.test_staff import applicant

ADDRESS = "Số 7 ngõ 15 Lạch Tray, phường Lê Chân, Hải Phòng"
WARD = "000.00.31.H26"  # UBND phường Hồng Bàng: tiepnhan.xa, chuyenvien.xa, lanhdao.xa


def report(stack: BrowserStack, kind: str, code: str, tracking_number: str, **extra: Any) -> str:
    """The operator's signed report to intake_api; its outcome."""
    data = {
        "dossier_code": code,
        "tracking_number": tracking_number,
        "occurred_at": datetime.now(VN_TZ).isoformat(),
        **extra,
    }
    content = json.dumps({"type": kind, "data": data}, ensure_ascii=False)
    webhook_id, sent_at = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(POSTAL_WEBHOOK_SECRET).sign(webhook_id, sent_at, content),
    }
    answer = httpx.post(stack.url("intake") + "/api/v1/webhooks/postal", content=content.encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


async def processing(stack: BrowserStack, code: str) -> bool:
    """workflow_api has routed the dossier (the relay delivered dossier.received)."""
    token = {"Authorization": f"Bearer {stack.token('tiepnhan.xa')}"}
    async with httpx.AsyncClient() as client:
        answer = await client.get(stack.url("workflow") + f"/api/v1/dossiers/{code}", headers=token)
    return bool(answer.status_code == 200 and answer.json()["status"] == "processing")


def move(stack: BrowserStack, code: str, username: str, body: dict[str, Any]) -> None:
    token = {"Authorization": f"Bearer {stack.token(username)}"}
    state = httpx.get(stack.url("workflow") + f"/api/v1/dossiers/{code}", headers=token).json()
    answer = httpx.post(
        stack.url("workflow") + f"/api/v1/dossiers/{code}/transitions",
        json={**body, "version": state["version"]},
        headers=token,
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def procedure(stack: BrowserStack) -> dict[str, Any]:
    """A demo procedure whose result may go by post, received at Hồng Bàng's desk, resolved by its specialist
    then its head."""
    found = httpx.get(
        stack.url("intake") + "/api/v1/procedures", params={"limit": 100, "information_only": "false"}
    ).json()["items"]
    for item in found:
        detail = httpx.get(stack.url("intake") + f"/api/v1/procedures/{item['code']}").json()
        roles = [step["role"] for step in detail["steps"]]
        receiving = [a["code"] for a in detail["agencies"] if a["role"] == "receiving"]
        if detail["postal_return"] and roles == ["counter", "specialist", "head", "counter"] and WARD in receiving:
            return dict(detail)
    raise AssertionError("no demo procedure of the ward returns its result by post")


@pytest.fixture
async def returned_by_post(stack: BrowserStack, procedure: dict[str, Any]) -> dict[str, Any]:
    """A dossier received at the centre, its result sent by post, twice not delivered and brought back."""
    created = httpx.post(
        stack.url("intake") + "/api/v1/counter/dossiers",
        json={
            "procedure_code": procedure["code"],
            "applicant": applicant("Lương Thị Mai"),
            "return_method": "postal",
            "postal_address": ADDRESS,
        },
        headers={"Authorization": f"Bearer {stack.token('tiepnhan.xa')}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    await wait_until(lambda: processing(stack, code), what=f"{code} routed")
    move(stack, code, "chuyenvien.xa", {"action": "forward"})
    move(stack, code, "lanhdao.xa", {"action": "resolve", "result_note": "Đã ký giấy phép."})
    number = f"EB{uuid.uuid4().int % 10**9:09d}VN"
    assert report(stack, "result.booked", code, number, operator_reference="VNP-HP-004512", fee_vnd=32000) == "applied"
    assert report(stack, "result.picked_up", code, number) == "applied"
    assert report(stack, "result.delivery_failed", code, number, attempt=1, reason_code="recipient_absent") == "applied"
    last = {"attempt": 2, "reason_code": "recipient_unreachable", "final_attempt": True}
    assert report(stack, "result.delivery_failed", code, number, **last) == "applied"
    assert report(stack, "result.returned_to_sender", code, number) == "applied"
    return {"code": code, "secret": created.json()["secret"], "tracking_number": number}


async def test_the_citizen_reads_the_failed_attempts_and_where_the_result_waits(
    page: Page, stack: BrowserStack, returned_by_post: dict[str, Any]
) -> None:
    code, secret = returned_by_post["code"], returned_by_post["secret"]
    await page.goto("/tra-cuu")
    await page.get_by_label("Mã hồ sơ").fill(code)
    await page.get_by_label("Mã bí mật").fill(secret)
    await page.get_by_role("button", name="Tra cứu").click()
    await expect(page.get_by_test_id("status-label")).to_have_text("Đã có kết quả")
    await expect(page.get_by_test_id("postal-returned")).to_contain_text(
        "Bưu điện không giao được kết quả và đã chuyển trả về Bộ phận Tiếp nhận và Trả kết quả"
    )
    shipments = page.get_by_test_id("shipments")
    await expect(shipments).to_contain_text(returned_by_post["tracking_number"])
    await expect(shipments).to_contain_text("đã chuyển trả về bộ phận một cửa")
    await expect(page.get_by_test_id("failed-attempts")).to_have_text(
        "— số lần giao không thành công: 2 (lần gần nhất: không liên lạc được với người nhận)."
    )
    await expect(
        page.get_by_text("Bưu điện giao kết quả không thành công (lần 1): người nhận vắng nhà.")
    ).to_be_visible()
    text = await page.locator("main").inner_text()
    for personal in ("Lương Thị Mai", "Lạch Tray", "0912345678", "031190004567", "VNP-HP-004512"):
        assert personal not in text  # no personal data, and the operator's booking is for staff
    await axe_check(page, "track-postal-returned")
    await screenshot(page, "track-postal-returned")

    # in English mode the post's lines are in English (sent as codes with params, said by the SPA)
    await page.get_by_test_id("language").select_option("en")
    failed = catalogued("en", "common", "notes.postal_delivery_failed")
    failed = failed.replace("{{attempt}}", "1").replace(
        "{{reason}}", catalogued("en", "common", "postalReasons.recipient_absent")
    )
    history = page.get_by_test_id("timeline")
    await expect(history).to_contain_text(failed)
    await expect(history).to_contain_text(catalogued("en", "common", "notes.postal_returned"))
    assert "Bưu điện" not in await history.inner_text()


async def test_the_counter_sees_the_returned_result_and_asks_the_post_to_deliver_again(
    page: Page, stack: BrowserStack, returned_by_post: dict[str, Any]
) -> None:
    code = returned_by_post["code"]
    await sign_in(page, "tiepnhan.xa")

    # the results to return: this one waits at the desk, to hand over here or to send again
    await page.goto("/can-bo/mot-cua/tra-ket-qua")
    listed = page.get_by_test_id("return-list").get_by_role("listitem").filter(has_text=code)
    await expect(listed.get_by_test_id("returned-by-post")).to_have_text("Bưu điện chuyển trả")
    await page.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    returned = page.get_by_test_id("postal-returned")
    await expect(returned).to_contain_text("Kết quả chờ tại bộ phận một cửa — bưu điện chuyển trả")
    await expect(returned.get_by_role("button", name="Đề nghị bưu điện giao lại")).to_be_visible()
    await expect(page.get_by_role("button", name="Xác nhận đã trả kết quả")).to_be_visible()
    await axe_check(page, "staff-return-postal-returned")
    await screenshot(page, "staff-return-postal-returned")

    # the dossier page: the shipment with the operator's booking reply, the timeline, and the re-delivery
    await page.goto(f"/can-bo/ho-so/{code}")
    shipments = page.get_by_test_id("shipments")
    await expect(shipments).to_contain_text("VNP-HP-004512")
    await expect(shipments).to_contain_text("32.000 đồng")
    await expect(shipments).to_contain_text("Bưu điện đã chuyển trả")
    await expect(shipments).to_contain_text("Không liên lạc được với người nhận")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Giao kết quả không thành công")
    await expect(page.get_by_test_id("timeline")).to_contain_text(
        "Bưu điện giao kết quả không thành công (lần 1): người nhận vắng nhà."
    )  # the post's note, no longer hidden behind the report's type as a comment
    await expect(page.get_by_test_id("timeline")).to_contain_text("Bưu điện chuyển trả kết quả về bộ phận một cửa")
    await axe_check(page, "staff-dossier-postal-returned")
    await screenshot(page, "staff-dossier-postal-returned")
    await page.get_by_test_id("postal-returned").get_by_role("button", name="Đề nghị bưu điện giao lại").click()
    await expect(page.get_by_test_id("redelivery-requested")).to_contain_text(
        f"Đã đề nghị bưu điện giao lại kết quả hồ sơ {code}."
    )
    await expect(page.get_by_test_id("timeline")).to_contain_text("Đề nghị bưu điện giao lại")

    # now the post has it again: no counter hand-over is offered
    other = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await sign_in(other, "tiepnhan.xa")
        await other.goto("/can-bo/mot-cua/tra-ket-qua")
        await other.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
        await expect(other.get_by_text("Kết quả gửi qua bưu chính công ích")).to_be_visible()
        await expect(other.get_by_test_id("postal-returned")).to_have_count(0)
    finally:
        await other.context.close()


async def test_the_admin_gives_an_agency_its_address_and_hours_for_the_postman(page: Page, stack: BrowserStack) -> None:
    code = f"000.31.{uuid.uuid4().hex[:4]}.H26"
    admin = {"Authorization": f"Bearer {stack.token('admin')}"}
    created = httpx.post(
        stack.url("workflow") + "/api/v1/agencies",
        json={"code": code, "name": "Điểm tiếp nhận thử nghiệm", "level_code": "commune", "parent_code": WARD},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    await sign_in(page, "admin")
    await page.goto("/quan-tri/co-quan")
    row = page.get_by_test_id("agencies-table").get_by_role("row").filter(has_text=code)
    await row.get_by_role("button", name=re.compile("^Sửa")).click()
    form = page.get_by_test_id("edit-agency")
    await form.get_by_label("Địa chỉ trụ sở").fill("abc")
    await form.get_by_role("button", name="Lưu thay đổi").click()
    await expect(form.get_by_label("Địa chỉ trụ sở")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Địa chỉ trụ sở").fill("Số 1 Hoàng Văn Thụ, phường Hồng Bàng, Hải Phòng")
    await form.get_by_label("Giờ tiếp nhận bưu điện").fill("Thứ Hai–Thứ Sáu 8:00–11:00")
    await axe_check(page, "admin-agency-postal")
    await form.get_by_role("button", name="Lưu thay đổi").click()
    await expect(form.get_by_role("status")).to_contain_text(code)
    listed = httpx.get(stack.url("workflow") + "/api/v1/agencies", headers=admin).json()
    [saved] = [agency for agency in listed if agency["code"] == code]
    assert (saved["street_address"], saved["postal_hours"]) == (
        "Số 1 Hoàng Văn Thụ, phường Hồng Bàng, Hải Phòng",
        "Thứ Hai–Thứ Sáu 8:00–11:00",
    )


async def test_the_counter_hands_over_a_result_the_post_brought_back(
    page: Page, stack: BrowserStack, returned_by_post: dict[str, Any]
) -> None:
    code = returned_by_post["code"]
    await sign_in(page, "tiepnhan.xa")
    await page.goto("/can-bo/mot-cua/tra-ket-qua")
    await page.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    await expect(page.get_by_test_id("postal-returned")).to_be_visible()
    await page.get_by_label("Ghi chú khi trao kết quả").fill("Công dân đến nhận tại quầy sau khi bưu điện chuyển trả.")
    await page.get_by_role("button", name="Xác nhận đã trả kết quả").click()
    await expect(page.get_by_test_id("returned")).to_contain_text(code)
    token = {"Authorization": f"Bearer {stack.token('tiepnhan.xa')}"}
    state = httpx.get(stack.url("workflow") + f"/api/v1/dossiers/{code}", headers=token).json()
    assert (state["status"], state["return_method"]) == ("returned", "counter")
