"""Tracing off (``MOTCUA_OTLP_ENDPOINT`` unset, the default) costs nothing beyond a no-op: the SDK and the exporter
are never imported, no span is current, and the rows that would carry a trace context carry none.
The traces themselves, across the real processes: tests/e2e/test_observability.py."""

from __future__ import annotations

import subprocess
import sys

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import tracing
from services.core.embedded_pg import REPO_ROOT
from services.models import OutboxEvent
from tests.intake.setup import Desk, submission


def test_without_an_endpoint_no_sdk_is_loaded_by_any_process() -> None:
    program = (
        "import sys, os\n"
        "os.environ.pop('MOTCUA_OTLP_ENDPOINT', None)\n"
        "import intake_api.main, workflow_api.main, notify_api.main\n"
        "import intake_api.worker, workflow_api.worker, notify_api.worker\n"
        "from services.core import tracing\n"
        "from services.core.config import Settings\n"
        "for create in (intake_api.main.create_app, workflow_api.main.create_app, notify_api.main.create_app):\n"
        "    create()\n"
        "tracing.configure('intake', Settings().observe.otlp_endpoint)\n"
        "sdk = ('opentelemetry.sdk', 'opentelemetry.exporter')\n"
        "print(tracing.enabled(), sorted(m for m in sys.modules if m.startswith(sdk)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False []"


async def test_a_submission_stores_no_trace_context_when_tracing_is_off(
    intake: httpx.AsyncClient, desk: Desk, session: AsyncSession
) -> None:
    assert not tracing.enabled()
    assert tracing.current() is None
    created = await intake.post("/api/v1/dossiers", json=submission(desk))
    assert created.status_code == 201, created.text
    contexts = (await session.scalars(select(OutboxEvent.trace_context).where(OutboxEvent.source == "intake"))).all()
    assert contexts
    assert set(contexts) == {None}
