"""A citizen's account in a real browser: sign in at the local OIDC provider (its own login and consent pages),
"Hồ sơ của tôi" lists the dossier filed earlier in their CCCD number, and a new submission shows the identity
from the account (not typed) and reuses the earlier dossier's documents with consent; an electronic result is
downloaded from the account without the secret, which returns the dossier."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in, staff_session
from tests.browser.test_citizen import BIRTH, PDF, WARD, procedure
from tests.browser.test_electronic_results import procedure as ward_procedure
from tests.browser.test_electronic_results import resolve_online
from tests.browser.test_staff import applicant
from tests.oidc import AN

__all__ = ["ward_procedure"]  # a fixture, used by name


def file_earlier_dossier(stack: BrowserStack) -> tuple[str, list[str]]:
    """A dossier filed without an account (the secret-based flow) in the citizen's CCCD, with its files."""
    details = procedure(stack, BIRTH)
    mandatory = [document["code"] for document in details["required_documents"] if document["mandatory"]]
    body = {
        "procedure_code": BIRTH,
        "agency_code": WARD,
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": AN, "phone": "0912345678"},
    }
    files = [(code, (f"{code}-nop-truoc.pdf", PDF, "application/pdf")) for code in mandatory]
    answer = httpx.post(f"{stack.url('intake')}/api/v1/dossiers", data={"data": json.dumps(body)}, files=files)
    answer.raise_for_status()
    return str(answer.json()["code"]), mandatory


async def sign_in_at_provider(page: Page) -> None:
    await page.goto("/ho-so-cua-toi")
    await page.get_by_role("link", name="Đăng nhập bằng định danh điện tử").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập định danh điện tử (demo)")
    await page.get_by_label("Công dân (số định danh)").select_option(AN)
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Chia sẻ thông tin định danh")
    await page.get_by_role("button", name="Đồng ý").click()
    await page.wait_for_url(re.compile(r"/ho-so-cua-toi$"))


async def test_sign_in_my_dossiers_and_a_submission_with_identity_prefilled_and_reused_documents(
    page: Page, stack: BrowserStack
) -> None:
    earlier, mandatory = file_earlier_dossier(stack)

    await sign_in_at_provider(page)
    await expect(page.get_by_test_id("citizen-name")).to_have_text("Xin chào Nguyễn Văn An")
    listed = page.get_by_test_id("my-dossiers")
    await expect(listed.get_by_role("link", name=earlier)).to_be_visible()
    await axe_check(page, "my dossiers")
    await screenshot(page, "citizen-my-dossiers")

    await page.goto(f"/thu-tuc/{BIRTH}/nop-ho-so")
    await expect(page.get_by_test_id("identity-from-account")).to_be_visible()
    name = page.get_by_label("Họ và tên")
    await expect(name).to_have_value("Nguyễn Văn An")
    await expect(name).to_have_attribute("readonly", "")
    await expect(page.get_by_label("Số CCCD hoặc mã số thuế")).to_have_value(AN)
    await expect(page.get_by_label("Số điện thoại di động")).to_have_value("0912345678")
    await page.get_by_label("Nơi nộp hồ sơ").select_option(WARD)
    for code in mandatory:
        await page.locator(f'select[data-reuse="{code}"]').select_option(
            label=f"{code}-nop-truoc.pdf (hồ sơ {earlier})"
        )
    await page.get_by_label("Tôi đồng ý cho phép dùng lại các giấy tờ đã chọn").check()
    await axe_check(page, "submission with an account")
    await screenshot(page, "citizen-submit-with-account")
    await page.get_by_role("button", name="Gửi hồ sơ").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã gửi hồ sơ", timeout=20_000)
    filed = (await page.get_by_test_id("dossier-code").inner_text()).strip()

    await page.goto("/ho-so-cua-toi")
    await expect(page.get_by_test_id("my-dossiers").get_by_role("link", name=filed)).to_be_visible()
    await page.get_by_role("link", name=filed).click()
    documents = page.get_by_test_id("my-documents")
    for code in mandatory:
        await expect(documents).to_contain_text(f"{code}-nop-truoc.pdf")
    await axe_check(page, "my dossier")

    await page.goto("/ho-so-cua-toi")
    await page.get_by_role("button", name="Đăng xuất trên mọi thiết bị").click()
    await expect(page.get_by_role("link", name="Đăng nhập bằng định danh điện tử")).to_be_visible()


async def test_an_electronic_result_downloaded_from_my_dossiers_without_the_secret(
    page: Page, stack: BrowserStack, ward_procedure: dict[str, Any]
) -> None:
    code = (await resolve_online(stack, ward_procedure, {**applicant("Nguyễn Văn An"), "id_number": AN}))["code"]
    # an officer signed in in the same tab (a shared computer at the centre): the citizen's routes go by the
    # citizen's cookie alone, and the officer's token is never sent with them
    await sign_in(page, "tiepnhan.xa")
    assert await staff_session(page) is not None
    citizen_calls: list[tuple[str, bool]] = []
    page.on(
        "request",
        lambda request: (
            citizen_calls.append((request.url, "authorization" in request.headers))
            if "/api/v1/citizen/" in request.url
            else None
        ),
    )
    await sign_in_at_provider(page)
    await page.get_by_test_id("my-dossiers").get_by_role("link", name=code).click()
    results = page.get_by_test_id("my-results")
    await expect(results.get_by_role("heading", name="Kết quả điện tử")).to_be_visible()
    async with page.expect_download() as waiting:
        await results.get_by_role("button", name=f"Tải kết quả ket-qua-{code}-1.pdf").click()
    download = await waiting.value
    path = await download.path()
    assert path is not None
    with open(path, "rb") as pdf:
        assert pdf.read() == PDF
    await expect(results.get_by_role("status")).to_have_text("Đã tải kết quả về máy của bạn.")
    await expect(page.get_by_test_id("status-label")).to_have_text("Đã trả kết quả")
    await expect(results).to_contain_text("Bạn có thể tải lại kết quả bất cứ lúc nào tại Hồ sơ của tôi.")
    await axe_check(page, "my dossier with an electronic result")
    await screenshot(page, "citizen-my-result")
    assert await staff_session(page) is not None  # each kept their own credential
    assert any(url.endswith(f"/citizen/dossiers/{code}/result") for url, _ in citizen_calls)
    assert [url for url, with_token in citizen_calls if with_token] == []
