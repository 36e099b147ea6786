"""Paying a fee online from the citizen portal.

- ``POST /api/v1/dossiers/{code}/payments/lookup`` (the secret in the body, never in the URL): the
  payments the desk asked of this dossier, with the reference the citizen pays against. Same proof and
  same rate limit as tracking.
- ``POST /api/v1/demo/payment-provider/{reference}`` (demo mode only; 404 otherwise): a stand-in for the
  payment provider's checkout (services.intake.checkout): a signed event through the same delivery path as
  ``POST /api/v1/webhooks/payment``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from intake_api.deps import CitizenDep
from services.core.deps import ClockDep, SessionDep, SettingsDep
from services.core.errors import problem_responses
from services.dossier.payments import PaymentOut
from services.intake import checkout
from services.intake.checkout import DemoCheckoutIn, DemoCheckoutOut
from services.intake.schemas import SecretIn

router = APIRouter(prefix="/api/v1", tags=["payments"])


@router.post("/dossiers/{code}/payments/lookup", responses=problem_responses(404, 422, 429))
async def citizen_payments(
    code: Annotated[str, Path(max_length=64)], body: SecretIn, citizen: CitizenDep
) -> list[PaymentOut]:
    """The payments asked of this dossier (oldest first), with their references, for the holder of the secret."""
    return await checkout.payments_of(citizen, code, body.secret)


@router.post(
    "/demo/payment-provider/{reference}",
    response_model=DemoCheckoutOut,
    responses=problem_responses(404, 409, 422, 503),
)
async def demo_provider(
    reference: Annotated[str, Path(min_length=1, max_length=200)],
    body: DemoCheckoutIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Demo mode only: the stand-in provider reports the payment as the real one would (a signed event)."""
    delivery = await checkout.demo_checkout(session, settings, reference, body, now=clock.now())
    return delivery.problem(request) or JSONResponse(
        DemoCheckoutOut(outcome=delivery.outcome, webhook_id=delivery.webhook_id).model_dump()
    )
