"""End-to-end: the services as real uvicorn processes (and their workers) on the test database.

Replicas: ``Stack(…, replicas=2)`` (or ``MOTCUA_E2E_REPLICAS=2`` for every test of the run) starts each
API as that many uvicorn processes on ports of their own and each ``worker()`` call as that many
workers; ``MOTCUA_<SERVICE>_URL`` lists the replicas, so the relays spread over them, and
``stack.url(service)`` is the first replica (``replica=`` picks another). tests/e2e/test_replicas.py
runs its own two-replica stack for the properties that only replicas can break.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.core.embedded_pg import REPO_ROOT
from services.dev.processes import ManagedProcess, replica_apis, service_env, worker_process
from tests.db import TEST_DATABASE, create_test_admin, migrate, recreate_database
from tests.notify.fakes import free_port

ARTIFACTS = REPO_ROOT / "test-artifacts"


class Group(list[ManagedProcess]):
    """The replicas of one API, or the workers of one ``worker()`` call: stopped or killed together."""

    def kill(self) -> None:
        for process in self:
            process.kill()

    def stop(self) -> None:
        for process in self:
            process.stop()


def replicas_from_env() -> int:
    return int(os.environ.get("MOTCUA_E2E_REPLICAS", "1") or 1)


class Stack:
    """Starts and stops processes for one test; everything still running is stopped at the end."""

    def __init__(self, database_url: str, log_dir: Path, *, replicas: int | None = None) -> None:
        self.log_dir = log_dir
        self.replicas = replicas or replicas_from_env()
        # free ports picked per test, never fixed ones: another checkout's tests on the same machine
        # may hold those, and a health check answered by its process would test the wrong stack
        self.replica_ports = {
            service: [free_port() for _ in range(self.replicas)] for service in ("intake", "workflow", "notify")
        }
        self.ports = {service: ports[0] for service, ports in self.replica_ports.items()}
        self.env = service_env(os.environ, ports=self.replica_ports)
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

    def url(self, service: str, replica: int = 0) -> str:
        return f"http://127.0.0.1:{self.replica_ports[service][replica]}"

    def urls(self, service: str) -> list[str]:
        return [self.url(service, n) for n in range(self.replicas)]

    def api(self, service: str) -> Group:
        """Every replica of the API, started and healthy."""
        group = Group(replica_apis(service, ports=self.replica_ports[service], env=self.env, log_dir=self.log_dir))
        for process in group:
            self.processes.append(process.start())
        for process in group:
            process.wait_healthy(timeout=60)
        return group

    def worker(self, service: str) -> Group:
        """One worker of the service per replica (started; workers have no health check)."""
        group = Group()
        for _ in range(self.replicas):
            self.workers += 1
            suffix = f"-{self.workers}"
            group.append(worker_process(service, env=self.env, log_dir=self.log_dir, suffix=suffix).start())
        self.processes += group
        return group

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
