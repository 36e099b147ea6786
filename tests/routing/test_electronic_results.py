"""Electronic results (``return_method: "online"``) through the three apps and the real relay: the citizen
downloads the result with the secret, which returns the dossier once (concurrent downloads too); a result
nobody downloads is returned by the worker's task after the set time, by any number of workers once; the
statistics count it; the citizen's messages carry a link with the code only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.dossier.eresult import auto_return_task
from services.models import AuditLog, Dossier, Handover, Notification, OutboxEvent
from tests.intake.setup import PDF, submission
from tests.workflow_setup import World

Headers = Callable[[str], dict[str, str]]
APPLICANT = submission(type("D", (), {"procedure_code": ""})())["applicant"]  # the citizen's personal data


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


async def resolved_online(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    *, at: datetime, method: str = "online", result: bytes | None = PDF,
) -> dict[str, str]:  # fmt: skip
    """A counter dossier to be returned ``method``, appraised, given a result file and resolved at ``at``."""
    travel(at - timedelta(days=1))
    body = submission(type("D", (), {"procedure_code": world.codes["single"]})(), return_method=method)
    created = await clients["intake"].post("/api/v1/counter/dossiers", json=body, headers=as_staff("counter"))
    assert created.status_code == 201, created.text
    code, secret = created.json()["code"], created.json()["secret"]
    await relay()
    forwarded = await _act(clients, code, "specialist", as_staff, "forward")
    assert forwarded.status_code == 200, forwarded.text
    travel(at)
    if result is not None:
        attached = await clients["intake"].post(
            f"/api/v1/dossiers/{code}/documents", headers=as_staff("head"),
            data={"data": '{"kind": "result"}'}, files=[("files", ("quyet-dinh-nguyen-thi-thu-ha.pdf", result))],
        )  # fmt: skip
        assert attached.status_code == 201, attached.text
    resolved = await _act(clients, code, "head", as_staff, "resolve", result_note="Cấp giấy khai sinh")
    assert resolved.status_code == 200, resolved.text
    await relay()
    return {"code": code, "secret": secret}


async def _act(
    clients: dict[str, httpx.AsyncClient], code: str, who: str, as_staff: Headers, action: str, **extra: Any
) -> httpx.Response:
    return await clients["workflow"].post(
        f"/api/v1/dossiers/{code}/transitions", json={"action": action, **extra}, headers=as_staff(who)
    )


async def download(clients: dict[str, httpx.AsyncClient], code: str, secret: str, **extra: Any) -> httpx.Response:
    return await clients["intake"].post(f"/api/v1/dossiers/{code}/result", json={"secret": secret, **extra})


async def facts(engine: AsyncEngine, code: str) -> dict[str, Any]:
    """What an operator would look at: the state, the return lines, the events and the audited downloads."""
    async with AsyncSession(engine) as session:
        dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier is not None
        lines = (
            await session.scalars(
                select(Handover).where(
                    Handover.dossier_id == dossier.id, Handover.action.in_(["return", "return_result"])
                )
            )
        ).all()
        returned_events = await session.scalar(
            select(func.count()).where(
                OutboxEvent.dossier_id == dossier.id, OutboxEvent.event_type == "dossier.returned"
            )
        )
        downloads = await session.scalar(
            select(func.count()).where(AuditLog.dossier_id == dossier.id, AuditLog.action == "download_result")
        )
        return {
            "status": dossier.status,
            "returned_at": dossier.returned_at,
            "lines": [
                (line.action, line.note_code, line.from_staff_id, line.detail.get("returned_by")) for line in lines
            ],
            "returned_events": returned_events,
            "downloads": downloads,
        }


async def test_the_citizen_downloads_the_result_with_the_secret_and_the_first_download_returns_it(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine,
) -> None:  # fmt: skip
    travel(vn(2026, 11, 23, 9, 0))
    before = await clients["intake"].post(
        "/api/v1/counter/dossiers",
        json=submission(type("D", (), {"procedure_code": world.codes["single"]})(), return_method="online"),
        headers=as_staff("counter"),
    )
    not_yet = await download(clients, before.json()["code"], before.json()["secret"])
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "result_not_ready")

    dossier = await resolved_online(clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0))
    code, secret = dossier["code"], dossier["secret"]

    # the tracking page lists the result under a neutral name (the uploaded one carried the citizen's name)
    tracked = (await clients["intake"].get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert tracked["return_method"] == "online"
    assert [(r["filename"], r["content_type"]) for r in tracked["results"]] == [
        (f"ket-qua-{code}-1.pdf", "application/pdf")
    ]

    # a wrong secret is the same 404 as an unknown code; the secret never goes in a URL
    wrong = await download(clients, code, "ZZZZZZZZ")
    assert (wrong.status_code, wrong.json()["code"]) == (404, "dossier_not_found")
    in_url = await clients["intake"].get(f"/api/v1/dossiers/{code}/result", params={"secret": secret})
    assert in_url.status_code == 405
    assert (await facts(routing_engine, code))["status"] == "resolved"

    travel(vn(2026, 11, 26, 8, 15))
    first = await download(clients, code, secret)
    assert first.status_code == 200, first.text
    assert first.content == PDF
    assert first.headers["content-type"] == "application/pdf"
    assert f'filename="ket-qua-{code}-1.pdf"' in first.headers["content-disposition"]
    assert first.headers["cache-control"] == "no-store"
    after = await facts(routing_engine, code)
    assert (after["status"], after["returned_at"]) == ("returned", vn(2026, 11, 26, 8, 15))
    assert after["lines"] == [("return", "returned_online", None, "citizen")]
    assert after["returned_events"] == 1
    tracked = (await clients["intake"].get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert tracked["status"] == "returned"
    assert tracked["history"][-1]["note_code"] == "returned_online"

    # later downloads serve the same file and change nothing; each is in the audit log
    again = await download(clients, code, secret, document_id=tracked["results"][0]["id"])
    assert (again.status_code, again.content) == (200, PDF)
    later = await facts(routing_engine, code)
    assert (later["lines"], later["returned_events"], later["downloads"]) == (after["lines"], 1, 2)
    missing = await download(clients, code, secret, document_id="00000000-0000-0000-0000-000000000000")
    assert (missing.status_code, missing.json()["code"]) == (404, "document_not_found")
    bad = await download(clients, code, secret, document_id="../../etc/passwd")
    assert bad.status_code == 422


async def test_a_result_returned_at_the_desk_or_by_post_is_not_downloaded(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    dossier = await resolved_online(
        clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0), method="counter"
    )
    refused = await download(clients, dossier["code"], dossier["secret"])
    assert (refused.status_code, refused.json()["code"]) == (409, "not_online_return")
    tracked = await clients["intake"].get(f"/api/v1/track/{dossier['code']}", params={"secret": dossier["secret"]})
    assert tracked.json()["results"] == []


async def test_concurrent_first_downloads_return_the_dossier_once(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine,
) -> None:  # fmt: skip
    dossier = await resolved_online(clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0))
    travel(vn(2026, 11, 25, 20, 0))
    # six at once: more than the counters' pool (4) holds, fewer than the requests' pool (10) would make wait long
    answers = await asyncio.gather(*(download(clients, dossier["code"], dossier["secret"]) for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert all(a.content == PDF for a in answers)
    after = await facts(routing_engine, dossier["code"])
    assert after["status"] == "returned"
    assert after["lines"] == [("return", "returned_online", None, "citizen")]
    assert (after["returned_events"], after["downloads"]) == (1, 6)


async def test_the_desk_may_still_hand_it_over_on_paper(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine,
) -> None:  # fmt: skip
    """The desk's return is not required for an online result (the download or the worker returns it), but stays
    offered for a citizen who comes for it on paper; the file stays downloadable and nothing is returned twice."""
    dossier = await resolved_online(clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0))
    code = dossier["code"]
    shown = await clients["workflow"].get(f"/api/v1/dossiers/{code}", headers=as_staff("counter"))
    assert shown.json()["allowed_actions"] == ["return_result"]
    handed = await _act(clients, code, "counter", as_staff, "return_result")
    assert handed.status_code == 200, handed.text
    assert (await download(clients, code, dossier["secret"])).status_code == 200
    after = await facts(routing_engine, code)
    assert [line[0] for line in after["lines"]] == ["return_result"]
    assert after["returned_events"] == 1


async def _run_workers(settings: Settings, engine: AsyncEngine, workers: int, until: Callable[[], Any]) -> None:
    """``workers`` copies of the worker's task at once, until ``until()`` is true (or 60 s: a generous bound)."""
    stop = asyncio.Event()
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    fast = settings.with_changes(sla={"timer_poll_seconds": 0.05})
    async with httpx.AsyncClient() as client:
        tasks = [asyncio.create_task(auto_return_task()(sessionmaker, fast, client, stop)) for _ in range(workers)]
        try:
            async with asyncio.timeout(60):
                while not await until():
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # a few more rounds of every worker: nothing more may happen
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def test_a_result_nobody_downloads_is_returned_by_the_workers_once_after_the_set_days(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine, routing_settings: Settings,
) -> None:  # fmt: skip
    days = routing_settings.sla.online_result_auto_return_days
    resolved_at = vn(2026, 11, 25, 10, 0)
    waiting = [await resolved_online(clients, world, as_staff, relay, travel, at=resolved_at) for _ in range(3)]
    without_file = await resolved_online(clients, world, as_staff, relay, travel, at=resolved_at, result=None)
    codes = [d["code"] for d in waiting]

    async def statuses() -> list[str]:
        return [(await facts(routing_engine, code))["status"] for code in codes]

    # a minute before the set time: the workers leave them
    travel(resolved_at + timedelta(days=days) - timedelta(minutes=1))
    await _run_workers(routing_settings, routing_engine, 1, lambda: asyncio.sleep(0.5, result=True))
    assert await statuses() == ["resolved"] * 3

    # at the set time, three workers at once: each dossier returned once, by the system
    at = resolved_at + timedelta(days=days)
    travel(at)

    async def all_returned() -> bool:
        return await statuses() == ["returned"] * 3

    await _run_workers(routing_settings, routing_engine, 3, all_returned)
    for code in codes:
        after = await facts(routing_engine, code)
        assert after["lines"] == [("return", "returned_online_auto", None, "system")], code
        assert (after["returned_at"], after["returned_events"], after["downloads"]) == (at, 1, 0)
    # without a result file there is nothing to deliver: it waits for the desk
    assert (await facts(routing_engine, without_file["code"]))["status"] == "resolved"

    # the citizen can still download it afterwards; it stays returned once
    assert (await download(clients, codes[0], waiting[0]["secret"])).status_code == 200
    assert (await facts(routing_engine, codes[0]))["returned_events"] == 1

    # the statistics count the returned dossiers by their outcome, as resolved ones, and the dossier without a file
    await relay()
    stats = await clients["workflow"].get(
        "/api/v1/stats", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=as_staff("head")
    )
    assert stats.status_code == 200, stats.text
    total = stats.json()
    resolved = total["resolved_early"] + total["resolved_on_time"] + total["resolved_late"]
    assert (total["received"], resolved, total["pending_on_time"] + total["pending_overdue"]) == (4, 4, 0)


async def test_the_messages_link_to_the_tracking_page_with_the_code_only(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine, routing_settings: Settings,
) -> None:  # fmt: skip
    dossier = await resolved_online(clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0))
    code, secret = dossier["code"], dossier["secret"]
    assert (await download(clients, code, secret)).status_code == 200
    await relay()
    link = f"{routing_settings.urls.public.rstrip('/')}/tra-cuu/{code}"
    async with AsyncSession(routing_engine) as session:
        rows = (
            await session.execute(
                select(Notification.event_type, Notification.channel, Notification.subject, Notification.body)
                .join(Dossier, Dossier.id == Notification.dossier_id)
                .where(Dossier.code == code, Notification.channel.in_(["email", "sms"]))
            )
        ).all()
    sent = {(event, channel): f"{subject or ''}\n{body}" for event, channel, subject, body in rows}
    assert set(sent) >= {("dossier.resolved", "email"), ("dossier.resolved", "sms"), ("dossier.returned", "email")}
    assert link in sent["dossier.resolved", "email"]
    assert link in sent["dossier.resolved", "sms"]
    assert "tải kết quả điện tử" in sent["dossier.resolved", "email"]
    assert "dưới dạng điện tử" in sent["dossier.returned", "email"]
    personal = [secret, APPLICANT["full_name"], APPLICANT["id_number"], APPLICANT["email"], APPLICANT["address"],
                APPLICANT["phone"], APPLICANT["phone"].replace(" ", "")]  # fmt: skip
    for key, text in sent.items():
        for value in personal:
            assert value not in text, (key, value)
        for line in text.split():
            if "/tra-cuu/" in line:
                assert line.rstrip(".") == link, (key, line)  # nothing after the code: no secret, no query


async def test_a_result_attached_after_the_resolution_tells_the_citizen_it_is_there(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine, routing_settings: Settings,
) -> None:  # fmt: skip
    """Resolved without its file (the message said the result is ready, the download said "not ready yet"): the file
    attached later sends the citizen the link, once, and only for an online return."""
    dossier = await resolved_online(clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0), result=None)
    at_desk = await resolved_online(
        clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0), method="counter", result=None
    )
    code, secret = dossier["code"], dossier["secret"]
    assert (await download(clients, code, secret)).json()["code"] == "result_not_ready"
    for which in (code, at_desk["code"]):
        attached = await clients["intake"].post(
            f"/api/v1/dossiers/{which}/documents", headers=as_staff("counter"),  # who returns it, once resolved
            data={"data": '{"kind": "result"}'}, files=[("files", ("quyet-dinh.pdf", PDF))],
        )  # fmt: skip
        assert attached.status_code == 201, attached.text
    await relay()

    async def messages(which: str) -> dict[tuple[str, str], str]:
        async with AsyncSession(routing_engine) as session:
            rows = (
                await session.execute(
                    select(Notification.event_type, Notification.channel, Notification.subject, Notification.body)
                    .join(Dossier, Dossier.id == Notification.dossier_id)
                    .where(Dossier.code == which, Notification.event_type == "dossier.result_added")
                )
            ).all()
        return {(event, channel): f"{subject or ''}\n{body}" for event, channel, subject, body in rows}

    sent = await messages(code)
    link = f"{routing_settings.urls.public.rstrip('/')}/tra-cuu/{code}"
    assert set(sent) == {("dossier.result_added", "email"), ("dossier.result_added", "sms")}
    assert "Kết quả điện tử của hồ sơ" in sent["dossier.result_added", "email"]
    for text in sent.values():
        assert link in text
        assert secret not in text
        assert APPLICANT["full_name"] not in text
    assert await messages(at_desk["code"]) == {}  # a result handed over on paper: the desk says when
    assert (await download(clients, code, secret)).status_code == 200
