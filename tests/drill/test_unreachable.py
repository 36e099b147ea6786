"""A database that cannot be reached is a 503 problem on every route, never a 500: a real intake_api process
whose database URL points at a port nobody listens on (the server down, restarting or failing over)."""

from __future__ import annotations

import os

import httpx
import pytest

from services.dev.processes import api_process, service_env
from tests.e2e.conftest import ARTIFACTS
from tests.notify.fakes import free_port

pytestmark = pytest.mark.e2e


def test_a_refused_connection_is_a_503_problem_on_a_route_and_on_readyz() -> None:
    port = free_port()
    env = service_env(os.environ, ports={"intake": port, "workflow": free_port(), "notify": free_port()})
    env.update({"MOTCUA_DEMO": "1", "MOTCUA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"})
    logs = ARTIFACTS / "drill-logs" / "unreachable"
    logs.mkdir(parents=True, exist_ok=True)
    intake = api_process("intake", port=port, env=env, log_dir=logs).start()
    try:
        intake.wait_healthy(timeout=60)
        base = f"http://127.0.0.1:{port}"
        for path in ("/api/v1/procedures", "/readyz"):
            answer = httpx.get(base + path, timeout=30)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["code"] == "database_unavailable"
    finally:
        intake.stop()
