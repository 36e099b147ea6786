"""deploy/observability: the Grafana dashboard and the Prometheus rules ask only for metrics the processes export,
the rules are valid and fire when they should (promtool, from Debian's prometheus: ``make promtool``), and every
alert's runbook is a section of docs/operations/observability.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

import intake_api.worker
import notify_api.worker
import workflow_api.worker
from services.core.embedded_pg import REPO_ROOT
from tests.apps import new_client
from tests.operations.conftest import SCRAPER

DEPLOY = REPO_ROOT / "deploy" / "observability"
RULES = DEPLOY / "prometheus" / "rules.yml"
DASHBOARD = DEPLOY / "grafana" / "motcua-operations.json"
DOC = REPO_ROOT / "docs" / "operations" / "observability.md"
_NAME = re.compile(r"\b(motcua_[a-z0-9_]+)\b")
_SUFFIXES = {"histogram": ("_bucket", "_count", "_sum")}  # a counter's TYPE line already names its _total
WORKERS = (intake_api.worker, workflow_api.worker, notify_api.worker)  # their counters are in the registry too


def exported(text: str) -> set[str]:
    """The sample names a scrape of ``text``'s families gives (``# TYPE`` lines: empty families included)."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE):
        names.update(name + suffix for suffix in _SUFFIXES.get(kind, ("",)))
    return names


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


@pytest.fixture
async def intake(intake_scraped: FastAPI, share: Callable[[FastAPI], FastAPI]) -> httpx.AsyncClient:
    return new_client(share(intake_scraped))


async def test_every_metric_of_the_dashboard_and_the_rules_is_exported(intake: httpx.AsyncClient) -> None:
    async with intake:
        answer = await intake.get("/metrics", headers=SCRAPER)
    assert answer.status_code == 200
    names = exported(answer.text)
    assert "motcua_outbox_oldest_pending_seconds" in names  # the database gauges' families, even when empty
    wanted = {
        name for expr in [*dashboard_exprs(), *(rule["expr"] for rule in rules())] for name in _NAME.findall(expr)
    }
    assert wanted, "no metric found in the dashboard and the rules: the parse is broken"
    assert sorted(wanted - names) == []


def test_the_dashboard_shows_each_concern_of_the_issue() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in panels)
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    text = " ".join(dashboard_exprs())
    for metric in (
        "motcua_http_request_duration_seconds_count", "motcua_http_request_duration_seconds_bucket",
        "motcua_db_pool_in_use", "motcua_db_pool_waiting", "motcua_outbox_pending",
        "motcua_outbox_oldest_pending_seconds", "motcua_outbox_parked", "motcua_notifications",
        "motcua_notification_sends_total", "motcua_webhook_deliveries_total", "motcua_dossiers_open",
        "motcua_dossiers_overdue", "motcua_dossiers_due_within_days",
    ):  # fmt: skip
        assert metric in text, metric


def test_every_alert_has_a_severity_and_a_runbook_section() -> None:
    doc = DOC.read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", doc, flags=re.MULTILINE)
    }
    alerts = rules()
    assert {rule["alert"] for rule in alerts} >= {
        "MotcuaOutboxStalled", "MotcuaOutboxParked", "MotcuaHighErrorRate", "MotcuaOverdueSurge",
        "MotcuaNotificationsFailed",
    }  # fmt: skip
    for rule in alerts:
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert {"summary", "description", "runbook_url"} <= rule["annotations"].keys(), rule["alert"]
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations/observability.md", rule["alert"]
        assert anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in anchors, f"no section {anchor!r} in {DOC.name}"


def test_promtool_finds_the_rules_valid_and_their_unit_tests_pass() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run `make promtool` (Debian's prometheus package; make test does it).")
    for command in (["check", "rules", "rules.yml"], ["test", "rules", "rules.test.yml"]):
        run = subprocess.run(
            [promtool, *command], cwd=RULES.parent, capture_output=True, text=True, timeout=60, check=False
        )
        assert run.returncode == 0, run.stdout + run.stderr
