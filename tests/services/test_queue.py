"""The generic queue (``services.core.queue``) against the real database, on a table of its own.

Two workers are two sessions on two connections, as in production: what one claims the other
never gets while the lease holds, an expired lease is claimed again, a failing row backs off and is
parked after the last attempt. The table lives in a scratch schema created and dropped here, so the
committed rows never meet another test's.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.core.queue import Queue, backoff_seconds, poll

JOBS = Queue(
    table="queue_test.job",
    waiting="pending",
    parked="parked",
    parked_at="parked_at",
    returning=("id", "attempts"),
    order_by="next_attempt_at, n",
)


@pytest.fixture
async def jobs(engine: AsyncEngine) -> AsyncIterator[list[uuid.UUID]]:
    """Ten due jobs, committed."""
    async with engine.begin() as connection:
        await connection.execute(text("CREATE SCHEMA queue_test"))
        await connection.execute(
            text(
                """
                CREATE TABLE queue_test.job (
                    id uuid PRIMARY KEY, n int NOT NULL, status text NOT NULL DEFAULT 'pending',
                    attempts int NOT NULL DEFAULT 0, claimed_by text, last_error text,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(), parked_at timestamptz,
                    done_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now())
                """
            )
        )
        ids = [uuid.uuid4() for _ in range(10)]
        for n, job_id in enumerate(ids):
            await connection.execute(
                text("INSERT INTO queue_test.job (id, n) VALUES (:id, :n)"), {"id": job_id, "n": n}
            )
    try:
        yield ids
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA queue_test CASCADE"))


async def _row(engine: AsyncEngine, job_id: uuid.UUID) -> dict[str, object]:
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM queue_test.job WHERE id = :id"), {"id": job_id})).mappings()
        return dict(row.one())


async def test_two_workers_never_claim_the_same_job(engine: AsyncEngine, jobs: list[uuid.UUID]) -> None:
    async with AsyncSession(engine) as first, AsyncSession(engine) as second:
        async with first.begin():
            mine = await JOBS.claim(first, worker="first", lease=30, limit=6)
            # the first has not committed: its rows are locked, the second skips them instead of waiting
            async with second.begin():
                theirs = await JOBS.claim(second, worker="second", lease=30, limit=10)
        assert len(mine) == 6
        assert len(theirs) == 4
        assert {row["id"] for row in mine}.isdisjoint({row["id"] for row in theirs})
        assert {row["id"] for row in mine} | {row["id"] for row in theirs} == set(jobs)
        async with second.begin():  # both leases hold: nothing is left to claim
            assert await JOBS.claim(second, worker="second", lease=30, limit=10) == []
    row = await _row(engine, mine[0]["id"])
    assert (row["claimed_by"], row["attempts"]) == ("first", 1)


async def test_an_expired_lease_is_claimed_again_and_the_first_worker_can_no_longer_settle(
    engine: AsyncEngine, jobs: list[uuid.UUID]
) -> None:
    async with AsyncSession(engine) as dead, AsyncSession(engine) as alive:
        async with dead.begin():
            claimed = await JOBS.claim(dead, worker="dead", lease=0.3, limit=1)
        assert [row["id"] for row in claimed] == [jobs[0]]
        async with alive.begin():  # still leased: the next one comes instead
            assert [row["id"] for row in await JOBS.claim(alive, worker="alive", lease=30, limit=1)] == [jobs[1]]
        await asyncio.sleep(0.4)
        async with alive.begin():
            again = await JOBS.claim(alive, worker="alive", lease=30, limit=1, where="n = 0")
        assert [(row["id"], row["attempts"]) for row in again] == [(jobs[0], 2)]
        async with dead.begin():  # the dead worker comes back: its outcome is refused
            assert await JOBS.complete(dead, "dead", [{"id": jobs[0]}], sets="done_at = now()") == set()
            assert await JOBS.retry(dead, "dead", [{"id": jobs[0], "delay": 1.0, "error": "late"}]) == set()
        async with alive.begin():
            done = await JOBS.complete(alive, "alive", [{"id": jobs[0]}], sets="status = 'done', done_at = now()")
        assert done == {jobs[0]}
    row = await _row(engine, jobs[0])
    assert (row["status"], row["claimed_by"], row["last_error"]) == ("done", None, None)
    assert row["done_at"] is not None


async def test_a_released_job_is_due_at_once_and_the_attempt_does_not_count(
    engine: AsyncEngine, jobs: list[uuid.UUID]
) -> None:
    async with AsyncSession(engine) as session:
        async with session.begin():
            [claimed] = await JOBS.claim(session, worker="w", lease=30, limit=1, where="n = 0")
        async with session.begin():
            assert await JOBS.release(session, "w", [claimed["id"]]) == {claimed["id"]}
        async with session.begin():
            [again] = await JOBS.claim(session, worker="w", lease=30, limit=1, where="n = 0")
    assert (again["id"], again["attempts"]) == (claimed["id"], 1)


async def test_a_failing_job_backs_off_and_is_parked_after_the_last_attempt(
    engine: AsyncEngine, jobs: list[uuid.UUID]
) -> None:
    max_attempts = 3
    async with AsyncSession(engine) as session:
        for attempt in range(1, max_attempts + 1):
            async with session.begin():
                claimed = await JOBS.claim(session, worker="w", lease=30, limit=1, where="n = 0")
            assert [(row["id"], row["attempts"]) for row in claimed] == [(jobs[0], attempt)]
            failure = {"id": jobs[0], "error": f"HTTP 503 ({attempt})"}
            async with session.begin():
                if attempt < max_attempts:
                    assert await JOBS.retry(session, "w", [{**failure, "delay": 0.2}]) == {jobs[0]}
                else:
                    assert await JOBS.park(session, "w", [failure]) == {jobs[0]}
            if attempt < max_attempts:
                async with session.begin():  # backing off: not due yet
                    assert await JOBS.claim(session, worker="w", lease=30, limit=1, where="n = 0") == []
                await asyncio.sleep(0.25)
        async with session.begin():  # parked: never claimed again
            assert await JOBS.claim(session, worker="w", lease=30, limit=1, where="n = 0") == []
    row = await _row(engine, jobs[0])
    assert (row["status"], row["attempts"], row["last_error"], row["claimed_by"]) == ("parked", 3, "HTTP 503 (3)", None)
    assert row["parked_at"] is not None


def test_backoff_grows_with_the_attempts_and_its_jitter_stays_inside_the_bounds() -> None:
    base, cap = 1.0, 30.0
    for attempts in range(1, 12):
        ceiling = min(cap, base * 2 ** (attempts - 1))
        samples = [backoff_seconds(attempts, base=base, cap=cap) for _ in range(400)]
        assert all(0.05 <= delay <= ceiling for delay in samples)
        assert len(set(samples)) > 300  # jittered, not one fixed delay
        assert max(samples) > 0.8 * ceiling  # the whole range is used
    assert sum(backoff_seconds(1, base=base, cap=cap) for _ in range(400)) < sum(
        backoff_seconds(6, base=base, cap=cap) for _ in range(400)
    )


async def test_a_worker_whose_rounds_keep_failing_waits_longer_each_time_and_resumes_at_once() -> None:
    """The database down for minutes: a worker polling every 0.1 s tried (and logged a traceback) ten times a
    second for as long as it lasted. Failing rounds now wait twice as long each time (up to 5 s); the first
    round that works brings the usual pace back."""
    calls: list[float] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def round_() -> int:
        calls.append(loop.time())
        if len(calls) <= 5:
            raise ConnectionRefusedError("the database is down")
        if len(calls) == 9:
            stop.set()
        return 0  # the database is back: nothing to claim, polled at the usual pace

    await asyncio.wait_for(poll(round_, stop, every=0.1, logger=logging.getLogger("test.queue"), what="test"), 30)
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    # 0.1 after the first failure, then 0.2, 0.4, 0.8, 1.6: at least that (a busy machine only adds)
    assert all(round(gap, 2) >= wanted for gap, wanted in zip(gaps[:5], (0.1, 0.2, 0.4, 0.8, 1.6), strict=True)), gaps
    # back to the usual pace once a round works: far shorter than the last failing pause
    assert max(gaps[5:]) < 1.6, gaps
