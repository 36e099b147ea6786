"""Two action forms of the staff dossier page in a real browser: asking for a fee (request_payment) and
handing a dossier to another agency (transfer, liên thông)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import BrowserStack, axe_check, new_page, screenshot, sign_in, wait_until
from tests.browser.test_staff import applicant

WARD = "000.00.31.H26"  # UBND phường Hồng Bàng: tiepnhan.xa, chuyenvien.xa, lanhdao.xa
TAX = "000.00.09.H26"  # Thuế thành phố Hải Phòng: chuyenvien.thue
TAX_NAME = "Thuế thành phố Hải Phòng"
BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh: counter → specialist → head → counter at the ward
USED_ELSEWHERE = {BIRTH, "1.004222"}  # other browser tests rely on these procedures' demo workflow


def ward_dossier(stack: BrowserStack, procedure_code: str, name: str) -> dict[str, Any]:
    answer = httpx.post(
        stack.url("intake") + "/api/v1/counter/dossiers",
        json={"procedure_code": procedure_code, "applicant": applicant(name), "return_method": "counter"},
        headers={"Authorization": f"Bearer {stack.token('tiepnhan.xa')}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def routed(stack: BrowserStack, code: str) -> None:
    """Wait until workflow_api has routed the ward's dossier (the relay delivers dossier.received)."""
    token = stack.token("tiepnhan.xa")

    async def check() -> bool:
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                stack.url("workflow") + f"/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {token}"}
            )
        return answer.status_code == 200 and answer.json().get("status") == "processing"

    await wait_until(check, what=f"{code} routed")


def allowed_actions(stack: BrowserStack, code: str, username: str) -> list[str]:
    answer = httpx.get(
        stack.url("workflow") + f"/api/v1/dossiers/{code}",
        headers={"Authorization": f"Bearer {stack.token(username)}"},
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["allowed_actions"])


def transitions_sent(page: Page) -> list[str]:
    """The POST …/transitions requests the page sends from now on."""
    sent: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and "/transitions" in request.url:
            sent.append(request.url)

    page.on("request", seen)
    return sent


async def test_specialist_asks_for_a_fee_through_the_request_payment_form(page: Page, stack: BrowserStack) -> None:
    created = ward_dossier(stack, BIRTH, "Nguyễn Thị Lan")
    code, secret = created["code"], created["secret"]
    await routed(stack, code)
    assert "request_payment" in allowed_actions(stack, code, "chuyenvien.xa")

    await sign_in(page, "chuyenvien.xa")
    await page.goto(f"/can-bo/ho-so/{code}")
    await expect(page.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
    await expect(page.get_by_test_id("status")).to_have_text("Đang xử lý")
    await page.get_by_role("button", name="Yêu cầu nộp phí, lệ phí").click()
    form = page.get_by_test_id("form-request_payment")
    await expect(form).to_be_visible()
    amount = form.get_by_label("Số tiền (đồng)")
    description = form.get_by_label("Nội dung thu")
    confirm = form.get_by_role("button", name="Xác nhận: Yêu cầu nộp phí, lệ phí")

    # a bad amount and a too short description: Vietnamese messages at the fields, nothing sent
    sent = transitions_sent(page)
    await amount.fill("0")
    await description.fill("ab")
    await confirm.click()
    await expect(form.get_by_text("Số tiền phải là số nguyên dương (đồng).")).to_be_visible()
    await expect(form.get_by_text("Nội dung thu tối thiểu 3 ký tự.")).to_be_visible()
    await expect(amount).to_have_attribute("aria-invalid", "true")
    await expect(amount).to_be_focused()
    await axe_check(page, "staff-request-payment-errors")
    await screenshot(page, "staff-request-payment-errors")
    assert sent == []
    assert (await _track(stack, code, secret))["status"] == "processing"

    await amount.fill("50000")
    await description.fill("Lệ phí đăng ký khai sinh")
    await axe_check(page, "staff-request-payment-form")
    await screenshot(page, "staff-request-payment-form")
    await confirm.click()
    await expect(page.get_by_test_id("action-done")).to_contain_text("Đã gửi yêu cầu nộp phí, lệ phí.")
    await expect(page.get_by_test_id("status")).to_have_text("Yêu cầu thực hiện nghĩa vụ tài chính")
    assert len(sent) == 1
    await screenshot(page, "staff-request-payment-done")

    # the citizen's tracking: awaiting payment, the clock paused, the amount in the history
    tracked = await _track(stack, code, secret)
    assert tracked["status"] == "awaiting_payment"
    assert tracked["paused_since"] is not None
    notes = " ".join(str(item.get("note") or "") for item in tracked["history"])
    assert "50.000 đồng" in notes, tracked["history"]
    citizen = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await citizen.goto("/tra-cuu")
        await citizen.get_by_label("Mã hồ sơ").fill(code)
        await citizen.get_by_label("Mã bí mật").fill(secret)
        await citizen.get_by_role("button", name="Tra cứu").click()
        await expect(citizen.get_by_test_id("status-label")).to_have_text("Chờ nộp phí, lệ phí")
        await expect(citizen.get_by_test_id("timeline")).to_contain_text("50.000 đồng")
        await screenshot(citizen, "staff-request-payment-citizen-track")
    finally:
        await citizen.context.close()


async def _track(stack: BrowserStack, code: str, secret: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(stack.url("intake") + f"/api/v1/track/{code}", params={"secret": secret})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def transfer_procedure(stack: BrowserStack) -> tuple[str, str]:
    """A ward procedure given a new active template whose specialist step hands the dossier to the tax
    office by ``transfer`` (no demo workflow offers it: their next step is always at the same unit).

    Returns the procedure code and the name of the tax office's step."""
    admin = {"Authorization": f"Bearer {stack.token('admin')}"}
    found = httpx.get(
        stack.url("intake") + "/api/v1/procedures",
        params={"agency": WARD, "interagency": "false", "limit": 100},
    ).json()["items"]
    tax_step = f"Xác định nghĩa vụ tài chính tại {TAX_NAME}"
    for item in reversed(found):
        if item["code"] in USED_ELSEWHERE:
            continue
        templates = httpx.get(
            stack.url("workflow") + "/api/v1/templates", params={"procedure": item["code"]}, headers=admin
        ).json()
        active = [template for template in templates if template["active"]]
        if not active:
            continue
        steps = active[0]["steps"]
        if [step["role"] for step in steps] != ["counter", "specialist", "head", "counter"]:
            continue
        appraise = steps[1]
        if appraise["share"]["unit"] != "working_days" or appraise["share"]["value"] < 1:
            continue
        if any(step["agency_code"] is not None for step in steps):
            continue

        def plan(step: dict[str, Any]) -> dict[str, Any]:
            return {key: step[key] for key in ("code", "name", "agency_code", "role", "share", "actions")}

        first, specialist, head, last = (plan(step) for step in steps)
        specialist["share"] = {"value": appraise["share"]["value"] - 0.5, "unit": "working_days"}
        specialist["actions"] = ["transfer", "send_back", "request_supplement", "request_payment", "stop"]
        partner = {
            "code": "interagency_tax",
            "name": tax_step,
            "agency_code": TAX,
            "role": "specialist",
            "share": {"value": 0.5, "unit": "working_days"},
            "actions": ["forward", "send_back", "stop"],
        }
        published = httpx.post(
            stack.url("workflow") + "/api/v1/templates",
            json={
                "procedure_code": item["code"],
                "name": "Quy trình liên thông với cơ quan thuế (kiểm thử)",
                "steps": [first, specialist, partner, head, last],
            },
            headers=admin,
        )
        assert published.status_code == 201, published.text
        return str(item["code"]), tax_step
    raise AssertionError("no demo procedure of the ward fits")


async def test_officer_transfers_a_dossier_to_the_tax_office(page: Page, stack: BrowserStack) -> None:
    procedure_code, tax_step = transfer_procedure(stack)
    code = ward_dossier(stack, procedure_code, "Đinh Văn Khoa")["code"]
    await routed(stack, code)
    assert "transfer" in allowed_actions(stack, code, "chuyenvien.xa")

    await sign_in(page, "chuyenvien.xa")
    await page.goto(f"/can-bo/ho-so/{code}")
    await expect(page.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
    await page.get_by_role("button", name="Chuyển liên thông").click()
    form = page.get_by_test_id("form-transfer")
    await expect(form).to_be_visible()
    # the form names where the dossier goes: the next step, at the tax office
    await expect(form).to_contain_text(f"Hồ sơ chuyển sang cơ quan phối hợp (liên thông), bước: {tax_step}.")
    await form.get_by_label("Ý kiến xử lý").fill("Đã thẩm định, chuyển cơ quan thuế xác định nghĩa vụ tài chính.")
    await axe_check(page, "staff-transfer-form")
    await screenshot(page, "staff-transfer-form")
    await form.get_by_role("button", name="Xác nhận: Chuyển liên thông").click()
    await expect(page.get_by_test_id("action-done")).to_contain_text("Đã chuyển liên thông.")
    header = page.get_by_test_id("dossier-header")
    await expect(header).to_contain_text(f"3. {tax_step}")
    await screenshot(page, "staff-transfer-done")

    tax = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await sign_in(tax, "chuyenvien.thue")
        await tax.goto("/can-bo/ho-so")
        row = tax.get_by_role("row").filter(has=tax.get_by_role("link", name=code))
        await expect(row).to_be_visible()
        await row.get_by_role("link", name=code).click()
        await expect(tax.get_by_role("heading", name=f"Hồ sơ {code}", level=1)).to_be_visible()
        await expect(tax.get_by_test_id("dossier-header")).to_contain_text(f"3. {tax_step}")
        await expect(tax.get_by_test_id("timeline")).to_contain_text(TAX_NAME)
        await expect(tax.get_by_role("button", name="Chuyển bước tiếp theo")).to_be_visible()
        await screenshot(tax, "staff-transfer-tax-office")
    finally:
        await tax.context.close()
    assert "forward" in allowed_actions(stack, code, "chuyenvien.thue")
