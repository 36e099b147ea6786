"""Time saved against the legal limit, the way reform reports measure it, reproduced through the bulk
loader and the statistics endpoint.

"Hạ Long cut the time of its district procedures by 38.2% and of its commune ones by 41.8% against
their legal limits." A city desk (district level) and three wards (commune level) get a year of
resolved dossiers whose working time used — what the dossier clock measures, on the working
calendar — adds up to exactly those cuts; the statistics give back, per level, the legal limit and
the measured mean in working days, the % cut, the mean and median share of the limit used and the
share resolved in under half of it.
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ, WORKING_DAY, WorkingCalendar
from services.models import AgencyLevel, Procedure, ProcedureVersion
from services.models.stats import SHARE_BUCKET_BOUNDS
from services.sla.clocks import outcome
from services.stats.aggregates import AGGREGATE_TABLES, verify
from services.stats.bulk import asyncpg_dsn, load
from services.stats.bulk_input import BulkDossier
from services.stats.medians import median_from_histogram
from services.stats.queries import compute_stats
from services.stats.scope import StatsQuery
from tests.factories import create_agency, create_procedure_version, create_staff, unique

# the bulk loader writes over raw asyncpg connections of its own: the apps must see committed rows
pytestmark = pytest.mark.committed

Bearer = Callable[..., dict[str, Any]]
PERIOD = {"from": "2023-01-01", "to": "2023-12-31"}
START = datetime(2023, 1, 1, tzinfo=VN_TZ)
CALENDAR = WorkingCalendar()  # the default calendar: no agency of this test has its own


@dataclass
class Level:
    """One row of the published table, and the dossiers behind it."""

    code: str
    name_vi: str
    cut: float  # the published % cut
    limits: list[int] = field(default_factory=list)
    used: list[int] = field(default_factory=list)

    def expected(self) -> dict[str, Any]:
        pairs = list(zip(self.used, self.limits, strict=True))
        shares = [100 * u / limit for u, limit in pairs]
        return {
            "level": self.code,
            "level_name_vi": self.name_vi,
            "measured": len(self.used),
            "average_limit_days": round(sum(self.limits) / len(self.limits) / WORKING_DAY, 2),
            "average_working_days": round(sum(self.used) / len(self.used) / WORKING_DAY, 2),
            "time_saved_percent": self.cut,
            "time_used_percent": pytest.approx(statistics.fmean(shares), abs=0.01),
            "time_used_median_percent": pytest.approx(statistics.median(shares), abs=0.01),
            "under_half_limit_rate": round(100 * sum(2 * u < limit for u, limit in pairs) / len(pairs), 2),
        }


def time_saved_records(
    rng: random.Random,
    level: Level,
    desks: list[uuid.UUID],
    versions: list[tuple[uuid.UUID, int]],
    count: int,
    *,
    year: int = 2023,
) -> list[BulkDossier]:
    """``count`` dossiers resolved in ``year`` (at ``desks``, under ``versions`` with their limits in
    working days) whose working time adds up to exactly (100 − cut)% of their limits."""
    drawn = []
    start = datetime(year, 1, 1, tzinfo=VN_TZ)
    for _ in range(count):
        desk = rng.choice(desks)
        version, days = rng.choice(versions)
        received = CALENDAR.next_working_instant(start + timedelta(seconds=rng.randrange(350 * 86400)))
        drawn.append((desk, version, received, days * WORKING_DAY, rng.uniform(0.1, 1.2)))
    target = round((100 - level.cut) / 100 * sum(limit for *_, limit, _ in drawn))
    scale = target / sum(limit * share for *_, limit, share in drawn)
    used = [round(limit * share * scale) for *_, limit, share in drawn]
    used[-1] += target - sum(used)  # the rounding, a few seconds, on the last one
    records = []
    for (desk, version, received, limit, _), spent in zip(drawn, used, strict=True):
        resolved = CALENDAR.add_working_seconds(received, spent)
        due = CALENDAR.add_working_seconds(received, limit)
        level.limits.append(limit)
        level.used.append(spent)
        records.append(
            BulkDossier(
                agency_id=desk,
                procedure_version_id=version,
                received_at=received,
                status="returned",
                due_at=due,
                resolved_at=resolved,
                returned_at=resolved + timedelta(hours=1),
                closed_at=resolved + timedelta(hours=1),
                outcome=outcome(CALENDAR, resolved, due),
                working_seconds=spent,
                limit_seconds=limit,
            )
        )
    return records


async def _procedures(
    session: AsyncSession, level: str, field_name: str, days: tuple[int, ...]
) -> list[tuple[ProcedureVersion, int]]:
    out = []
    for limit in days:
        version = await create_procedure_version(session, limit_value=limit, field=field_name)
        procedure = await session.get(Procedure, version.procedure_id)
        assert procedure is not None
        procedure.level = level
        out.append((version, limit))
    return out


def _figures(row: Any) -> dict[str, Any]:
    """A row's own figures but the median (not its breakdowns)."""
    values = row.model_dump(exclude={"time_used_median_percent"})
    return {key: value for key, value in values.items() if not isinstance(value, list | dict)}


def _row(body: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in keys}


async def test_a_time_saved_table_by_level_through_the_bulk_loader(
    workflow: httpx.AsyncClient, engine: AsyncEngine, database_url: str, bearer: Bearer, travel: Any
) -> None:
    travel(datetime(2024, 1, 15, 9, tzinfo=VN_TZ))
    district = Level(unique("huyen-"), "Cấp huyện", 38.2)
    commune = Level(unique("xa-"), "Cấp xã", 41.8)
    land, civil_status = unique("Đất đai "), unique("Hộ tịch ")
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add(AgencyLevel(code=district.code, name_vi="Cấp huyện", name_en="District level", rank=2))
        session.add(AgencyLevel(code=commune.code, name_vi="Cấp xã", name_en="Commune level", rank=3))
        await session.flush()
        city = await create_agency(session, level=district.code)
        wards = [await create_agency(session, level=commune.code) for _ in range(3)]
        for ward in wards:
            ward.parent_id = city.id
        district_versions = await _procedures(session, district.code, land, (10, 15, 20))
        commune_versions = await _procedures(session, commune.code, civil_status, (3, 5, 7))
        admin = await create_staff(session, agency=city, roles=("admin",))
        ward_leader = await create_staff(session, agency=wards[0], roles=("leader",))
        await session.commit()

    rng = random.Random(382418)
    records = time_saved_records(rng, district, [city.id], [(v.id, days) for v, days in district_versions], 1500)
    records += time_saved_records(
        rng, commune, [w.id for w in wards], [(v.id, days) for v, days in commune_versions], 3000
    )
    # resolved before the clocks kept the working time, and withdrawn: counted, but not measured
    version, _ = district_versions[0]
    old = CALENDAR.next_working_instant(START + timedelta(days=40))
    records += [
        BulkDossier(agency_id=city.id, procedure_version_id=version.id, received_at=old, status="returned",
                    outcome="early", resolved_at=old + timedelta(days=2), due_at=old + timedelta(days=14)),
        BulkDossier(agency_id=city.id, procedure_version_id=version.id, received_at=old, status="withdrawn",
                    closed_at=old + timedelta(days=1)),
    ]  # fmt: skip
    report = await load(asyncpg_dsn(database_url), records, batch_size=1000, connections=2)
    assert report.dossiers == 4502

    body = (
        await workflow.get(
            "/api/v1/stats", params={**PERIOD, "agency": city.code, "include_children": "true"}, headers=bearer(admin)
        )
    ).json()
    expected = [district.expected(), commune.expected()]
    # the published table: level, legal limit and measured mean in working days, the % cut
    assert [_row(row, expected[0]) for row in body["by_level"]] == expected
    assert [row["time_saved_percent"] for row in body["by_level"]] == [38.2, 41.8]
    assert [row["level_name_en"] for row in body["by_level"]] == ["District level", "Commune level"]
    # one field per level here: the same figures by field
    figures = {key: value for key, value in expected[0].items() if not key.startswith("level")}
    fields = {row["field"]: _row(row, figures) for row in body["by_field"]}
    assert fields == {
        name: {key: e[key] for key in figures} for name, e in ((land, expected[0]), (civil_status, expected[1]))
    }

    everyone = Level("", "", 0, [*district.limits, *commune.limits], [*district.used, *commune.used])
    total = everyone.expected()
    assert body["measured"] == 4500
    assert body["resolved_early"] + body["resolved_on_time"] + body["resolved_late"] == 4501
    for key in ("average_limit_days", "average_working_days", "time_used_percent", "time_used_median_percent"):
        assert body[key] == total[key]
    assert body["time_saved_percent"] == round(100 * (1 - sum(everyone.used) / sum(everyone.limits)), 2)
    # working days, not calendar days: nights, weekends and holidays do not count
    assert body["average_working_days"] < body["average_resolution_days"]
    assert sum(a["measured"] for a in body["by_agency"]) == 4500
    assert sum(m["measured"] for m in body["by_month"]) == 4500
    by_procedure = {p["procedure_code"]: p for p in body["by_procedure"]}
    assert {p["level"] for p in by_procedure.values()} == {district.code, commune.code}
    assert all(p["time_used_median_percent"] is not None for p in by_procedure.values())

    # a ward's leader sees their ward only: one level, their own dossiers
    mine = (await workflow.get("/api/v1/stats", params=PERIOD, headers=bearer(ward_leader))).json()
    assert [row["level"] for row in mine["by_level"]] == [commune.code]
    assert 0 < mine["measured"] < 3000
    assert mine["measured"] == next(a["measured"] for a in body["by_agency"] if a["agency_code"] == wards[0].code)

    csv_rows = (
        (
            await workflow.get(
                "/api/v1/stats/export.csv",
                params={**PERIOD, "agency": city.code, "include_children": "true"},
                headers=bearer(admin),
            )
        )
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert "Thời gian cắt giảm so với quy định (%)" in csv_rows[0]
    assert any(line.startswith(f"Cấp giải quyết,{district.code},Cấp huyện,") and ",38.2" in line for line in csv_rows)

    # a scope too large to sort: the medians come from the cells' histograms, within a bucket (2 points)
    scope = StatsQuery(
        now=datetime(2024, 1, 15, 9, tzinfo=VN_TZ),
        start=date(2023, 1, 1),
        end=date(2023, 12, 31),
        agency_ids=(city.id, *(w.id for w in wards)),
    )
    async with AsyncSession(engine) as session:
        exact = await compute_stats(session, scope)
        interpolated = await compute_stats(session, replace(scope, exact_median_max=0))
    assert exact.time_used_median_percent == body["time_used_median_percent"]
    pairs = [(exact, interpolated), *zip(exact.by_level, interpolated.by_level, strict=True)]
    pairs += zip(exact.by_procedure, interpolated.by_procedure, strict=True)
    for precise, estimate in pairs:
        assert precise.time_used_median_percent is not None
        assert estimate.time_used_median_percent is not None
        assert abs(precise.time_used_median_percent - estimate.time_used_median_percent) < 2
        # everything else is the same sums either way
        assert _figures(precise) == _figures(estimate)

    assert await verify(asyncpg_dsn(database_url)) == dict.fromkeys(AGGREGATE_TABLES, 0)


def test_the_median_from_the_histogram_is_placed_inside_its_bucket() -> None:
    buckets = [0] * len(SHARE_BUCKET_BOUNDS)
    assert median_from_histogram(buckets) is None
    buckets[SHARE_BUCKET_BOUNDS.index(50)] = 4  # four dossiers that used 50–52 % of their limit
    assert median_from_histogram(buckets) == 51.0
    buckets[SHARE_BUCKET_BOUNDS.index(10)] = 4  # and four that used 10–12 %: where the first four end
    assert median_from_histogram(buckets) == 12.0
    buckets[SHARE_BUCKET_BOUNDS.index(120)] = 10  # ten more used 120–130 %: the 9th of 18 is the first
    assert median_from_histogram(buckets) == 121.0
    buckets[-1] = 100  # most of them used twice their limit or more: "200 % or more"
    assert median_from_histogram(buckets) == 200.0
