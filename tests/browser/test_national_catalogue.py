"""The whole national catalogue in the citizen portal: thousands of procedures to page through, filters,
and an information-only procedure's page saying why it cannot be submitted online here.

The module imports the shipped national file into the stack's database with the real command (a few
seconds). Tests that run later see 5,670 procedures: those that list procedures filter by agency or
look procedures up by code, so they are not affected."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.async_api import Page, expect

from services.core.embedded_pg import REPO_ROOT
from tests.browser.conftest import BrowserStack, axe_check, screenshot

REACTOR = "1.115808"  # Cấp Giấy phép vận hành lò phản ứng hạt nhân nghiên cứu: Bộ KH&CN, no details
LAND = "1.115753"  # a Lạng Sơn land procedure with documents, fees and "không quá 10 ngày làm việc"


@pytest.fixture(scope="module", autouse=True)
def national(stack: BrowserStack) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.intake.national_import"],
        cwd=REPO_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


async def test_search_the_whole_catalogue_filter_and_open_an_information_only_procedure(page: Page) -> None:
    await page.goto("/thu-tuc")
    count = page.get_by_test_id("result-count")
    await expect(count).to_contain_text("Tìm thấy")
    total = int(re.sub(r"\D", "", await count.inner_text()))
    assert total >= 5000
    await page.get_by_role("button", name="Trang cuối").click()
    await expect(page.get_by_text(re.compile(r"Trang (\d+)/\1$"))).to_be_visible()

    await page.get_by_role("searchbox").fill("LO PHAN UNG HAT NHAN")  # capitals, no accents
    await page.get_by_role("button", name="Tìm kiếm").click()
    reactor = page.get_by_role("link", name="Cấp Giấy phép vận hành lò phản ứng hạt nhân nghiên cứu")
    await expect(reactor).to_be_visible()
    await page.get_by_label("Cấp thực hiện").select_option("ministry")
    await page.wait_for_url(lambda url: "cap=ministry" in url)
    await expect(reactor).to_be_visible()
    await expect(page.get_by_test_id("information-only").first).to_be_visible()
    await page.get_by_label("Cấp thực hiện").select_option("commune")
    await expect(page.get_by_text("Không tìm thấy thủ tục phù hợp")).to_be_visible()
    await page.get_by_label("Cấp thực hiện").select_option("ministry")
    await screenshot(page, "citizen-national-search")

    await reactor.click()
    await page.wait_for_url(f"**/thu-tuc/{REACTOR}")
    reason = page.get_by_test_id("information-only-reason")
    await expect(reason).to_contain_text("Chưa nộp hồ sơ trực tuyến được tại đây")
    await expect(reason).to_contain_text("chưa thiết lập quy trình xử lý hồ sơ")
    await expect(page.get_by_test_id("departments")).to_contain_text("Bộ Khoa học và Công nghệ")
    await expect(page.get_by_role("link", name="Nộp hồ sơ trực tuyến")).to_have_count(0)
    await axe_check(page, "national-procedure")
    await screenshot(page, "citizen-national-procedure")


async def test_an_information_only_procedure_with_details_shows_documents_fees_and_time(page: Page) -> None:
    await page.goto(f"/thu-tuc/{LAND}")
    await expect(page.get_by_test_id("time-limit")).to_contain_text("10 ngày làm việc")
    await expect(page.get_by_test_id("documents")).to_contain_text("Văn bản tặng cho quyền sử dụng đất")
    await expect(page.get_by_test_id("fees")).to_be_visible()
    await expect(page.get_by_test_id("departments")).to_contain_text("Ủy ban nhân dân cấp xã")
    await expect(page.get_by_test_id("information-only-reason")).to_be_visible()
