"""The leader dashboard shows the time saved against the legal limits, by level, in Vietnamese: a ward
leader's year of history, loaded by the bulk loader, whose province-level procedures used 61.8% of
their legal time and commune-level ones 58.2% (a Hạ Long-style table: cut by 38.2% and 41.8%)."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, expect

from services.stats.bulk import asyncpg_dsn, load
from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in
from tests.workflow.test_time_saved import Level, time_saved_records

WARD = "000.00.31.H26"  # UBND phường Hồng Bàng, where lanhdao.xa is the leader
YEAR = 2019  # long before the demo history: these are the only dossiers of the year
PROVINCE_LEVEL = "Cấp tỉnh (tỉnh, thành phố trực thuộc trung ương)"
COMMUNE_LEVEL = "Cấp xã (xã, phường, đặc khu)"


async def _versions(connection: asyncpg.Connection, level: str) -> list[tuple[Any, int]]:
    rows = await connection.fetch(
        "SELECT v.id, v.time_limit_value FROM procedure_version AS v JOIN procedure AS p ON p.id = v.procedure_id"
        " WHERE p.level = $1 AND v.time_limit_unit = 'working_days' AND v.time_limit_value > 0"
        " AND v.valid_to IS NULL ORDER BY p.code LIMIT 3",
        level,
    )
    return [(row["id"], row["time_limit_value"]) for row in rows]


@pytest.fixture(scope="module")
async def history(stack: BrowserStack) -> dict[str, Any]:
    """A year at the ward through the bulk loader; the statistics API's answer for it."""
    dsn = asyncpg_dsn(stack.database_url)
    connection = await asyncpg.connect(dsn)
    try:
        ward = await connection.fetchval("SELECT id FROM agency WHERE code = $1", WARD)
        province, commune = await _versions(connection, "province"), await _versions(connection, "commune")
    finally:
        await connection.close()
    assert province, "the demo catalogue has province-level procedures"
    assert commune, "the demo catalogue has commune-level procedures"
    rng = random.Random(2019)
    records = time_saved_records(rng, Level("province", PROVINCE_LEVEL, 38.2), [ward], province, 200, year=YEAR)
    records += time_saved_records(rng, Level("commune", COMMUNE_LEVEL, 41.8), [ward], commune, 400, year=YEAR)
    await load(dsn, records, batch_size=1000, connections=1)
    answer = httpx.get(
        stack.url("workflow") + "/api/v1/stats",
        params={"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"},
        headers={"Authorization": f"Bearer {stack.token('lanhdao.xa')}"},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_ward_leader_sees_the_time_saved_by_level(page: Page, history: dict[str, Any]) -> None:
    assert [row["time_saved_percent"] for row in history["by_level"]] == [38.2, 41.8]
    await sign_in(page, "lanhdao.xa")
    await page.goto(f"/lanh-dao?from={YEAR}-01-01&to={YEAR}-12-31")
    table = page.get_by_test_id("time-saved")
    await expect(page.get_by_role("heading", name="Thời gian giải quyết so với thời hạn quy định")).to_be_visible()
    for header in ("Cấp giải quyết", "Thời hạn quy định bình quân", "Thời gian thực tế bình quân",
                   "Cắt giảm so với quy định", "Giải quyết dưới một nửa thời hạn"):  # fmt: skip
        await expect(table.get_by_role("columnheader", name=header)).to_be_visible()
    rows = table.locator("tbody tr")
    await expect(rows).to_have_count(2)
    for n, (name, cut) in enumerate(((PROVINCE_LEVEL, "38,2%"), (COMMUNE_LEVEL, "41,8%"))):
        row = rows.nth(n)
        level = history["by_level"][n]
        await expect(row.get_by_role("rowheader")).to_have_text(name)
        await expect(row.get_by_test_id("time-saved-percent")).to_have_text(cut)
        limit = f"{level['average_limit_days']:.1f}".replace(".", ",")
        used = f"{level['average_working_days']:.1f}".replace(".", ",")
        await expect(row).to_contain_text(f"{limit} ngày làm việc")
        await expect(row).to_contain_text(f"{used} ngày làm việc")
    await expect(table.locator("tfoot")).to_contain_text("Tổng cộng")
    await expect(table.locator("tfoot").get_by_test_id("time-saved-percent")).to_have_text(
        f"{history['time_saved_percent']:.1f}%".replace(".", ",")
    )
    # the key indicators carry the working-time average and the time saved too
    indicators = page.get_by_test_id("indicators")
    await expect(indicators.get_by_text("Thời gian giải quyết bình quân (ngày làm việc)")).to_be_visible()
    await expect(indicators.get_by_text("Thời gian cắt giảm so với quy định")).to_be_visible()

    # the same figures by procedure
    await page.get_by_test_id("time-saved-grouping").select_option("procedure")
    await expect(table.locator("thead")).to_contain_text("Thủ tục")
    await expect(rows).to_have_count(len(history["by_procedure"]))
    await axe_check(page, "leader-time-saved")
    await screenshot(page, "leader-time-saved")
