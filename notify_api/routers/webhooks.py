"""Signed webhooks into notify_api: delivery receipts from the SMS gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.core.deps import SessionDep, SettingsDep
from services.core.errors import problem_responses
from services.notification import receipts
from services.notification.schemas import ReceiptOut

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("/sms", responses=problem_responses(401, 503))
async def sms_receipt(request: Request, session: SessionDep, settings: SettingsDep) -> ReceiptOut:
    """A delivery receipt from the SMS gateway (Standard Webhooks); a repeated webhook-id changes nothing."""
    body = await request.body()
    return await receipts.receive(session, settings, body, request.headers)
