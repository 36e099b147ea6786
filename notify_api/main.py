"""notify_api: templates, channels (email, SMS, in-app), delivery with retries, outbound webhooks."""

from __future__ import annotations

from fastapi import FastAPI

from notify_api.routers import notifications
from services.core.app import create_service_app
from services.core.config import Settings
from services.notification.inapp import notify_complaint_received
from services.outbox.receiver import events_router

SERVICE = "notify"


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name=SERVICE,
        title="Một Cửa — notify API",
        description="Thông báo: notifications to citizens and staff, their delivery status.",
        routers=[
            notifications.router,
            events_router(SERVICE, handlers={"complaint.received": notify_complaint_received}),
        ],
        settings=settings,
    )
