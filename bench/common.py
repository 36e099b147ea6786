"""What every benchmark shares: a fresh, migrated database of its own, the quick mode, the targets
with their same-run baselines, and the results file of the run.

- ``BENCH_QUICK=1`` (``make bench-quick``, run by CI): every benchmark runs a few seconds on small
  data and no target is enforced — it proves the benchmarks still run, not how fast.
- A :class:`Target` is a figure with its goal: a ratio against a baseline measured in the same run
  (the machine is noisy; absolute figures from another day mean little), or a bound.
- :func:`record` adds a benchmark's figures to ``bench/results/<run>.json`` (one file per run of
  ``make bench``; quick runs go to ``bench/results/quick/``, not kept in git), so a regression shows
  as a diff between two files.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.core.embedded_pg import EmbeddedPostgres
from tests.db import migrate, recreate_database

QUICK = os.environ.get("BENCH_QUICK") == "1"
RESULTS = Path(__file__).resolve().parent / "results"
_RUN = os.environ.setdefault("BENCH_RUN", datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"))


def run_on_fresh_database(name: str, measure: Callable[[str], Coroutine[Any, Any, None]]) -> int:
    """Recreate and migrate database ``name`` (on the embedded server unless MOTCUA_DATABASE_URL),
    run ``measure(url)``, and stop the embedded server if this call started it."""
    server = EmbeddedPostgres.from_env()
    base_url = os.environ.get("MOTCUA_DATABASE_URL")
    started_db = False
    if not base_url:
        started_db = server.start()
        base_url = server.url()
    url = recreate_database(base_url, name)
    migrate(url)
    try:
        asyncio.run(measure(url))
    finally:
        if started_db:
            server.stop()
    return 0


def run_benchmark(database: str, measure: Callable[[str], Coroutine[Any, Any, bool]]) -> int:
    """``main()`` of a benchmark: ``measure(url)`` on a fresh database ``database``, returning whether a target
    was missed; the exit status (1 on a miss)."""
    missed: list[bool] = []

    async def run(url: str) -> None:
        missed.append(await measure(url))

    run_on_fresh_database(database, run)
    return 1 if any(missed) else 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MiB (Linux: ``VmRSS`` of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """CPU time (user + system) process ``pid`` has used so far, from ``/proc`` (Linux); with its children that
    ended and were waited for (a postmaster's short-lived backends), when asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """``cpu_seconds`` of ``pid`` (with its ended children) and of every live descendant."""
    tree = process_tree(pid)
    return cpu_seconds(pid, with_reaped_children=True) + sum(_if_alive(child) for child in tree[1:])


def _if_alive(pid: int) -> float:
    """``cpu_seconds`` of a descendant, 0 if it ended since the tree was listed (a backend whose client closed its
    connection meanwhile: its time is its parent's reaped children's from then on)."""
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def postmaster_pid(data_directory: str) -> int | None:
    """The PostgreSQL server's process id from its data directory (``postmaster.pid``), when it runs here."""
    try:
        return int(Path(data_directory, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # elsewhere (DATABASE_URL), or not readable


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux: /proc/<pid>/task/*/children), e.g. uvicorn's workers."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found += process_tree(int(child))
    return found


@dataclass(frozen=True)
class Target:
    """One figure and its goal: ``value ≥ at_least_ratio × baseline``, ``value ≤ at_most`` or ``value ≥ at_least``."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    at_least_ratio: float | None = None
    at_most: float | None = None
    at_least: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def goal(self) -> str:
        if self.at_least_ratio is not None:
            needed = self.at_least_ratio * (self.baseline or 0)
            return f"≥ {self.at_least_ratio:g}× baseline ({needed:,.0f} {self.unit})"
        if self.at_most is not None:
            return f"≤ {self.at_most:g} {self.unit}"
        return f"≥ {self.at_least:g} {self.unit}"

    @property
    def met(self) -> bool:
        if self.at_least_ratio is not None:
            return self.ratio is not None and self.ratio >= self.at_least_ratio
        if self.at_most is not None:
            return self.value <= self.at_most
        return self.at_least is None or self.value >= self.at_least

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio, "goal": self.goal, "met": self.met}


def report(title: str, targets: list[Target]) -> bool:
    """Print the targets; whether one is missed (never in quick mode: nothing is enforced there)."""
    print(f"\n{title} targets{' (quick run: not enforced)' if QUICK else ''}")
    print(f"  {'target':46} {'measured':>14} {'baseline':>12} {'ratio':>7}  {'goal':34} met")
    for t in targets:
        baseline = f"{t.baseline:,.0f}" if t.baseline is not None else "—"
        ratio = f"{t.ratio:.2f}×" if t.ratio is not None else "—"
        met = "yes" if t.met else "NO"
        print(f"  {t.name:46} {t.value:>9,.1f} {t.unit:4} {baseline:>12} {ratio:>7}  {t.goal:34} {met}")
    return not QUICK and not all(t.met for t in targets)


def _machine() -> dict[str, object]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    git = shutil.which("git") or "git"
    commit = subprocess.run([git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "commit": commit.stdout.strip() or None,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.as_dict() if isinstance(value, Target) else value


def record(benchmark: str, **figures: Any) -> Path:
    """Add ``figures`` under ``benchmark`` to this run's results file; its path."""
    folder = RESULTS / "quick" if QUICK else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_RUN}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"run": _RUN, "quick": QUICK}
    data.setdefault("machine", _machine())
    data[benchmark] = {key: _plain(value) for key, value in figures.items()}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
