"""The whole stack as real processes for the event and pipeline benchmarks: the three APIs (uvicorn)
and their three workers, on a benchmark's own database, as ``make run`` and tests/e2e start them.

The processes start together and are waited for together (on two busy cores a sequential start costs
seconds a benchmark's quick mode cannot spare). Logs go to a temporary folder, printed on failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bench.common import cpu_seconds, free_port
from services.dev.processes import ManagedProcess, api_process, service_env, worker_process

SERVICES = ("intake", "workflow", "notify")


class Stack:
    def __init__(self, url: str, extra: Mapping[str, str], *, name: str) -> None:
        self.ports = {service: free_port() for service in SERVICES}
        self.env = service_env(os.environ, ports=self.ports)
        self.env.update({"MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO": "1", "MOTCUA_LOG_LEVEL": "WARNING", **extra})
        self.logs = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.apis: list[ManagedProcess] = []
        self.workers: list[ManagedProcess] = []

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start_apis(self, *, with_workers: bool = False) -> None:
        """The three APIs (and the workers too: they start while the APIs do), healthy when this returns."""
        self.apis = [api_process(s, port=self.ports[s], env=self.env, log_dir=self.logs).start() for s in SERVICES]
        if with_workers:
            self.start_workers()
        for api in self.apis:
            api.wait_healthy(timeout=90)

    def start_workers(self, **extra: str) -> None:
        """The three workers, with ``extra`` settings (e.g. ``MOTCUA_RELAY_LISTEN="0"`` for the polling baseline)."""
        env = {**self.env, **extra}
        suffix = f"-{len(self.workers) // len(SERVICES) + 1}"
        self.workers += [worker_process(s, env=env, log_dir=self.logs, suffix=suffix).start() for s in SERVICES]

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        for api in self.apis:
            api.stop()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each running process has used so far, from ``/proc`` (Linux)."""
        used: dict[str, float] = {}
        for process in [*self.apis, *self.workers]:
            if process.process is None or process.process.poll() is not None:
                continue
            used[process.name] = cpu_seconds(process.process.pid)
        return used
