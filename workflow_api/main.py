"""workflow_api: sign-in, workflow templates, routing, inboxes, SLA timers, statistics."""

from __future__ import annotations

from fastapi import FastAPI

from services.core.app import create_service_app
from services.core.config import Settings
from services.outbox.admin import outbox_router
from services.outbox.receiver import events_router
from services.stats.operations import GAUGES
from services.workflow.events import on_dossier_received
from workflow_api.routers import auth, calendar, directory, dossiers, stats, tasks, templates

SERVICE = "workflow"
# the events workflow_api handles (services.dossier.record.WORKFLOW_EVENTS sends it these only)
HANDLERS = {"dossier.received": on_dossier_received}


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name=SERVICE,
        title="Một Cửa — workflow API",
        description="Xử lý hồ sơ: staff sign-in, routing, inboxes, time limits, process control sheet, statistics.",
        routers=[
            auth.router,
            calendar.router,
            directory.router,
            dossiers.router,
            stats.router,
            tasks.router,
            templates.router,
            outbox_router(),
            events_router(SERVICE, handlers=HANDLERS),
        ],
        downstream=("intake", "notify"),
        settings=settings,
        gauges=GAUGES,
    )
