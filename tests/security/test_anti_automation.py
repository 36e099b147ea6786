"""Issue 11, point 9: public writes are limited per client address (429 + Retry-After), and the complaint
form does not tell whether a dossier code exists."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app as create_intake
from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.models import Complaint
from tests.apps import new_client
from tests.intake.setup import PDF, create_desk, submission

NOW = datetime(2026, 11, 23, 9, 10, tzinfo=VN_TZ)  # 50 minutes before the hourly window ends


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "too_many_requests"
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


@pytest.fixture(scope="module")
async def strict_intake(settings: Settings) -> AsyncIterator[FastAPI]:
    """intake_api with small limits, to reach them in a few requests."""
    strict = settings.with_changes(
        public_writes={"citizen_writes_per_window": 3, "tracking_per_window": 3, "complaints_per_window": 2}
    )
    app = create_intake(strict)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def strict_app(strict_intake: FastAPI, share: Callable[[FastAPI], FastAPI]) -> FastAPI:
    """The strict intake on the test's rolled-back connection."""
    return share(strict_intake)


def complaint(agency_code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "agency_code": agency_code,
        "subject": "Hẹn trả kết quả nhiều lần",
        "content": "Tôi đã đến ba lần mà hồ sơ vẫn chưa có kết quả.",
    }
    return body | overrides


async def test_one_address_submits_at_most_the_hourly_limit_of_dossiers_others_are_not_affected(
    intake_app: FastAPI, session: AsyncSession, settings: Settings, travel
) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(NOW)
    async with new_client(intake_app) as bot, new_client(intake_app) as citizen:
        for _ in range(settings.public_writes.submissions_per_window):
            assert (await bot.post("/api/v1/dossiers", json=submission(desk))).status_code == 201
        refused = await bot.post("/api/v1/dossiers", json=submission(desk))
        assert_throttled(refused)
        assert int(refused.headers["Retry-After"]) == 50 * 60  # the window's end, not a guess
        # invalid bodies count too: the limit is on requests, not on successes
        assert_throttled(await bot.post("/api/v1/dossiers", json={"nonsense": True}))
        assert (await citizen.post("/api/v1/dossiers", json=submission(desk))).status_code == 201


async def test_complaints_are_limited_per_address(strict_app: FastAPI, session: AsyncSession, travel) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(NOW)
    async with new_client(strict_app) as bot, new_client(strict_app) as citizen:
        for _ in range(2):
            assert (await bot.post("/api/v1/complaints", json=complaint(desk.agency.code))).status_code == 201
        assert_throttled(await bot.post("/api/v1/complaints", json=complaint(desk.agency.code)))
        assert (await citizen.post("/api/v1/complaints", json=complaint(desk.agency.code))).status_code == 201


async def test_citizen_writes_with_a_secret_are_limited_per_address_even_before_the_secret_is_checked(
    strict_app: FastAPI, session: AsyncSession, travel
) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(NOW)
    async with new_client(strict_app) as citizen, new_client(strict_app) as bot:
        created = (await citizen.post("/api/v1/dossiers", json=submission(desk))).json()
        code, secret = created["code"], created["secret"]
        files = {"data": (None, f'{{"secret": "{secret}"}}'), "D02": ("giay-chung-sinh.pdf", PDF, "application/pdf")}
        assert (await citizen.post(f"/api/v1/dossiers/{code}/documents", files=files)).status_code == 201
        rating = {"secret": secret, "rating": "satisfied"}
        assert (await citizen.post(f"/api/v1/dossiers/{code}/feedback", json=rating)).status_code == 409  # not yet
        reason = {"secret": secret, "reason": "Nộp nhầm thủ tục"}
        assert (await citizen.post(f"/api/v1/dossiers/{code}/withdraw", json=reason)).status_code == 200
        # a fourth write from that address in the hour: refused, whatever it carries
        assert_throttled(await citizen.post(f"/api/v1/dossiers/{code}/supplements", files=files))
        assert_throttled(await citizen.post(f"/api/v1/dossiers/{code}/feedback", json=rating))

        # an automated writer with made-up secrets is stopped by the same count
        for _ in range(3):
            guess = {"secret": "AAAA-BBBB", "rating": "dissatisfied"}
            assert (await bot.post(f"/api/v1/dossiers/{code}/feedback", json=guess)).status_code == 404
        assert_throttled(await bot.post(f"/api/v1/dossiers/{code}/feedback", json=guess))


async def test_staff_uploads_are_not_counted_as_public_writes_but_anything_else_is(
    strict_app: FastAPI, session: AsyncSession, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(NOW)
    async with new_client(strict_app) as counter:
        officer = bearer(desk.officer)
        code = (await counter.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)).json()["code"]
        files = {"data": (None, '{"kind": "input"}'), "D02": ("giay-chung-sinh.pdf", PDF, "application/pdf")}
        for _ in range(4):
            uploaded = await counter.post(f"/api/v1/dossiers/{code}/documents", files=files, headers=officer)
            assert uploaded.status_code == 201, uploaded.text
    # an Authorization header that is no bearer token does not make a writer staff
    async with new_client(strict_app) as bot:
        made_up = {"data": (None, '{"secret": "AAAA-BBBB"}'), "D02": ("x.pdf", PDF, "application/pdf")}
        for _ in range(3):
            answer = await bot.post(
                f"/api/v1/dossiers/{code}/documents", files=made_up, headers={"Authorization": "Basic eDp4"}
            )
            assert answer.status_code == 404
        assert_throttled(
            await bot.post(f"/api/v1/dossiers/{code}/documents", files=made_up, headers={"Authorization": "Bearer "})
        )


async def test_tracking_by_phone_is_limited_per_address(strict_app: FastAPI, session: AsyncSession, travel) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(NOW)
    async with new_client(strict_app) as citizen:
        code = (await citizen.post("/api/v1/dossiers", json=submission(desk))).json()["code"]
        lookup = {"code": code, "phone": "0912345678"}
        for _ in range(3):  # right answers: the failure limit never applies, this one does
            assert (await citizen.post("/api/v1/track", json=lookup)).status_code == 200
        assert_throttled(await citizen.post("/api/v1/track", json=lookup))


async def test_a_complaint_answers_the_same_whether_or_not_the_dossier_code_exists(
    intake: httpx.AsyncClient, session: AsyncSession, travel
) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(NOW)
    real = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()["code"]
    made_up = real[:-4] + ("9999" if not real.endswith("9999") else "9998")

    answers = [
        await intake.post("/api/v1/complaints", json=complaint(desk.agency.code, dossier_code=dossier_code))
        for dossier_code in (real, made_up)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    shapes = [{key: value for key, value in a.json().items() if key != "code"} for a in answers]
    assert shapes[0] == shapes[1]
    assert set(answers[0].headers) == set(answers[1].headers)

    # the staff still see what the citizen wrote: linked when it matched, noted when not
    stored = {
        row.code: row
        for row in await session.scalars(
            select(Complaint).where(Complaint.code.in_([a.json()["code"] for a in answers]))
        )
    }
    linked, noted = stored[answers[0].json()["code"]], stored[answers[1].json()["code"]]
    assert linked.dossier_id is not None
    assert noted.dossier_id is None
    assert made_up in noted.content
