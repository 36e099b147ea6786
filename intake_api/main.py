"""intake_api: catalogue, submissions, tracking, supplements, fees, webhooks, feedback."""

from __future__ import annotations

from fastapi import FastAPI

from intake_api.routers import (
    citizen_account,
    citizen_payments,
    complaints,
    desk,
    dossiers,
    forms,
    payments,
    procedures,
    signatures,
    tracking,
    webhooks,
)
from services.core.app import create_service_app
from services.core.config import Settings
from services.dossier.schemas import CounterSubmissionIn, SubmissionIn
from services.intake.citizen_filing import CitizenSubmissionIn
from services.intake.schemas import SecretIn, StaffUploadIn
from services.outbox.receiver import events_router
from services.stats.operations import GAUGES
from services.workflow.on_the_spot import OnTheSpotIn

SERVICE = "intake"


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name=SERVICE,
        title="Một Cửa — intake API",
        description="Tiếp nhận hồ sơ: procedure catalogue, online and counter submission, tracking, feedback.",
        # FastAPI tries the routes in this order: tracking, the hottest public path, first (issue 14)
        routers=[
            tracking.router,
            procedures.router,
            procedures.catalogue_router,
            dossiers.router,
            desk.router,
            forms.router,
            complaints.router,
            payments.router,
            citizen_payments.router,
            citizen_account.router,
            webhooks.router,
            signatures.router,
            events_router(SERVICE, handlers={}),
        ],
        downstream=("workflow", "notify"),
        settings=settings,
        gauges=GAUGES,
        schemas=(SubmissionIn, CounterSubmissionIn, OnTheSpotIn, SecretIn, StaffUploadIn, CitizenSubmissionIn),
    )
