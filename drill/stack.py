"""The drill's stack: its own PostgreSQL pair (drill.cluster), the three APIs and three workers as real
processes (services.dev.processes, as ``make run`` and tests/e2e start them), and the message sinks
(bench.sinks: an SMTP server and an SMS gateway in a process of their own, counting what they receive).

Settings differ from the defaults only where a drill needs answers in seconds rather than minutes: short
leases (a killed worker's claims come back in 5 s), short backoffs, attempts enough that a database
outage of a minute parks nothing, the per-address limits lifted (every citizen here is 127.0.0.1).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.common import free_port
from bench.sinks import Sinks
from drill.providers import SECRETS
from services.dev.processes import ManagedProcess, api_process, service_env, worker_process

SERVICES = ("intake", "workflow", "notify")

DRILL_SETTINGS = {
    "MOTCUA_DEMO": "1",
    "MOTCUA_LOG_LEVEL": "WARNING",
    "MOTCUA_RELAY_BACKOFF_BASE_SECONDS": "0.2",
    "MOTCUA_RELAY_BACKOFF_MAX_SECONDS": "2",
    "MOTCUA_RELAY_LEASE_SECONDS": "5",
    "MOTCUA_RELAY_MAX_ATTEMPTS": "200",
    "MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS": "2",
    "MOTCUA_NOTIFY_LEASE_SECONDS": "5",
    "MOTCUA_NOTIFY_BACKOFF_BASE_SECONDS": "0.5",
    "MOTCUA_NOTIFY_BACKOFF_MAX_SECONDS": "5",
    "MOTCUA_NOTIFY_MAX_ATTEMPTS": "200",
    "MOTCUA_NOTIFY_EMAIL_PER_SECOND": "1000",
    "MOTCUA_NOTIFY_SMS_PER_SECOND": "1000",
    "MOTCUA_PUBLIC_SUBMISSIONS_PER_WINDOW": "1000000",
    "MOTCUA_PUBLIC_CITIZEN_WRITES_PER_WINDOW": "1000000",
    "MOTCUA_PUBLIC_TRACKING_PER_WINDOW": "1000000",
    "MOTCUA_POSTAL_WEBHOOK_SECRET": SECRETS["postal"],
    "MOTCUA_PAYMENT_WEBHOOK_SECRET": SECRETS["payment"],
    "MOTCUA_DB_POOL_TIMEOUT_SECONDS": "3",
}


class Stack:
    def __init__(self, database_url: str, *, name: str = "drill", log_dir: Path | None = None) -> None:
        self.ports = {service: free_port() for service in SERVICES}
        self.sinks = Sinks()
        self.env = service_env(os.environ, ports=self.ports)
        self.env.update(DRILL_SETTINGS)
        self.env["MOTCUA_DATABASE_URL"] = database_url
        self.logs = log_dir or Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.logs.mkdir(parents=True, exist_ok=True)
        self.apis: dict[str, ManagedProcess] = {}
        self.workers: dict[str, ManagedProcess] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self) -> None:
        self.sinks.start()
        self.env.update(
            {
                "MOTCUA_SMTP_HOST": "127.0.0.1",
                "MOTCUA_SMTP_PORT": str(self.sinks.smtp_port),
                "MOTCUA_SMS_GATEWAY_URL": self.sinks.url + "/sms",
            }
        )
        for service in SERVICES:
            self.apis[service] = api_process(service, port=self.ports[service], env=self.env, log_dir=self.logs)
            self.workers[service] = worker_process(service, env=self.env, log_dir=self.logs)
        for process in [*self.apis.values(), *self.workers.values()]:
            process.start()
        for api in self.apis.values():
            api.wait_healthy(timeout=120)

    def processes(self) -> list[ManagedProcess]:
        return [*self.apis.values(), *self.workers.values()]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()
        self.sinks.stop()
