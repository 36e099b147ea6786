"""A published table reproduced through the bulk loader and the statistics endpoint.

"A district one-stop desk reported for 2016–2018 29,828 dossiers received, 29,166 resolved early
or on time, 357 late and 305 handed back to the applicant unresolved; its communes reported
151,522 received, 151,510 on time and 12 late." Handed back unresolved is ``stopped`` (dừng xử lý:
the agency returns the dossier with its reasons); the applicant's own withdrawal is ``withdrawn``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import Agency, Dossier, Procedure, ProcedureVersion
from services.stats import bulk
from services.stats.aggregates import AGGREGATE_TABLES, verify
from services.stats.bulk import asyncpg_dsn, load
from services.stats.bulk_input import BulkDossier, BulkStep
from tests.factories import create_agency, create_procedure_version, create_staff

# the bulk loader writes over raw asyncpg connections of its own: the apps must see committed rows
pytestmark = pytest.mark.committed

Bearer = Callable[..., dict[str, Any]]
PERIOD = {"from": "2016-01-01", "to": "2018-12-31"}
START = datetime(2016, 1, 1, tzinfo=VN_TZ)
SECONDS = int((datetime(2019, 1, 1, tzinfo=VN_TZ) - START).total_seconds())
COMMUNES = 10


@dataclass
class Expected:
    counts: Counter[str]
    seconds: int = 0

    def rates(self) -> dict[str, float | None]:
        c = self.counts
        resolved = c["resolved_early"] + c["resolved_on_time"] + c["resolved_late"]
        overdue = 100 * c["resolved_late"] / resolved
        complaints = 100 * c["complained"] / c["received"]
        return {
            "on_time_rate": round(100 * (c["resolved_early"] + c["resolved_on_time"]) / resolved, 2),
            "online_rate": round(100 * c["online"] / c["received"], 2),
            "digitised_rate": round(100 * c["digitised"] / c["received"], 2),
            "online_payment_rate": 100.0 if c["paid_online"] else None,
            "complaint_rate": round(complaints, 2),
            "satisfaction_rate": round(100 - overdue - complaints, 2),
            "average_resolution_days": round(self.seconds / resolved / 86400, 2),
        }


def _dossiers(
    rng: random.Random, agency: Agency, versions: list[ProcedureVersion], outcomes: dict[str, int], expected: Expected
) -> list[BulkDossier]:
    kinds = [kind for kind, count in outcomes.items() for _ in range(count)]
    rng.shuffle(kinds)
    out = []
    for n, kind in enumerate(kinds):
        received = START + timedelta(seconds=rng.randrange(SECONDS))
        if n == 0:
            received = START  # the first instant of the period, Vietnam time
        elif n == 1:
            received = START + timedelta(seconds=SECONDS - 1)  # its last second
        channel = 2 if rng.random() < 0.35 else 1
        digitised, paid_online = rng.random() < 0.5, rng.random() < 0.2
        expected.counts.update(received=1, online=channel == 2, digitised=digitised, paid_online=paid_online)
        common: dict[str, Any] = {
            "agency_id": agency.id,
            "procedure_version_id": rng.choice(versions).id,
            "received_at": received,
            "channel": channel,
            "due_at": received + timedelta(days=10),
            "digitised": digitised,
            "paid_online": paid_online,
        }
        if kind == "stopped":
            expected.counts["stopped"] += 1
            out.append(BulkDossier(status="stopped", closed_at=received + timedelta(days=3), **common))
            continue
        resolved = received + timedelta(hours=rng.randrange(1, 240))
        expected.seconds += int((resolved - received).total_seconds())
        expected.counts[f"resolved_{kind}"] += 1
        rating = rng.choice((None, None, None, "satisfied", "acceptable", "dissatisfied"))
        expected.counts["complained"] += rating == "dissatisfied"
        returned = rng.random() < 0.9
        steps = ()
        if kind == "late":  # the desk's own step overran
            steps = (
                BulkStep(
                    unit_id=agency.id,
                    started_at=received,
                    due_at=received + timedelta(days=5),
                    ended_at=resolved,
                    outcome="late",
                ),
            )
        out.append(
            BulkDossier(
                status="returned" if returned else "resolved",
                outcome=kind,
                resolved_at=resolved,
                returned_at=resolved + timedelta(hours=1) if returned else None,
                closed_at=resolved + timedelta(hours=1) if returned else None,
                rating=rating,
                steps=steps,
                **common,
            )
        )
    return out


def _check(body: dict[str, Any], expected: Expected) -> None:
    c = expected.counts
    counts = {k: body[k] for k in ("received", "resolved_early", "resolved_on_time", "resolved_late", "stopped")}
    assert counts == {k: c[k] for k in counts}
    assert (body["withdrawn"], body["refused"], body["pending_on_time"], body["pending_overdue"]) == (0, 0, 0, 0)
    assert {k: body[k] for k in expected.rates()} == expected.rates()


async def test_the_published_table_through_the_bulk_loader(
    workflow: httpx.AsyncClient, engine: AsyncEngine, database_url: str, bearer: Bearer, travel: Any
) -> None:
    travel(datetime(2019, 1, 15, 9, tzinfo=VN_TZ))
    async with AsyncSession(engine, expire_on_commit=False) as session:
        district = await create_agency(session, level="district")
        communes = [await create_agency(session, level="commune") for _ in range(COMMUNES)]
        for commune in communes:
            commune.parent_id = district.id
        district_versions = [await create_procedure_version(session, limit_value=10) for _ in range(3)]
        commune_versions = [await create_procedure_version(session, limit_value=5) for _ in range(3)]
        admin = await create_staff(session, agency=district, roles=("admin",))
        await session.commit()

    rng = random.Random(2016)
    district_expected = Expected(Counter())
    records = _dossiers(
        rng,
        district,
        district_versions,
        {"early": 18_411, "on_time": 10_755, "late": 357, "stopped": 305},
        district_expected,
    )
    # just outside the period, Vietnam time: not counted
    for outside in (START - timedelta(seconds=1), START + timedelta(seconds=SECONDS)):
        records.append(
            BulkDossier(
                agency_id=district.id,
                procedure_version_id=district_versions[0].id,
                received_at=outside,
                status="returned",
                outcome="early",
                resolved_at=outside + timedelta(hours=2),
            )
        )
    commune_expected = {commune.id: Expected(Counter()) for commune in communes}
    commune_outcomes: dict[int, Counter[str]] = defaultdict(Counter)
    for kind, count in {"early": 96_388, "on_time": 55_122, "late": 12}.items():
        for _ in range(count):
            commune_outcomes[rng.randrange(COMMUNES)][kind] += 1
    for n, commune in enumerate(communes):
        records += _dossiers(rng, commune, commune_versions, dict(commune_outcomes[n]), commune_expected[commune.id])
    assert len(records) == 29_828 + 151_522 + 2

    started = time.perf_counter()
    report = await load(asyncpg_dsn(database_url), records, batch_size=20_000, connections=2)
    loaded_in = time.perf_counter() - started
    print(f"\nbulk load: {report.dossiers} dossiers in {loaded_in:.1f} s ({report.dossiers / loaded_in:,.0f}/s)")
    assert report.dossiers == len(records)
    assert report.steps == 357 + 12

    headers = bearer(admin)
    district_body = (
        await workflow.get("/api/v1/stats", params={**PERIOD, "agency": district.code}, headers=headers)
    ).json()
    assert district_body["received"] == 29_828
    assert district_body["resolved_early"] + district_body["resolved_on_time"] == 29_166
    assert district_body["resolved_late"] == 357
    assert district_body["stopped"] == 305  # handed back to the applicant unresolved
    _check(district_body, district_expected)
    assert len(district_body["by_month"]) == 36
    assert sum(m["received"] for m in district_body["by_month"]) == 29_828
    assert district_body["by_unit"][0]["agency_code"] == district.code
    assert district_body["by_unit"][0]["steps_late"] == 357

    totals: Counter[str] = Counter()
    for commune in communes:
        body = (await workflow.get("/api/v1/stats", params={**PERIOD, "agency": commune.code}, headers=headers)).json()
        _check(body, commune_expected[commune.id])
        totals.update({k: body[k] for k in ("received", "resolved_early", "resolved_on_time", "resolved_late")})
    assert totals["received"] == 151_522
    assert totals["resolved_early"] + totals["resolved_on_time"] == 151_510
    assert totals["resolved_late"] == 12

    everything = (
        await workflow.get(
            "/api/v1/stats", params={**PERIOD, "agency": district.code, "include_children": "true"}, headers=headers
        )
    ).json()
    assert everything["received"] == 29_828 + 151_522
    assert everything["resolved_early"] + everything["resolved_on_time"] == 29_166 + 151_510
    assert (everything["resolved_late"], everything["stopped"]) == (357 + 12, 305)
    assert len(everything["by_agency"]) == 1 + COMMUNES

    one_year = (
        await workflow.get(
            "/api/v1/stats", params={"from": "2017-01-01", "to": "2017-12-31", "agency": district.code}, headers=headers
        )
    ).json()
    assert 0 < one_year["received"] < 29_828
    assert one_year["received"] == sum(m["received"] for m in district_body["by_month"] if m["month"][:4] == "2017")

    async with AsyncSession(engine) as session:
        first = await session.scalar(
            select(Dossier.code).where(Dossier.receiving_agency_id == district.id, Dossier.received_at == START)
        )
    assert first == f"{district.code}-160101-0001"  # the daily counter the counter desk uses
    assert await verify(asyncpg_dsn(database_url)) == dict.fromkeys(AGGREGATE_TABLES, 0)


async def test_the_command_line_loads_json_lines_and_verifies(
    workflow: httpx.AsyncClient, engine: AsyncEngine, database_url: str, bearer: Bearer, tmp_path: Path
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desk = await create_agency(session)
        version = await create_procedure_version(session)
        procedure = await session.get(Procedure, version.procedure_id)
        assert procedure is not None
        officer = await create_staff(session, agency=desk)
        admin = await create_staff(session, agency=desk, roles=("admin",))
        await session.commit()
    lines = [
        {"agency": desk.code, "procedure": procedure.code, "received_at": "2019-03-04T08:00:00+07:00",
         "status": "returned", "outcome": "on_time", "resolved_at": "2019-03-06T16:00:00+07:00", "channel": 2,
         "steps": [{"unit": desk.code, "assignee": officer.username, "started_at": "2019-03-04T08:00:00+07:00",
                    "due_at": "2019-03-06T17:00:00+07:00", "ended_at": "2019-03-06T16:00:00+07:00",
                    "outcome": "on_time"}]},
        {"agency": desk.code, "procedure": procedure.code, "received_at": "2019-03-05T09:00:00+07:00",
         "status": "withdrawn", "closed_at": "2019-03-05T10:00:00+07:00"},
        {"agency": desk.code, "procedure": procedure.code, "received_at": "2019-03-05T09:00:00+07:00",
         "status": "refused", "channel": 2},
    ]  # fmt: skip
    source = tmp_path / "history.jsonl"
    source.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")

    assert await asyncio.to_thread(bulk.main, ["--url", database_url, "load", str(source)]) == 0
    assert await asyncio.to_thread(bulk.main, ["--url", database_url, "verify"]) == 0
    body = (
        await workflow.get(
            "/api/v1/stats",
            params={"from": "2019-03-01", "to": "2019-03-31", "agency": desk.code, "officer": officer.username},
            headers=bearer(admin),
        )
    ).json()
    assert (body["received"], body["resolved_on_time"], body["withdrawn"], body["refused"]) == (2, 1, 1, 1)
    assert body["online_rate"] == 50.0
    assert (body["steps"]["steps"], body["steps"]["steps_on_time"]) == (1, 1)

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**lines[0], "agency": "KHONG.CO"}) + "\n", encoding="utf-8")
    assert await asyncio.to_thread(bulk.main, ["--url", database_url, "load", str(bad)]) == 2
    assert await asyncio.to_thread(bulk.main, ["--url", database_url, "rebuild"]) == 0
    assert await asyncio.to_thread(bulk.main, ["--url", database_url, "verify"]) == 0
