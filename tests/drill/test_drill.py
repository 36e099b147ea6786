"""The drill's short form in every CI run (``make drill`` is the full one): a primary and a synchronous
standby, the whole stack under a small mixed load, then intake_api and the notify worker killed -9 and
restarted, PostgreSQL restarted, and the primary killed -9 and the standby promoted. Nothing acknowledged
is lost, nothing is there twice, every event and message went through, and every fault healed by itself
(``/readyz`` a 503 problem while the database was down)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from drill.run import SHORT, drill
from drill.verify import table
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


async def test_faults_under_load_lose_nothing() -> None:
    # not pytest's tmp_path: its folders are root's alone, and the servers run as their own user (as root)
    root = Path(tempfile.mkdtemp(prefix="drill-pg-"))
    try:
        outcome, _ = await drill(SHORT, root=root, log=lambda _line: None)
    finally:
        logs = ARTIFACTS / "drill-logs" / "short"
        shutil.rmtree(logs, ignore_errors=True)
        shutil.copytree(root / "logs", logs, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
    (ARTIFACTS / "drill-short.md").write_text(table(outcome, "Drill (short form)"), encoding="utf-8")
    assert outcome.acknowledged > 0
    assert outcome.failures == [], table(outcome, "Drill (short form)")
    restart = next(fault for fault in outcome.faults if fault["fault"] == "PostgreSQL restart")
    assert set(restart["notes"]["readyz_while_down"]) == {"503 problem"}
