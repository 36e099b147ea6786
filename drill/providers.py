"""The post and the payment provider as the drill plays them: their secrets and their signed events
(Standard Webhooks, as intake_api checks them; the same scheme as tests/intake/test_webhooks.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

SECRETS = {
    "postal": "whsec_" + base64.b64encode(b"drill-postal-operator-secret-001").decode(),
    "payment": "whsec_" + base64.b64encode(b"drill-payment-provider-secret-01").decode(),
}


def signed(source: str, event: dict[str, Any], webhook_id: str) -> tuple[str, bytes, dict[str, str]]:
    """Path, body and headers of one delivery of ``event``; a redelivery keeps ``webhook_id``, signed anew."""
    content = json.dumps(event, ensure_ascii=False).encode()
    sent_at = datetime.now(UTC)
    signature = Webhook(SECRETS[source]).sign(webhook_id, sent_at, content.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    return f"/api/v1/webhooks/{source}", content, headers


def postal_event(kind: str, code: str, occurred_at: datetime, tracking: str) -> dict[str, Any]:
    return {
        "type": kind,
        "data": {"dossier_code": code, "tracking_number": tracking, "occurred_at": occurred_at.isoformat()},
    }


def paid_event(reference: str, amount: int, paid_at: datetime) -> dict[str, Any]:
    return {
        "type": "payment.succeeded",
        "data": {"reference": reference, "amount_vnd": amount, "paid_at": paid_at.isoformat()},
    }
