"""Electronic results end to end, through the real processes: the three APIs and their workers under uvicorn
(two workflow workers), a real SMTP server in the test process, "now" read from a file the test moves.

Two dossiers are filed at the counter to be returned electronically, routed, given a result file and
resolved. The citizen of the first is emailed a link to the tracking page (the code only: no secret, no
personal data), downloads the result with the secret and the dossier is returned. Nobody downloads the
second: a minute before ``MOTCUA_ONLINE_RESULT_AUTO_RETURN_DAYS`` (3 here) it is still resolved; at the set
time one of the two workflow workers returns it, once, and its citizen is emailed that the result was
returned electronically."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import Dossier, Handover, OutboxEvent
from tests.clock import write_clock
from tests.e2e.conftest import ARTIFACTS, Stack, eventually
from tests.intake.setup import PDF, submission
from tests.notify.fakes import SmtpSink
from tests.workflow_setup import World, create_world

pytestmark = pytest.mark.e2e
DAYS = 3


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def mail_server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


async def returns(engine: AsyncEngine, code: str) -> tuple[str, list[str | None], int]:
    """The dossier's state, the notes of its return lines and how many ``dossier.returned`` events it has."""
    async with AsyncSession(engine) as session:
        dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier is not None
        notes = (
            await session.scalars(
                select(Handover.note_code).where(Handover.dossier_id == dossier.id, Handover.action == "return")
            )
        ).all()
        events = await session.scalar(
            select(func.count()).where(
                OutboxEvent.dossier_id == dossier.id, OutboxEvent.event_type == "dossier.returned"
            )
        )
        return dossier.status, list(notes), int(events or 0)


async def test_a_result_is_downloaded_with_the_secret_or_returned_by_the_worker_after_the_set_days(
    stack: Stack, engine: AsyncEngine, mail_server: SmtpSink
) -> None:
    clock = ARTIFACTS / "clock-eresult.txt"
    write_clock(clock, vn(2026, 11, 23, 9, 0))
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world: World = await create_world(session)
        await session.commit()
    stack.env.update(
        {
            "MOTCUA_CLOCK_FILE": str(clock),
            "MOTCUA_TIMER_POLL_SECONDS": "0.2",
            "MOTCUA_ONLINE_RESULT_AUTO_RETURN_DAYS": str(DAYS),
            "MOTCUA_PUBLIC_URL": "https://dichvucong.example.vn",
            "MOTCUA_SMTP_PORT": str(mail_server.port),
            "MOTCUA_NOTIFY_POLL_SECONDS": "0.1",
        }
    )
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    stack.worker("intake")
    stack.worker("notify")
    stack.worker("workflow")
    stack.worker("workflow")

    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
    ):

        async def login(name: str) -> dict[str, str]:
            staff = world.staff[name]
            token = await workflow.post("/api/v1/auth/token", data={"username": staff.username, "password": "demo"})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        counter, specialist, head = [await login(name) for name in ("counter", "specialist", "head")]

        class Desk:
            procedure_code = world.codes["single"]

        async def resolved(email: str) -> dict[str, Any]:
            body = submission(Desk(), return_method="online")  # type: ignore[arg-type]
            body["applicant"]["email"] = email
            created = await intake.post("/api/v1/counter/dossiers", json=body, headers=counter)
            assert created.status_code == 201, created.text
            code = created.json()["code"]

            async def routed() -> bool:
                view = await workflow.get(f"/api/v1/dossiers/{code}", headers=specialist)
                return view.status_code == 200 and view.json()["status"] == "processing"

            await eventually(routed, what=f"{code} routed")
            forwarded = await workflow.post(
                f"/api/v1/dossiers/{code}/transitions", json={"action": "forward"}, headers=specialist
            )
            assert forwarded.status_code == 200, forwarded.text
            attached = await intake.post(
                f"/api/v1/dossiers/{code}/documents", headers=head,
                data={"data": '{"kind": "result"}'}, files=[("files", ("ket-qua.pdf", PDF, "application/pdf"))],
            )  # fmt: skip
            assert attached.status_code == 201, attached.text
            done = await workflow.post(f"/api/v1/dossiers/{code}/transitions", json={"action": "resolve"}, headers=head)
            assert done.status_code == 200, done.text
            return dict(created.json())

        resolved_at = vn(2026, 11, 25, 10, 0)
        write_clock(clock, resolved_at)
        first = await resolved("nguoi.thu.nhat@example.vn")
        second = await resolved("nguoi.thu.hai@example.vn")

        # the citizens are told by email, with the tracking page's link: the code only
        def mails(to: str, subject: str) -> list[Any]:
            return [m for m in mail_server.mails if to in m.recipients and subject in m.subject]

        async def told(to: str, subject: str) -> bool:
            return bool(mails(to, subject))

        await eventually(lambda: told("nguoi.thu.nhat@example.vn", "đã có kết quả"), what="the result's email")
        mail = mails("nguoi.thu.nhat@example.vn", "đã có kết quả")[0]
        link = f"https://dichvucong.example.vn/tra-cuu/{first['code']}"
        assert link in mail.body
        text = mail.subject + mail.body
        for personal in (first["secret"], "Nguyễn Thị Thu Hà", "031190004567", "0912", "Lạch Tray"):
            assert personal not in text

        # the first citizen downloads the result with the secret: the dossier is returned
        write_clock(clock, vn(2026, 11, 26, 8, 0))
        got = await intake.post(f"/api/v1/dossiers/{first['code']}/result", json={"secret": first["secret"]})
        assert (got.status_code, got.content) == (200, PDF)
        assert await returns(engine, first["code"]) == ("returned", ["returned_online"], 1)
        tracked = await intake.get(f"/api/v1/track/{first['code']}", params={"secret": first["secret"]})
        assert tracked.json()["status"] == "returned"

        # nobody downloads the second: a minute before the set time it waits, at the set time it is returned once
        write_clock(clock, resolved_at + timedelta(days=DAYS) - timedelta(minutes=1))
        await asyncio.sleep(1.5)  # several rounds of both workflow workers
        assert (await returns(engine, second["code"]))[0] == "resolved"
        write_clock(clock, resolved_at + timedelta(days=DAYS))

        async def auto_returned() -> bool:
            return (await returns(engine, second["code"]))[0] == "returned"

        await eventually(auto_returned, what="the second dossier returned by a worker")
        await asyncio.sleep(1.0)  # more rounds: nothing more may happen
        assert await returns(engine, second["code"]) == ("returned", ["returned_online_auto"], 1)
        assert await returns(engine, first["code"]) == ("returned", ["returned_online"], 1)
        await eventually(lambda: told("nguoi.thu.hai@example.vn", "đã trả kết quả"), what="the return's email")
        assert "dưới dạng điện tử" in mails("nguoi.thu.hai@example.vn", "đã trả kết quả")[0].body
        timeline = await workflow.get(f"/api/v1/dossiers/{second['code']}/timeline", headers=counter)
        assert [line["action"] for line in timeline.json()][-1] == "return"
