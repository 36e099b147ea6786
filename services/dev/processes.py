"""Starting the services as real processes: used by ``make run`` and by the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.core.embedded_pg import REPO_ROOT

SERVICES: dict[str, tuple[str, int]] = {
    "intake": ("intake_api.main:create_app", 8001),
    "workflow": ("workflow_api.main:create_app", 8002),
    "notify": ("notify_api.main:create_app", 8003),
}
WORKERS: dict[str, str] = {
    "intake": "intake_api.worker",
    "workflow": "workflow_api.worker",
    "notify": "notify_api.worker",
}


@dataclass
class ManagedProcess:
    name: str
    args: list[str]
    env: Mapping[str, str]
    log_path: Path | None = None
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> ManagedProcess:
        out = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.args, env=dict(self.env), cwd=REPO_ROOT, stdout=out or None, stderr=subprocess.STDOUT if out else None
        )
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        if self.health_url is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.health_url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not become healthy at {self.health_url}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL when it does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the process dies mid-flight, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def service_env(
    base: Mapping[str, str] | None = None, *, host: str = "127.0.0.1", ports: Mapping[str, int]
) -> dict[str, str]:
    env = dict(base if base is not None else os.environ)
    env["MOTCUA_INTAKE_URL"] = f"http://{host}:{ports['intake']}"
    env["MOTCUA_WORKFLOW_URL"] = f"http://{host}:{ports['workflow']}"
    env["MOTCUA_NOTIFY_URL"] = f"http://{host}:{ports['notify']}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def api_process(
    service: str,
    *,
    port: int,
    env: Mapping[str, str],
    log_dir: Path | None,
    host: str = "127.0.0.1",
    workers: int = 1,
) -> ManagedProcess:
    """One API as uvicorn; ``workers`` > 1 runs that many processes on the one port (uvicorn's supervisor),
    as replicas would behind a load balancer."""
    target, _ = SERVICES[service]
    return ManagedProcess(
        name=f"{service}_api",
        args=[
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            target,
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
            "--no-proxy-headers",  # services.core.net resolves X-Forwarded-For from trusted proxies only
            *(["--workers", str(workers)] if workers > 1 else []),
        ],
        env=env,
        log_path=log_dir / f"{service}_api.log" if log_dir else None,
        health_url=f"http://{host}:{port}/healthz",
    )


def worker_process(service: str, *, env: Mapping[str, str], log_dir: Path | None, suffix: str = "") -> ManagedProcess:
    return ManagedProcess(
        name=f"{service}_worker{suffix}",
        args=[sys.executable, "-m", WORKERS[service]],
        env=env,
        log_path=log_dir / f"{service}_worker{suffix}.log" if log_dir else None,
    )


def gateway_process(
    *, port: int, env: Mapping[str, str], log_dir: Path | None, dist: Path | None = None, host: str = "127.0.0.1"
) -> ManagedProcess:
    """The gateway (services/dev/gateway.py): the built SPA and the three APIs behind one URL."""
    gateway_env = dict(env)
    gateway_env["MOTCUA_GATEWAY_PORT"] = str(port)
    gateway_env["MOTCUA_GATEWAY_HOST"] = host
    if dist is not None:
        gateway_env["MOTCUA_SPA_DIST"] = str(dist)
    return ManagedProcess(
        name="gateway",
        args=[sys.executable, "-m", "services.dev.gateway"],
        env=gateway_env,
        log_path=log_dir / "gateway.log" if log_dir else None,
        health_url=f"http://{host}:{port}/healthz",
    )
