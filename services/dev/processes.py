"""Starting the services as real processes: used by ``make run`` and by the end-to-end tests.

Replicas (``make run REPLICAS=2``, ``MOTCUA_REPLICAS``): each replica of an API is a uvicorn process of
its own on its own port — the first on the service's port, the next ones :data:`REPLICA_PORT_STEP`
above (8001, 8101, 8201 for intake) — and ``MOTCUA_<SERVICE>_URL`` lists them all, comma-separated:
the gateway and the relays spread their requests over them (services.core.replicas). Not uvicorn's
``--workers`` on one shared port: that puts the kernel in charge of the spreading, hides which replica
answered and cannot stop one replica alone, which the cross-replica tests and the drills need.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.core.embedded_pg import REPO_ROOT

SERVICES: dict[str, tuple[str, int]] = {
    "intake": ("intake_api.main:create_app", 8001),
    "workflow": ("workflow_api.main:create_app", 8002),
    "notify": ("notify_api.main:create_app", 8003),
}
REPLICA_PORT_STEP = 100  # replica n of a service listens on its port + n * 100 (8001, 8101…; 8080 stays free)
MAX_REPLICAS = 8
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


def replicas_from_env(env: Mapping[str, str] = os.environ, default: int = 1) -> int:
    """``MOTCUA_REPLICAS``: how many of each API and each worker (dev tooling only; 1 to :data:`MAX_REPLICAS`)."""
    raw = env.get("MOTCUA_REPLICAS", "").strip()
    count = int(raw) if raw else default
    if not 1 <= count <= MAX_REPLICAS:
        raise ValueError(f"MOTCUA_REPLICAS must be between 1 and {MAX_REPLICAS}, not {count}")
    return count


def replica_ports(first: int, replicas: int) -> list[int]:
    """The ports of a service's replicas when the first listens on ``first``."""
    return [first + n * REPLICA_PORT_STEP for n in range(replicas)]


def service_env(
    base: Mapping[str, str] | None = None, *, host: str = "127.0.0.1", ports: Mapping[str, int | Sequence[int]]
) -> dict[str, str]:
    """The environment of every process: ``MOTCUA_<SERVICE>_URL`` from each service's port, or its replicas'
    ports (comma-separated URLs)."""
    env = dict(base if base is not None else os.environ)
    for service in ("intake", "workflow", "notify"):
        given = ports[service]
        listed = [given] if isinstance(given, int) else list(given)
        env[f"MOTCUA_{service.upper()}_URL"] = ",".join(f"http://{host}:{port}" for port in listed)
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
    suffix: str = "",
) -> ManagedProcess:
    """One API as uvicorn; ``workers`` > 1 runs that many processes on the one port (uvicorn's supervisor,
    the HTTP benchmark's choice); ``suffix`` names a replica (``-2``: its own log file)."""
    target, _ = SERVICES[service]
    return ManagedProcess(
        name=f"{service}_api{suffix}",
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
        log_path=log_dir / f"{service}_api{suffix}.log" if log_dir else None,
        health_url=f"http://{host}:{port}/healthz",
    )


def replica_apis(
    service: str, *, ports: Sequence[int], env: Mapping[str, str], log_dir: Path | None, host: str = "127.0.0.1"
) -> list[ManagedProcess]:
    """A process per replica of one API (not started), named ``<service>_api-<n>`` when there are several."""
    several = len(ports) > 1
    return [
        api_process(service, port=port, env=env, log_dir=log_dir, host=host, suffix=f"-{n}" if several else "")
        for n, port in enumerate(ports, start=1)
    ]


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
