"""End-to-end: the services as real uvicorn processes (and their workers) on the test database."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.core.embedded_pg import REPO_ROOT
from services.dev.processes import ManagedProcess, api_process, service_env, worker_process
from tests.db import TEST_DATABASE, create_test_admin, migrate, recreate_database
from tests.notify.fakes import free_port

ARTIFACTS = REPO_ROOT / "test-artifacts"


class Stack:
    """Starts and stops processes for one test; everything still running is stopped at the end."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.log_dir = log_dir
        # free ports picked per test, never fixed ones: another checkout's tests on the same machine
        # may hold those, and a health check answered by its process would test the wrong stack
        self.ports = {service: free_port() for service in ("intake", "workflow", "notify")}
        self.env = service_env(os.environ, ports=self.ports)
        self.env.update(
            {
                "MOTCUA_DATABASE_URL": database_url,
                "MOTCUA_DEMO": "1",
                "MOTCUA_RELAY_BACKOFF_BASE_SECONDS": "0.2",
                "MOTCUA_RELAY_BACKOFF_MAX_SECONDS": "1.0",
                "MOTCUA_RELAY_POLL_SECONDS": "0.1",
                "MOTCUA_RELAY_LEASE_SECONDS": "5",
                "MOTCUA_RELAY_BATCH_SIZE": "5",
                "MOTCUA_RELAY_MAX_ATTEMPTS": "100",
                # test_outbox_delivery sends 33 complaints from 127.0.0.1 in a minute (the default is 10 an hour)
                "MOTCUA_PUBLIC_COMPLAINTS_PER_WINDOW": "1000",
            }
        )
        self.processes: list[ManagedProcess] = []
        self.workers = 0

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def api(self, service: str) -> ManagedProcess:
        process = api_process(service, port=self.ports[service], env=self.env, log_dir=self.log_dir).start()
        self.processes.append(process)
        process.wait_healthy(timeout=60)
        return process

    def worker(self, service: str) -> ManagedProcess:
        self.workers += 1
        process = worker_process(service, env=self.env, log_dir=self.log_dir, suffix=f"-{self.workers}").start()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("*.log")))


@pytest.fixture
def e2e_database_url(database_url: str) -> str:
    """A fresh, migrated database per end-to-end test: no backlog of other tests' events or rows."""
    url = recreate_database(database_url, f"{TEST_DATABASE}_e2e")
    migrate(url)
    create_test_admin(url)
    return url


@pytest.fixture
async def engine(e2e_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The end-to-end tests' own engine, on their own database (overrides the suite-wide one)."""
    engine = create_async_engine(e2e_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def stack(e2e_database_url: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    log_dir = ARTIFACTS / "e2e-logs" / request.node.name
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    running = Stack(e2e_database_url, log_dir)
    try:
        yield running
    finally:
        running.stop()


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
