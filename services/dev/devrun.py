"""``make run``: database, migrations, demo data, the three services and their workers, until Ctrl-C.

``make run REPLICAS=2`` (``MOTCUA_REPLICAS``): two of each API (ports 8001/8101, 8002/8102, 8003/8103)
and two of each worker, the gateway spreading over them (services.dev.processes, docs/operations/replicas.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from services.core.config import get_settings
from services.core.embedded_pg import REPO_ROOT, EmbeddedPostgres
from services.core.replicas import replica_urls
from services.dev import oidc_provider
from services.dev.fake_portal import SYNC_PATH as FAKE_PORTAL_PATH
from services.dev.processes import (
    SERVICES,
    ManagedProcess,
    gateway_process,
    replica_apis,
    replica_ports,
    replicas_from_env,
    service_env,
    worker_process,
)


def _ports(service: str, default: int, replicas: int) -> list[int]:
    """The replicas' ports: those of MOTCUA_<SERVICE>_URL when it lists several, else its port (so one machine
    can run two stacks) and the next ones 100 apart."""
    url = os.environ.get(f"MOTCUA_{service.upper()}_URL")
    listed = replica_urls(url) if url else ()
    if len(listed) > 1:
        return [urlsplit(one).port or default for one in listed]
    return replica_ports(urlsplit(listed[0]).port or default if listed else default, replicas)


def main() -> None:
    os.environ.setdefault("MOTCUA_DEMO", "1")
    if os.environ["MOTCUA_DEMO"].lower() in {"1", "true", "yes"}:
        os.environ.setdefault("MOTCUA_WEBHOOK_ALLOW_LOOPBACK", "1")  # demo receivers on this machine
    server = EmbeddedPostgres.from_env()
    started_db = False
    if not os.environ.get("MOTCUA_DATABASE_URL"):
        started_db = server.start()
        print(f"embedded PostgreSQL: {server.url().replace('+asyncpg', '')} (data in {server.data_dir})", flush=True)
    python = sys.executable
    subprocess.run([python, "-m", "alembic", "upgrade", "head"], cwd=REPO_ROOT, check=True)
    if os.environ.get("MOTCUA_DEMO", "").lower() in {"1", "true", "yes"}:
        subprocess.run([python, "-m", "services.demo.seed"], cwd=REPO_ROOT, check=True)
        if get_settings().catalogue.on_run:
            # the 5,670 procedures of the national catalogue, information only where no local workflow
            # exists (services/intake/national_import.py); idempotent, so every start re-runs it
            subprocess.run([python, "-m", "services.intake.national_import"], cwd=REPO_ROOT, check=True)
        if os.environ.get("MOTCUA_DEMO_HISTORY", "1") != "0":
            # a year of finished dossiers, so the leader's dashboard has figures (services/demo/history.py)
            subprocess.run([python, "-m", "services.demo.history"], cwd=REPO_ROOT, check=True)

    replicas = replicas_from_env()
    ports = {name: _ports(name, default, replicas) for name, (_, default) in SERVICES.items()}
    demo = os.environ.get("MOTCUA_DEMO", "").lower() in {"1", "true", "yes"}
    # the demo's national portal: a fake one (services/dev/fake_portal.py) unless a URL is configured
    fake_portal = demo and not os.environ.get("MOTCUA_NATIONAL_PORTAL_URL")
    portal_port = int(os.environ.get("MOTCUA_FAKE_PORTAL_PORT", "8091"))
    if fake_portal:
        os.environ["MOTCUA_NATIONAL_PORTAL_URL"] = f"http://127.0.0.1:{portal_port}{FAKE_PORTAL_PATH}"
    env = service_env(ports=ports)
    gateway_port = int(os.environ.get("MOTCUA_GATEWAY_PORT", "8080"))
    # citizens' sign-in: in demo mode, unless a real provider is configured, the local one (demo only)
    demo_oidc = env.get("MOTCUA_DEMO", "").lower() in {"1", "true", "yes"} and not env.get("MOTCUA_CITIZEN_OIDC_ISSUER")
    if demo_oidc:
        public = env.get("MOTCUA_PUBLIC_URL", f"http://127.0.0.1:{gateway_port}").rstrip("/")
        oidc_port = int(env.get("MOTCUA_DEMO_OIDC_PORT", "8090"))
        oidc_provider.demo_environment(env, port=oidc_port, redirect_uri=f"{public}/intake/api/v1/citizen/callback")
    log_dir = Path(os.environ.get("MOTCUA_LOG_DIR", str(REPO_ROOT / ".data" / "logs")))
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[ManagedProcess] = []
    stopping = False

    def stop_all(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nstopping…", flush=True)
        for process in reversed(processes):
            process.stop()
        if started_db:
            server.stop()
            print("embedded PostgreSQL stopped", flush=True)

    def on_sigterm(*_: object) -> None:
        stop_all()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    # Ctrl-C stops everything even when this process was started with SIGINT ignored (a background job of a
    # non-interactive shell, as CI's loop runs): Python then never raises KeyboardInterrupt, and the stack
    # ran on with nobody to stop it
    signal.signal(signal.SIGINT, on_sigterm)
    try:
        if not os.environ.get("MOTCUA_SMTP_HOST"):
            # a local mail sink so the demo's emails are delivered somewhere (and never printed)
            smtp = f"127.0.0.1:{os.environ.get('MOTCUA_SMTP_PORT', '8025')}"
            sink = [python, "-m", "aiosmtpd", "-n", "-l", smtp, "-c", "aiosmtpd.handlers.Sink"]
            sink_process = ManagedProcess(name="smtp_sink", args=sink, env=env, log_path=log_dir / "smtp.log")
            processes.append(sink_process.start())
        if demo_oidc:
            processes.append(oidc_provider.demo_process(env, log_dir=log_dir).start())
        if fake_portal:
            portal = ManagedProcess(
                name="fake_portal",
                args=[python, "-m", "services.dev.fake_portal", "--port", str(portal_port)],
                env=env,
                log_path=log_dir / "fake_portal.log",
                health_url=f"http://127.0.0.1:{portal_port}/healthz",
            )
            processes.append(portal.start())
        for name, service_ports in ports.items():
            processes += [api.start() for api in replica_apis(name, ports=service_ports, env=env, log_dir=log_dir)]
            for n in range(1, replicas + 1):
                suffix = f"-{n}" if replicas > 1 else ""
                processes.append(worker_process(name, env=env, log_dir=log_dir, suffix=suffix).start())
        processes.append(gateway_process(port=gateway_port, env=env, log_dir=log_dir).start())
        for process in processes:
            # generous: a dozen Python processes importing at once on a small, busy machine took over 30 s
            process.wait_healthy(timeout=120)
        print("\nMột Cửa is running:", flush=True)
        print(f"  {'web (SPA)':13} http://127.0.0.1:{gateway_port}", flush=True)
        for name, service_ports in ports.items():
            for port in service_ports:
                print(f"  {name + '_api':13} http://127.0.0.1:{port}  (docs: http://127.0.0.1:{port}/docs)", flush=True)
        if replicas > 1:
            print(f"  replicas      {replicas} of each API and each worker, round robin behind the gateway", flush=True)
        if demo_oidc:
            issuer = env["MOTCUA_CITIZEN_OIDC_ISSUER"]
            print(f"  citizen IdP   {issuer}  (the demo's OIDC provider, not VNeID; password: demo)", flush=True)
        if fake_portal:
            print(f"  {'DVCQG (fake)':13} http://127.0.0.1:{portal_port}/dvcqg/hoso/<MaHoSo>", flush=True)
        print(f"  logs          {log_dir}", flush=True)
        print("Demo accounts (password: demo): see README.md — admin, tiepnhan, chuyenvien, lanhdao, …", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            for process in processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"{process.name} exited ({process.process.returncode}); see {process.log_path}", flush=True)
                    raise SystemExit(1)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


if __name__ == "__main__":
    main()
