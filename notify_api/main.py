"""notify_api: templates, channels (email, SMS, in-app), delivery with retries, outbound webhooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from notify_api.routers import notifications, portal, subscriptions, templates, webhooks
from services.core.app import create_service_app
from services.core.config import Settings, get_settings
from services.core.db import transaction
from services.notification.events import event_handlers
from services.notification.outbound import ensure_postal_subscription
from services.notification.templates import ensure_default_templates
from services.outbox.receiver import events_router
from services.stats.operations import GAUGES

SERVICE = "notify"
logger = logging.getLogger("motcua.notify")


@asynccontextmanager
async def _seed(app: FastAPI) -> AsyncIterator[None]:
    """The built-in templates (where missing) and the postal operator's subscription, at every start."""
    async with transaction(app.state.sessionmaker) as session:
        seeded = await ensure_default_templates(session)
        await ensure_postal_subscription(session, app.state.settings)
    if seeded:
        logger.info("default notification templates seeded", extra={"count": seeded})
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    resolved = settings or get_settings()
    return create_service_app(
        name=SERVICE,
        title="Một Cửa — notify API",
        description="Thông báo: notifications to citizens and staff, their delivery status, outbound webhooks.",
        routers=[
            notifications.router,
            templates.router,
            webhooks.router,
            subscriptions.router,
            portal.router,
            events_router(SERVICE, handlers=event_handlers(resolved)),
        ],
        settings=resolved,
        extra_lifespan=_seed,
        gauges=GAUGES,
    )
