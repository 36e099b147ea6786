"""Several events in one request (``POST /internal/v1/events/batch``): an outcome per event, each
recorded once, and an event whose handler fails rolled back alone (its retry will process it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import service_token
from services.core.config import Settings
from services.models import ProcessedEvent
from services.outbox.relay import EVENTS_BATCH_PATH
from tests.factories import create_agency, create_dossier, create_procedure_version


def _event(event_type: str, *, event_id: uuid.UUID | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": str(event_id or uuid.uuid4()),
        "type": event_type,
        "source": "intake",
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {},
        **fields,
    }


async def test_each_event_of_a_batch_has_its_own_outcome_and_a_failure_rolls_back_alone(
    workflow: httpx.AsyncClient, settings: Settings, session: AsyncSession
) -> None:
    dossier = await create_dossier(
        session, agency=await create_agency(session), version=await create_procedure_version(session)
    )
    ignored, repeated = uuid.uuid4(), uuid.uuid4()
    broken = _event("dossier.received", dossier_id=str(dossier.id), payload={"received_at": "not a time"})
    events = [
        _event("test.nobody_handles_this", event_id=ignored),
        broken,
        _event("test.nobody_handles_this", event_id=repeated),
        _event("test.nobody_handles_this", event_id=repeated),  # the same event twice in one batch
    ]
    headers = {"Authorization": f"Bearer {service_token(settings, 'intake')}"}

    answer = await workflow.post(EVENTS_BATCH_PATH, json={"events": events}, headers=headers)

    assert answer.status_code == 200, answer.text
    assert [(r["id"], r["outcome"]) for r in answer.json()["results"]] == [
        (str(ignored), "ignored"),
        (broken["id"], "failed"),
        (str(repeated), "ignored"),
        (str(repeated), "duplicate"),
    ]
    recorded = set(
        await session.scalars(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.consumer == "workflow",
                ProcessedEvent.event_id.in_([ignored, repeated, uuid.UUID(broken["id"])]),
            )
        )
    )
    assert recorded == {ignored, repeated}  # the failed one is not recorded: the relay's retry processes it


async def test_a_batch_needs_a_service_token_and_well_formed_events(
    workflow: httpx.AsyncClient, settings: Settings
) -> None:
    body = {"events": [_event("test.ping")]}
    assert (await workflow.post(EVENTS_BATCH_PATH, json=body)).status_code == 401
    headers = {"Authorization": f"Bearer {service_token(settings, 'intake')}"}
    assert (await workflow.post(EVENTS_BATCH_PATH, json={"events": []}, headers=headers)).status_code == 422
    unknown = {"events": [{**_event("test.ping"), "extra": 1}]}
    assert (await workflow.post(EVENTS_BATCH_PATH, json=unknown, headers=headers)).status_code == 422
