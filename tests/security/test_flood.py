"""Issue 11.1, as an attacker on the internet sees it: the services as real uvicorn processes behind
a trusted proxy (the test client on 127.0.0.1 sends X-Forwarded-For, as the gateway does)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from tests.db import TEST_DATABASE, migrate, recreate_database
from tests.e2e.conftest import ARTIFACTS, Stack
from tests.factories import create_staff
from tests.intake.setup import create_desk, submission

pytestmark = pytest.mark.e2e


@pytest.fixture
def flood_database_url(database_url: str) -> str:
    url = recreate_database(database_url, f"{TEST_DATABASE}_flood")
    migrate(url)
    return url


@pytest.fixture
async def flood_engine(flood_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(flood_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def services(flood_database_url: str) -> Iterator[Stack]:
    log_dir = ARTIFACTS / "e2e-logs" / "security-flood"
    log_dir.mkdir(parents=True, exist_ok=True)
    running = Stack(flood_database_url, log_dir)
    try:
        running.api("intake")
        running.api("workflow")
        yield running
    finally:
        running.stop()


def raw_request(method: str, target: str, forwarded_for: str | None, *, form: str | None = None) -> bytes:
    """One HTTP/1.1 request, prepared before the clock starts: the load generator must cost next to
    nothing, so what is measured is the services (httpx spends milliseconds of CPU per request)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if forwarded_for:
        lines.append(f"X-Forwarded-For: {forwarded_for}")
    body = (form or "").encode()
    if form is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def send(port: int, request: bytes) -> tuple[int, float]:
    """Send ``request`` on a connection of its own; the status and the seconds until the whole answer."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()  # Connection: close — the server ends the stream after the answer
    writer.close()
    return int(answer.split(b" ", 2)[1]), time.perf_counter() - started


async def test_200_concurrent_failing_requests_fail_fast_and_the_catalogue_stays_up(
    services: Stack, flood_engine: AsyncEngine
) -> None:
    async with AsyncSession(flood_engine, expire_on_commit=False) as session:
        desk = await create_desk(session)
        staff = await create_staff(session, agency=desk.agency, roles=("counter",))
        await session.commit()
    async with httpx.AsyncClient(base_url=services.url("intake")) as intake:
        created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    # a service that has been running has its pool's connections open: open them before the clock starts
    async with httpx.AsyncClient() as warm:
        await asyncio.gather(
            *(warm.get(services.url(s) + "/readyz") for s in ("intake", "workflow") for _ in range(20))
        )
    attackers = [f"198.51.100.{n}" for n in range(1, 21)]
    guesses = [
        raw_request("GET", f"/api/v1/track/{created['code']}?secret=WRONG{n:03d}", attackers[n % 20])
        for n in range(120)
    ]
    logins = [
        raw_request(
            "POST", "/api/v1/auth/token", attackers[n % 20],
            form=f"username={staff.username}{n % 4 or ''}&password=x{n}",
        )
        for n in range(80)
    ]  # fmt: skip

    async def catalogue() -> tuple[int, float]:
        await asyncio.sleep(0.05)  # while the flood is on
        return await send(services.ports["intake"], raw_request("GET", "/api/v1/procedures?q=khai%20sinh", None))

    results = await asyncio.gather(
        *(send(services.ports["intake"], request) for request in guesses),
        *(send(services.ports["workflow"], request) for request in logins),
        catalogue(),
    )
    flood, (catalogue_status, catalogue_seconds) = results[:-1], results[-1]
    statuses = sorted({status for status, _ in flood})
    slowest = max(seconds for _, seconds in flood)
    by_kind = f"guesses {max(s for _, s in flood[:120]):.2f} s, logins {max(s for _, s in flood[120:]):.2f} s"
    ordered = sorted(seconds for _, seconds in flood)
    print(f"flood percentiles p50 {ordered[100]:.2f} p90 {ordered[180]:.2f} p99 {ordered[198]:.2f}")
    print(f"flood: statuses {statuses}, slowest {slowest:.2f} s ({by_kind}); catalogue {catalogue_seconds:.2f} s")
    assert set(statuses) <= {401, 404, 429, 503}, statuses
    assert slowest < 2.0
    assert catalogue_status == 200
    assert catalogue_seconds < 1.0
