"""The national portal sync (DVCQG) against a fake portal that is a real HTTP server: every state change
arrives, in order per dossier even with two workers and a failing portal; a portal down then back; parking
and an administrator's replay; a duplicate answer acknowledged once; and what the body carries."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.calendar.store import calendar_for
from services.core.config import Settings
from services.dev.fake_portal import FakePortal
from services.models import Dossier, PortalSync
from services.portal.dispatch import PortalSync as Sender
from services.sla.clocks import apologize
from tests.integrations.conftest import World, journal, move, new_dossier, sync_until
from tests.tokens import bearer_for

pytestmark = pytest.mark.committed  # the sender is a worker: its claims and leases are real transactions

JOURNEY = ("processing", "awaiting_supplement", "processing", "awaiting_payment", "processing", "resolved", "returned")
JOURNEY_CODES = [2, 4, 5, 4, 6, 4, 9, 10]  # received first, then the journey


async def test_every_state_change_arrives_in_order_with_two_workers_and_a_failing_portal(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    dossiers = [await new_dossier(sessionmaker, world) for _ in range(4)]
    for dossier in dossiers:
        await move(sessionmaker, dossier, *JOURNEY)
    portal.steer(fail_next=7)  # the first seven requests fail with 500, whichever dossier they carry

    rows = await sync_until(sessionmaker, portal_settings, dossiers, workers=2)

    for dossier in dossiers:
        assert portal.states(dossier.code) == JOURNEY_CODES
    assert portal.state.out_of_order == []
    assert len(rows) == 4 * len(JOURNEY_CODES)
    assert all(row.ack_id and row.ack_id.startswith("DVC-") for row in rows)
    assert len({row.ack_id for row in rows}) == len(rows)  # one acknowledgement per state change
    assert sum(row.attempts for row in rows) >= len(rows) + 7  # each failure cost a retry


async def test_a_portal_down_is_retried_and_the_states_go_when_it_is_back(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    settings = portal_settings.with_changes(national_portal={"max_attempts": 50})
    dossier = await new_dossier(sessionmaker, world)
    await move(sessionmaker, dossier, "processing")
    portal.steer(fail_next=1000)
    sender = Sender(sessionmaker, settings, dossier_ids=[dossier.id])
    try:
        for _ in range(3):
            await sender.run_once()
            async with sessionmaker() as session, session.begin():  # the backoff is not what this test waits on
                await session.execute(
                    update(PortalSync).where(PortalSync.dossier_id == dossier.id).values(next_attempt_at=func.now())
                )
    finally:
        await sender.client.aclose()
    first, second = await journal(sessionmaker, dossier)
    assert (first.status, first.attempts, first.last_status_code, first.last_error) == (
        "pending",
        3,
        500,
        "HTTP 500 LOI_HE_THONG",
    )
    assert (second.status, second.attempts) == ("pending", 0)  # never sent before the first is acknowledged
    assert portal.states(dossier.code) == []

    portal.steer(fail_next=0)
    rows = await sync_until(sessionmaker, settings, [dossier])
    assert portal.states(dossier.code) == [2, 4]
    assert [(row.status, row.last_error) for row in rows] == [("acknowledged", None), ("acknowledged", None)]


async def test_parked_after_the_limit_holds_its_dossier_back_until_an_administrator_replays_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    portal_settings: Settings,
    portal: FakePortal,
    world: World,
    notify: httpx.AsyncClient,
) -> None:
    dossier = await new_dossier(sessionmaker, world)
    other = await new_dossier(sessionmaker, world)
    await move(sessionmaker, dossier, "processing", "resolved")
    portal.steer(fail_for=frozenset({dossier.code}))  # max_attempts = 3: its first state change is parked

    any_state = ("parked", "pending", "acknowledged")
    for _ in range(40):  # three attempts, then parked; the later states stay behind it however often it looks
        await sync_until(sessionmaker, portal_settings, [dossier, other], settled=any_state)
    assert [row.status for row in await journal(sessionmaker, dossier)] == ["parked", "pending", "pending"]
    assert portal.states(dossier.code) == []
    assert portal.states(other.code) == [2]  # the other dossiers go on

    admin = bearer_for(portal_settings)
    page = (await notify.get("/api/v1/portal-sync", params={"dossier": dossier.code}, headers=admin)).json()
    assert [item["status"] for item in page["items"]] == ["parked", "pending", "pending"]
    assert page["items"][0]["last_error"] == "HTTP 500 LOI_HE_THONG"
    assert page["counts"]["parked"] >= 1
    assert page["blocked"] >= 2
    parked = page["items"][0]["id"]
    portal.steer(fail_for=frozenset())
    assert (await notify.post(f"/api/v1/portal-sync/{page['items'][1]['id']}/replay", headers=admin)).status_code == 409
    assert (await notify.post(f"/api/v1/portal-sync/{uuid.uuid4()}/replay", headers=admin)).status_code == 404
    replayed = await notify.post(f"/api/v1/portal-sync/{parked}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    assert (replayed.json()["status"], replayed.json()["attempts"]) == ("pending", 0)

    await sync_until(sessionmaker, portal_settings, [dossier])
    assert portal.states(dossier.code) == [2, 4, 9]
    async with sessionmaker() as session:
        audited = await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'portal_sync_replay' AND resource = :r"),
            {"r": f"portal_sync:{parked}"},
        )
    assert audited == 1


async def test_a_refusal_is_parked_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    wrong = portal_settings.with_changes(national_portal={"client_id": "someone-else"})
    dossier = await new_dossier(sessionmaker, world)
    rows = await sync_until(sessionmaker, wrong, [dossier], settled=("parked",))
    assert [(row.attempts, row.last_status_code, row.last_error) for row in rows] == [(1, 401, "HTTP 401 XAC_THUC")]


async def test_a_sync_the_portal_accepted_before_timing_out_is_acknowledged_once(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    settings = portal_settings.with_changes(national_portal={"timeout_seconds": 1.0})
    dossier = await new_dossier(sessionmaker, world)
    portal.steer(delay_after_accept=3.0)  # accepted, then answered after the sender's 1 s timeout
    sender = Sender(sessionmaker, settings, dossier_ids=[dossier.id])
    try:
        await sender.run_once()
    finally:
        await sender.client.aclose()
    (row,) = await journal(sessionmaker, dossier)
    assert (row.status, row.last_error) == ("pending", "timeout")
    portal.steer(delay_after_accept=0.0)

    (row,) = await sync_until(sessionmaker, portal_settings, [dossier])
    assert row.duplicate is True
    assert row.attempts >= 2
    assert portal.state.duplicates == 1
    assert len(portal.bodies(dossier.code)) == 1
    assert row.ack_id == portal.state.accepted[str(row.id)].ack_id  # the first answer's id, recorded once


async def test_a_duplicate_answer_is_an_acknowledgement_recorded_as_such(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    dossier = await new_dossier(sessionmaker, world)
    await move(sessionmaker, dossier, "processing")
    portal.steer(duplicate_next=1)  # "we had it already" for the first one
    first, second = await sync_until(sessionmaker, portal_settings, [dossier])
    assert (first.duplicate, first.attempts, second.duplicate) == (True, 1, False)
    assert portal.states(dossier.code) == [2, 4]


def test_a_process_refuses_to_start_with_an_http_portal_or_a_lease_too_short(portal_settings: Settings) -> None:
    production = portal_settings.with_changes(
        demo=False, clock_file=None, auth={"jwt_secret": SecretStr("p" * 40)}, webhooks={"allow_loopback": False}
    )
    with pytest.raises(RuntimeError, match="MOTCUA_NATIONAL_PORTAL_URL must be https"):
        production.refuse_unsafe_start()
    production.with_changes(national_portal={"url": "https://dvc.example.vn/dongbo"}).refuse_unsafe_start()
    too_short = portal_settings.with_changes(national_portal={"lease_seconds": 10.0})  # timeout 5 s
    with pytest.raises(RuntimeError, match="LEASE_SECONDS must exceed twice"):
        too_short.refuse_unsafe_start()


async def test_the_body_maps_the_dossier_and_carries_only_the_personal_data_the_format_needs(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    dossier = await new_dossier(
        sessionmaker,
        world,
        status="submitted",
        channel=2,
        phone="0987654321",
        applicant_email="an.nguyen@example.vn",
        applicant_address="12 Phố Huế, Hà Nội",
        postal_address="34 Lý Thường Kiệt, Hà Nội",
        applicant_id_number="001203009876",
        submitted_at=_at("2026-11-23T08:05:00+07:00"),
    )
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Dossier)
            .where(Dossier.id == dossier.id)
            .values(
                status="received", received_at=_at("2026-11-23T09:30:00+07:00"), due_at=_at("2026-11-27T17:00:00+07:00")
            )
        )
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Dossier)
            .where(Dossier.id == dossier.id)
            .values(status="resolved", resolved_at=_at("2026-11-26T10:00:00+07:00"), outcome="on_time")
        )
    async with sessionmaker() as session, session.begin():  # after the status, as "4 tại chỗ" counts it early
        await session.execute(update(Dossier).where(Dossier.id == dossier.id).values(outcome="early"))
    async with sessionmaker() as session, session.begin():  # no longer the latest: its outcome is still the final one
        await session.execute(
            update(Dossier)
            .where(Dossier.id == dossier.id)
            .values(status="returned", returned_at=_at("2026-11-26T10:05:00+07:00"))
        )
    await sync_until(sessionmaker, portal_settings, [dossier])

    assert portal.state.refused == []  # the fake checks every field's type, range and time zone
    submitted, received, resolved, returned = sorted(portal.bodies(dossier.code), key=lambda body: body["SoThuTu"])
    assert {k: v for k, v in received.items() if k not in ("MaDongBo",)} == {
        "SoThuTu": 2,
        "MaHoSo": dossier.code,
        "MaTTHC": await _procedure_code(sessionmaker, dossier),
        "MaCoQuan": world.agency.code,
        "HinhThuc": 2,
        "TrangThaiHoSo": 2,
        "ThoiDiemCapNhat": "2026-11-23T09:30:00+07:00",
        "NgayNopHoSo": "2026-11-23T08:05:00+07:00",
        "NgayTiepNhan": "2026-11-23T09:30:00+07:00",
        "NgayHenTra": "2026-11-27T17:00:00+07:00",
        "LoaiDoiTuong": 1,
        "ChuHoSo": "Nguyễn Văn An",
        "MaDinhDanh": "001203009876",
    }
    assert "NgayTiepNhan" not in submitted  # not yet true then
    assert "TinhTrangXuLy" not in submitted
    assert (resolved["TrangThaiHoSo"], resolved["TinhTrangXuLy"], resolved["NgayKetThucXuLy"]) == (
        9, 1, "2026-11-26T10:00:00+07:00",
    )  # fmt: skip
    assert (returned["TrangThaiHoSo"], returned["TinhTrangXuLy"], returned["NgayTraKetQua"]) == (
        10, 1, "2026-11-26T10:05:00+07:00",
    )  # fmt: skip
    assert "NgayTraKetQua" not in resolved
    everything = json.dumps(portal.bodies(dossier.code), ensure_ascii=False)
    for personal in ("0987654321", "987654321", "an.nguyen", "Phố Huế", "Lý Thường Kiệt"):
        assert personal not in everything
    assert everything.count("001203009876") == 4  # in MaDinhDanh, once per body, nowhere else
    async with sessionmaker() as session:  # the journal itself holds none of it
        stored = await session.scalar(
            text("SELECT string_agg(row_to_json(p)::text, ' ') FROM portal_sync p WHERE dossier_id = :d"),
            {"d": dossier.id},
        )
    assert stored is not None
    assert "001203009876" not in stored
    assert "Nguyễn" not in stored


async def test_the_journal_records_state_changes_only(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    dossier = await new_dossier(sessionmaker, world)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Dossier).where(Dossier.id == dossier.id).values(overdue=True))
        await session.execute(update(Dossier).where(Dossier.id == dossier.id).values(status="received"))
    async with sessionmaker() as session, session.begin():  # a bulk load (services/stats/bulk.py) is not journaled
        await session.execute(text("SELECT set_config('motcua.stats_bulk', 'on', true)"))
        await session.execute(update(Dossier).where(Dossier.id == dossier.id).values(status="processing"))
    assert [(row.seq, row.state) for row in await journal(sessionmaker, dossier)] == [(1, "received")]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _procedure_code(sessionmaker: async_sessionmaker[AsyncSession], dossier: Dossier) -> str:
    async with sessionmaker() as session:
        code = await session.scalar(
            text(
                "SELECT p.code FROM procedure p JOIN procedure_version v ON v.procedure_id = p.id"
                " JOIN dossier d ON d.procedure_version_id = v.id WHERE d.id = :d"
            ),
            {"d": dossier.id},
        )
    assert isinstance(code, str)
    return code


async def test_an_apology_sends_the_new_appointment_in_the_same_state(
    sessionmaker: async_sessionmaker[AsyncSession], portal_settings: Settings, portal: FakePortal, world: World
) -> None:
    """Mẫu 04 moves the appointment without a change of state: the portal gets the state again with the new date."""
    dossier = await new_dossier(
        sessionmaker,
        world,
        received_at=_at("2026-11-23T09:30:00+07:00"),
        due_at=_at("2026-11-27T17:00:00+07:00"),
    )
    await move(sessionmaker, dossier, "processing")
    async with sessionmaker() as session, session.begin():
        loaded = await session.get_one(Dossier, dossier.id)
        await apologize(
            session,
            loaded,
            calendar=await calendar_for(session, world.agency.id),
            reason="Chờ kết quả xác minh của cơ quan thuế",
            new_appointment=_at("2026-12-02T10:00:00+07:00"),
            at=_at("2026-11-27T15:00:00+07:00"),
        )
    async with sessionmaker() as session, session.begin():  # the state and the date in one write: one row, not two
        await session.execute(
            update(Dossier)
            .where(Dossier.id == dossier.id)
            .values(status="awaiting_supplement", appointment_at=_at("2026-12-03T10:00:00+07:00"))
        )
    rows = await sync_until(sessionmaker, portal_settings, [dossier])

    assert [(row.state, row.reason) for row in rows] == [
        ("received", "change"),
        ("processing", "change"),
        ("processing", "appointment"),
        ("awaiting_supplement", "change"),
    ]
    sent = sorted(portal.bodies(dossier.code), key=lambda body: body["SoThuTu"])
    assert [(body["TrangThaiHoSo"], body["NgayHenTra"]) for body in sent] == [
        (2, "2026-11-27T17:00:00+07:00"),
        (4, "2026-11-27T17:00:00+07:00"),
        (4, "2026-12-02T10:00:00+07:00"),
        (5, "2026-12-03T10:00:00+07:00"),
    ]
