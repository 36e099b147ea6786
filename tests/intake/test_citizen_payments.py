"""The citizen's side of a fee: the open payment looked up with the secret, and the demo stand-in for
the payment provider, which reaches the dossier through the signed-webhook delivery path."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app
from services.core.config import Settings
from services.models import Dossier, WebhookReceipt
from tests.intake.setup import Desk, submission
from tests.intake.test_webhooks import add_fees


async def dossier_awaiting_payment(intake: httpx.AsyncClient, desk: Desk, bearer: Any) -> tuple[str, str]:
    created = await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    assert created.status_code == 201, created.text
    code, secret = created.json()["code"], created.json()["secret"]
    asked = await intake.post(
        f"/api/v1/dossiers/{code}/payments", json={"description": "Lệ phí đăng ký"}, headers=bearer(desk.officer)
    )
    assert asked.status_code == 201, asked.text
    return code, secret


async def test_the_citizen_sees_the_payment_and_the_demo_provider_settles_it(
    intake: httpx.AsyncClient, desk: Desk, session: AsyncSession, bearer: Any
) -> None:
    await add_fees(session, desk, 30_000)
    code, secret = await dossier_awaiting_payment(intake, desk, bearer)

    wrong = await intake.post(f"/api/v1/dossiers/{code}/payments/lookup", json={"secret": "WRONG-0000"})
    assert (wrong.status_code, wrong.json()["code"]) == (404, "dossier_not_found")
    looked = await intake.post(f"/api/v1/dossiers/{code}/payments/lookup", json={"secret": secret})
    assert looked.status_code == 200, looked.text
    [payment] = looked.json()
    assert (payment["amount_vnd"], payment["status"]) == (30_000, "requested")
    reference = payment["reference"]

    cancelled = await intake.post(
        f"/api/v1/demo/payment-provider/{reference}", json={"outcome": "failed", "amount_vnd": 30_000}
    )
    assert (cancelled.status_code, cancelled.json()["outcome"]) == (200, "applied")
    tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert tracked["status"] == "awaiting_payment"

    short = await intake.post(
        f"/api/v1/demo/payment-provider/{reference}", json={"outcome": "succeeded", "amount_vnd": 1}
    )
    assert (short.status_code, short.json()["code"]) == (422, "amount_mismatch")

    paid = await intake.post(
        f"/api/v1/demo/payment-provider/{reference}", json={"outcome": "succeeded", "amount_vnd": 30_000}
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["outcome"] == "applied"
    tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert tracked["status"] == "processing"
    assert tracked["history"][-1]["note"] == "Đã thực hiện nghĩa vụ tài chính"
    again = await intake.post(
        f"/api/v1/demo/payment-provider/{reference}", json={"outcome": "succeeded", "amount_vnd": 30_000}
    )
    assert again.json()["outcome"] == "already_paid"

    # every delivery went through the receipt log, as the provider's own would
    outcomes = (
        await session.scalars(
            select(WebhookReceipt.outcome)
            .where(WebhookReceipt.source == "payment", WebhookReceipt.webhook_id.like("msg_demo_%"))
            .where(WebhookReceipt.payload["data"]["reference"].astext == reference)
            .order_by(WebhookReceipt.received_at)
        )
    ).all()
    assert sorted(str(outcome) for outcome in outcomes) == ["already_paid", "applied", "applied", "rejected"]
    after = (await intake.post(f"/api/v1/dossiers/{code}/payments/lookup", json={"secret": secret})).json()
    assert after[0]["status"] == "paid"
    dossier = await session.scalar(
        select(Dossier).where(Dossier.code == code).execution_options(populate_existing=True)
    )
    assert dossier is not None
    assert dossier.paid_online


async def test_the_demo_provider_does_not_exist_outside_demo_mode(settings: Settings) -> None:
    production = {
        "demo": False, "clock_file": None, "auth": {"jwt_secret": SecretStr("a-production-secret-" + "x" * 32)},
        "webhooks": {"allow_loopback": False},
    }  # fmt: skip
    app = create_app(settings.with_changes(**production))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        body = {"outcome": "succeeded", "amount_vnd": 1}
        answer = await http.post("/api/v1/demo/payment-provider/MC-0000", json=body)
    assert answer.status_code == 404
