"""The leader dashboard in a real browser: indicators and charts from real dossiers, filters, the overdue
list with the responsible unit, and the Excel export."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in, wait_until

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CENTRE = "000.00.01.H26"


@pytest.fixture(scope="module")
def procedure(stack: BrowserStack) -> dict[str, Any]:
    """A procedure the city centre receives at the counter (not inter-agency)."""
    items = httpx.get(
        stack.url("intake") + "/api/v1/procedures", params={"agency": CENTRE, "interagency": "false", "limit": 100}
    ).json()["items"]
    for item in items:
        detail = httpx.get(stack.url("intake") + f"/api/v1/procedures/{item['code']}").json()
        if [a["code"] for a in detail["agencies"] if a["role"] == "receiving"] == [CENTRE] and detail["time_limit"][
            "value"
        ] > 0:
            return dict(detail)
    for item in items:
        return dict(httpx.get(stack.url("intake") + f"/api/v1/procedures/{item['code']}").json())
    raise AssertionError("no demo procedure received at the centre")


@pytest.fixture(scope="module")
def dossiers(stack: BrowserStack, procedure: dict[str, Any]) -> list[str]:
    """Two dossiers received at the counter for the dashboard to count."""
    token = stack.token("tiepnhan")
    codes = []
    for name in ("Nguyễn Văn An", "Lê Thị Bích"):
        answer = httpx.post(
            stack.url("intake") + "/api/v1/counter/dossiers",
            json={
                "procedure_code": procedure["code"],
                "applicant": {
                    "full_name": name,
                    "id_number": "031190004567",
                    "phone": "0912345678",
                    "email": None,
                    "address": None,
                },
                "return_method": "counter",
            },
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code == 201, answer.text
        codes.append(str(answer.json()["code"]))
    return codes


def api_stats(stack: BrowserStack, **query: Any) -> dict[str, Any]:
    answer = httpx.get(
        stack.url("workflow") + "/api/v1/stats",
        params=query,
        headers={"Authorization": f"Bearer {stack.token('admin')}"},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def indicator(page: Page, label: str) -> Locator:
    return (
        page.get_by_test_id("indicators")
        .locator(".indicator", has=page.get_by_text(label, exact=True))
        .locator(".indicator-value")
    )


def this_year() -> tuple[str, str]:
    today = datetime.now(VN).date()
    return f"{today.year}-01-01", today.isoformat()


async def test_the_dashboard_shows_indicators_charts_and_exports(
    page: Page, stack: BrowserStack, dossiers: list[str]
) -> None:
    await sign_in(page, "admin")
    await page.goto("/lanh-dao")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bảng điều hành")
    start, end = this_year()
    expected = api_stats(stack, **{"from": start, "to": end})
    assert expected["received"] >= 2
    await expect(indicator(page, "Hồ sơ tiếp nhận")).to_have_text(str(expected["received"]))
    for chart in ("monthly-rates", "monthly-outcomes", "unit-rates", "online-share"):
        figure = page.get_by_test_id(f"chart-{chart}")
        await expect(figure).to_be_visible()
        await expect(figure.locator(".chart-box[role=img]")).to_have_attribute("aria-label", re.compile(r"\S"))
    await expect(page.get_by_test_id("chart-monthly-outcomes").locator("svg.recharts-surface").first).to_be_visible()
    # the text alternative: the chart's figures as a table
    await page.get_by_test_id("chart-monthly-outcomes").get_by_text("Xem số liệu dạng bảng").click()
    await expect(page.get_by_test_id("chart-monthly-outcomes").get_by_role("table")).to_be_visible()
    await axe_check(page, "leader-dashboard")
    await screenshot(page, "leader-dashboard")

    async with page.expect_download() as waiting:
        await page.get_by_test_id("export-xlsx").click()
    download = await waiting.value
    assert download.suggested_filename == f"thong-ke-{start}_{end}.xlsx"
    path = await download.path()
    with open(path, "rb") as body:
        assert body.read(2) == b"PK"  # an Office Open XML (zip) workbook
    await expect(page.get_by_text("Đã tải tệp Excel.")).to_be_visible()


async def test_filters_change_the_figures(
    page: Page, stack: BrowserStack, procedure: dict[str, Any], dossiers: list[str]
) -> None:
    await sign_in(page, "admin")
    await page.goto("/lanh-dao")
    start, end = this_year()
    everything = api_stats(stack, **{"from": start, "to": end})
    await expect(indicator(page, "Hồ sơ tiếp nhận")).to_have_text(str(everything["received"]))

    # one procedure: the figures of that procedure only, and the URL keeps the filters
    await page.get_by_label("Lĩnh vực").select_option(procedure["field"])
    await page.get_by_role("combobox", name=re.compile(r"^Thủ tục")).select_option(procedure["code"])
    await page.get_by_role("button", name="Xem số liệu").click()
    await expect(page).to_have_url(re.compile(r"procedure=" + re.escape(procedure["code"])))
    narrowed = api_stats(stack, **{"from": start, "to": end, "procedure": procedure["code"]})
    assert narrowed["received"] >= 2
    await expect(indicator(page, "Hồ sơ tiếp nhận")).to_have_text(str(narrowed["received"]))
    await expect(page.get_by_test_id("by-procedure")).to_contain_text(procedure["code"])

    # last year: nothing received then
    await page.get_by_label("Kỳ báo cáo").select_option("lastYear")
    await page.get_by_role("button", name="Xem số liệu").click()
    await expect(indicator(page, "Hồ sơ tiếp nhận")).to_have_text("0")

    # a period that ends before it starts is refused in the form, like the API refuses it
    await page.get_by_label("Từ ngày tiếp nhận").fill(end)
    await page.get_by_label("Đến ngày tiếp nhận").fill(start if start != end else "2000-01-01")
    await page.get_by_role("button", name="Xem số liệu").click()
    await expect(page.get_by_text("Ngày kết thúc không được trước ngày bắt đầu.")).to_be_visible()
    await expect(page.get_by_label("Đến ngày tiếp nhận")).to_have_attribute("aria-invalid", "true")
    await axe_check(page, "leader-dashboard-filtered")
    await screenshot(page, "leader-dashboard-filtered")


async def test_the_overdue_list_names_the_responsible_unit(
    page: Page, stack: BrowserStack, dossiers: list[str]
) -> None:
    token = stack.token("tiepnhan")

    async def routed() -> bool:
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                stack.url("workflow") + f"/api/v1/dossiers/{dossiers[0]}", headers={"Authorization": f"Bearer {token}"}
            )
        return answer.status_code == 200 and answer.json().get("status") == "processing"

    await wait_until(routed, what="the dossier routed")
    stack.clock.set(datetime.now(VN) + timedelta(days=90))
    try:
        await sign_in(page, "admin")
        start, end = this_year()
        await page.goto(f"/lanh-dao?from={start}&to={end}")
        table = page.get_by_test_id("overdue-table")
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader").filter(has_text=dossiers[0]))
        await expect(row).to_be_visible()
        await expect(row.get_by_text(re.compile(r"\d+(,\d)? ngày"))).to_be_visible()
        unit = await row.locator("td").nth(4).inner_text()
        assert unit.strip()
        assert unit.strip() != "Chưa xác định"
        await expect(indicator(page, "Đang giải quyết")).not_to_have_text("0")
        await axe_check(page, "leader-overdue")
        await screenshot(page, "leader-overdue")
    finally:
        stack.clock.reset()


async def test_a_head_sees_the_figures_of_their_own_agency(page: Page, stack: BrowserStack) -> None:
    await sign_in(page, "lanhdao")
    await page.goto("/lanh-dao")
    await expect(page.get_by_text("Số liệu của Văn phòng Đăng ký đất đai", exact=False)).to_be_visible()
    # no agency choice: the head's own agency is shown as text
    await expect(page.get_by_label("Cơ quan tiếp nhận")).to_have_count(0)
    await expect(page.get_by_test_id("indicators")).to_be_visible()
    await axe_check(page, "leader-dashboard-head")
    await screenshot(page, "leader-dashboard-head")


async def test_the_dashboard_in_english(page: Page, stack: BrowserStack) -> None:
    await sign_in(page, "admin")
    await page.goto("/lanh-dao")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    await expect(page.get_by_role("button", name="Export to Excel")).to_be_visible()
    await page.get_by_test_id("language").select_option("vi")


async def test_the_dashboard_fits_a_phone(phone_page: Page, stack: BrowserStack, dossiers: list[str]) -> None:
    await sign_in(phone_page, "admin")
    await phone_page.goto("/lanh-dao")
    await expect(phone_page.get_by_test_id("indicators")).to_be_visible()
    await expect(phone_page.get_by_test_id("chart-monthly-rates").locator("svg.recharts-surface").first).to_be_visible()
    overflow = await phone_page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"
    await axe_check(phone_page, "leader-dashboard-phone")
    await screenshot(phone_page, "leader-dashboard-phone")
