"""Kiểm tra chữ ký số in a real browser: a receipt signed by the ward's demo key, uploaded to the public
page, is "Hợp lệ" with the agency's name; the same receipt with one byte changed is not; the receipt's QR
link opens the register's line, marked as a demo signature."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot
from tests.browser.test_staff_forms import BIRTH, ward_dossier

WARD_NAME = "Ủy ban nhân dân phường Hồng Bàng"  # the demo ward of tiepnhan.xa (services/demo/directory.py)


def signed_receipt(stack: BrowserStack) -> tuple[str, bytes]:
    created = ward_dossier(stack, BIRTH, "Trần Văn Bình")
    receipt = httpx.post(
        f"{stack.url('intake')}/api/v1/dossiers/{created['code']}/forms/receipt.pdf",
        json={"secret": created["secret"]},
        headers={"Authorization": f"Bearer {stack.token('tiepnhan.xa')}"},
        timeout=60,
    )
    assert receipt.status_code == 200, receipt.text
    return created["code"], receipt.content


async def upload(page: Page, content: bytes, name: str) -> None:
    await page.get_by_label("Tệp PDF cần kiểm tra").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": content}]
    )
    await page.get_by_role("button", name="Kiểm tra", exact=True).click()


async def test_a_signed_receipt_is_valid_and_a_tampered_one_is_not(page: Page, stack: BrowserStack) -> None:
    code, pdf = signed_receipt(stack)

    await page.goto("/")
    await page.get_by_role("link", name="Kiểm tra văn bản đã ký").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra chữ ký số")
    await upload(page, pdf, f"{code}-01.pdf")
    verdict = page.get_by_test_id("verdict")
    # the check runs in the PDF process pool; a busy machine may take a while
    await expect(page.get_by_test_id("verdict-headline")).to_contain_text("Hợp lệ", timeout=20_000)
    await expect(verdict).to_contain_text(WARD_NAME)
    await expect(verdict).to_contain_text(code)
    await expect(verdict).to_contain_text("Chữ ký thử nghiệm")
    await axe_check(page, "verify-valid")
    await screenshot(page, "verify-valid")

    tampered = bytearray(pdf)
    tampered[len(pdf) // 3] ^= 0x01
    await upload(page, bytes(tampered), f"{code}-01-sua.pdf")
    await expect(page.get_by_test_id("verdict-headline")).to_contain_text("Không hợp lệ", timeout=20_000)
    await expect(verdict).to_contain_text(re.compile("Sai|Có — văn bản đã bị thay đổi"))
    await screenshot(page, "verify-invalid")


async def test_the_receipts_qr_link_opens_its_register_line(page: Page, stack: BrowserStack) -> None:
    code, pdf = signed_receipt(stack)
    checked = httpx.post(
        f"{stack.url('intake')}/api/v1/signatures/verify", files={"file": ("r.pdf", pdf, "application/pdf")}, timeout=60
    )
    document_id = checked.json()["signatures"][0]["issued"]["id"]

    await page.goto(f"/kiem-tra-chu-ky/{document_id}")
    issued = page.get_by_test_id("issued-document")
    await expect(issued).to_contain_text(code)
    await expect(issued).to_contain_text(WARD_NAME)
    await expect(issued).to_contain_text("Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    await expect(issued).to_contain_text("Chữ ký thử nghiệm (demo)")
    await axe_check(page, "verify-link")
    await screenshot(page, "verify-link")
    await upload(page, pdf, "phieu.pdf")
    await expect(page.get_by_test_id("verdict-headline")).to_contain_text("Hợp lệ", timeout=20_000)
