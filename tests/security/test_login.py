"""Issue 11.5 and 11.14: staff sign-in resists guessing and spraying without locking the real user out,
counts atomically, never blocks the event loop; demo accounts and short secrets are refused."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import Settings
from tests.factories import create_agency, create_staff
from tests.security.conftest import address, client_at

# logins at once and apps with pools of their own: every request on a connection of its own
pytestmark = pytest.mark.committed


async def _login(app: FastAPI, username: str, password: str, host: str | None = None) -> int:
    async with client_at(app, host) as client:
        answer = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return answer.status_code


async def test_a_stranger_cannot_keep_the_admin_locked_out(
    workflow_app: FastAPI, session: AsyncSession, settings: Settings, travel: Any
) -> None:
    agency = await create_agency(session)
    admin = await create_staff(session, agency=agency, roles=("admin",), password="mật khẩu thật")
    await session.commit()
    start = datetime(2026, 12, 9, 8, 0, 1, tzinfo=UTC)
    travel(start)
    strangers = [await _login(workflow_app, admin.username, f"đoán {n}") for n in range(30)]  # 30 addresses
    assert set(strangers) <= {401, 429}
    assert strangers.count(401) == settings.login.account_free_failures + 1  # then one guess per spacing
    travel(start + timedelta(seconds=settings.login.account_spacing_seconds))
    assert await _login(workflow_app, admin.username, "mật khẩu thật") == 200


async def test_password_spraying_from_one_address_is_limited(
    workflow_app: FastAPI, session: AsyncSession, settings: Settings, travel: Any
) -> None:
    agency = await create_agency(session)
    victims = [await create_staff(session, agency=agency) for _ in range(3)]
    await session.commit()
    # one clock for every attempt: the per-address window is fixed (900 s, aligned to the epoch), and a run
    # that crossed its end had the later attempts counted afresh — answered 401, not 429 (CI, be07fbb)
    travel(datetime(2026, 12, 9, 9, 0, 1, tzinfo=UTC))
    sprayer = address()
    answers = [
        await _login(workflow_app, f"{victims[n % 3].username}{n}", "Matkhau@123", sprayer)
        for n in range(settings.login.address_failures + 5)
    ]
    assert answers[: settings.login.address_failures] == [401] * settings.login.address_failures
    assert set(answers[settings.login.address_failures :]) == {429}
    assert await _login(workflow_app, victims[0].username, "correct horse") == 200  # from their own address


async def test_concurrent_wrong_guesses_cannot_race_past_the_limit(workflow_app: FastAPI, settings: Settings) -> None:
    attacker = address()
    answers = await asyncio.gather(*(_login(workflow_app, f"nobody.{n}", "x", attacker) for n in range(40)))
    assert answers.count(401) <= settings.login.address_failures
    assert set(answers) <= {401, 429, 503}


async def test_password_hashing_does_not_stall_other_requests(workflow_app: FastAPI, session: AsyncSession) -> None:
    """A deliberately slow hash (argon2 64 MiB × 6): /healthz keeps answering while it is checked."""
    agency = await create_agency(session)
    staff = await create_staff(session, agency=agency)
    staff.password_hash = PasswordHasher(time_cost=6, memory_cost=64 * 1024, parallelism=1).hash("chậm mà chắc")
    await session.commit()
    latencies: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        async with client_at(workflow_app) as probe:
            while not done.is_set():
                started = time.perf_counter()
                assert (await probe.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)

    async def sign_in() -> float:
        started = time.perf_counter()
        try:
            assert await _login(workflow_app, staff.username, "chậm mà chắc") == 200
        finally:
            done.set()
        return time.perf_counter() - started

    took, _ = await asyncio.gather(sign_in(), poll())
    assert took > 0.2  # the polls really ran while the hash was being checked
    assert len(latencies) >= 5
    # a hash on the event loop would hold the poll in flight for the whole hash: the bound is 50 ms or a
    # quarter of the sign-in, whichever is longer, so a crowded machine slowing both alike does not fail it
    assert max(latencies) < max(0.05, took / 4), (took, latencies)


async def test_demo_accounts_cannot_sign_in_outside_demo_mode(
    settings: Settings, app_with: Any, session: AsyncSession
) -> None:
    agency = await create_agency(session)
    demo = await create_staff(session, agency=agency, password="demo")
    demo.demo = True
    await session.commit()
    production = {
        "demo": False, "clock_file": None, "auth": {"jwt_secret": SecretStr("a-production-secret-" + "x" * 32)},
        "webhooks": {"allow_loopback": False},
    }  # fmt: skip
    async with app_with("workflow", settings, **production) as real:
        assert await _login(real, demo.username, "demo") == 401
    async with app_with("workflow", settings) as demo_mode:
        assert await _login(demo_mode, demo.username, "demo") == 200


def test_a_short_secret_refuses_to_start() -> None:
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        Settings(demo=True).with_changes(auth={"jwt_secret": SecretStr("x" * 31)}).refuse_unsafe_start()
    production = Settings(demo=False).with_changes(
        auth={"jwt_secret": SecretStr("x" * 32)}, webhooks={"allow_loopback": False}
    )
    production.refuse_unsafe_start()
