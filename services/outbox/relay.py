"""The relay: claim due events, POST them to their destination, record the outcome.

The queue mechanics (claim with ``FOR UPDATE SKIP LOCKED`` and a lease, backoff with full jitter,
parking, the polling loop) are ``services.core.queue``, shared with the notification sender and
the webhook dispatcher; why not a queue library is written there. What is the relay's own: the
sources it serves, the claim order (``available_at, created_at``: oldest first), the POST with the
event id as ``Idempotency-Key`` and a service JWT, and which answers are worth retrying.

*Batches under load.* A round's events that go to the same service from the same source are sent
together, up to ``MOTCUA_RELAY_EVENTS_PER_POST`` per ``POST /internal/v1/events/batch`` (the receiver
records each in a transaction of its own and answers an outcome per event: services/outbox/receiver.py);
an event alone in its round still goes by itself to ``/internal/v1/events``, so at low load nothing
waits to fill a batch. A receiver that does not know the batch endpoint (404/405: an older version
during a rolling deploy) gets the events one by one. Measured in bench/bench_pipeline.py (see
bench/profiles/2026-12-05-events.md): with one POST per event, httpx's connection pool and the
receivers' per-request work were most of the CPU the relay and notify_api spent per dossier. The
round's outcomes are then recorded in one transaction.

Delivery is at least once: a claim is a lease (``available_at`` moved forward); a relay that
dies mid-flight leaves the lease to expire and another relay takes the event again. Receivers
deduplicate on the event id (``services.outbox.inbox.accept_once``), which is also why a late
success or a parking is recorded even when another relay holds the lease by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core import tracing
from services.core.auth import service_token
from services.core.config import Settings
from services.core.db import transaction
from services.core.listen import wakeup
from services.core.metrics import OUTBOX_DELIVERIES
from services.core.queue import Queue, backoff_seconds, poll, worker_name
from services.core.worker import Task

logger = logging.getLogger("motcua.relay")

EVENTS_PATH = "/internal/v1/events"
EVENTS_BATCH_PATH = EVENTS_PATH + "/batch"
MAX_EVENTS_PER_POST = 500  # what a receiver accepts in one batch (a guard: the setting is far lower)
_DELIVERED = frozenset({"processed", "duplicate", "ignored"})
# a receiver that answers these may succeed later; other 4xx answers will not change by retrying
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})

OUTBOX = Queue(
    table="outbox_event",
    waiting="pending",
    parked="parked",
    parked_at="parked_at",
    due="available_at",
    order_by="available_at, created_at",
    returning=(
        "id",
        "event_type",
        "source",
        "destination",
        "dossier_id",
        "payload",
        "created_at",
        "attempts",
        "trace_context",
    ),
    touch=False,
    settle_any_claim=True,  # a delivery is recorded whoever holds the lease now: receivers deduplicate
)
_OF_SOURCES = "CAST(:sources AS text[]) IS NULL OR source = ANY(CAST(:sources AS text[]))"


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    event_type: str
    source: str
    destination: str
    dossier_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    trace_context: str | None = None

    def envelope(self, traceparent: str | None = None) -> dict[str, Any]:
        envelope = {
            "id": str(self.id),
            "type": self.event_type,
            "source": self.source,
            "dossier_id": str(self.dossier_id) if self.dossier_id else None,
            "occurred_at": self.created_at.isoformat(),
            "payload": self.payload,
        }
        if traceparent is not None:  # tracing on: the relay's span, the receiver's parent
            envelope["traceparent"] = traceparent
        return envelope


@contextlib.contextmanager
def _relay_spans(events: Sequence[Claimed]) -> Iterator[dict[uuid.UUID, str | None]]:
    """A producer span per event for the time of its POST, each a child of the context stored with the event
    (services.core.tracing); their traceparents, which go in the envelopes. Nothing when tracing is off."""
    if not tracing.enabled():
        yield {}
        return
    spans = {
        event.id: tracing.start(
            f"relay {event.event_type}",
            parent=event.trace_context,
            kind=SpanKind.PRODUCER,
            attributes={"motcua.event.type": event.event_type, "motcua.event.destination": event.destination},
        )
        for event in events
    }
    try:
        yield {event_id: tracing.traceparent_of(span) for event_id, span in spans.items()}
    finally:
        for span in spans.values():
            if span is not None:
                span.end()


def _permanent(status: int) -> bool:
    """A 4xx that retrying cannot change (the event is parked at once)."""
    return 400 <= status < 500 and status not in _RETRYABLE_4XX


def _transport_error(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _http_error(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}: {response.text[:300]}"


@dataclass(frozen=True)
class Outcome:
    event: Claimed
    error: str | None = None  # None: delivered
    permanent: bool = False  # a refusal retrying cannot change: park at once


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        client: httpx.AsyncClient,
        sources: Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.client = client
        self.sources = list(sources) if sources else None
        self.name = name or worker_name()
        # each service's first URL: the worker's client spreads the requests over its replicas (services.core.replicas)
        self.urls: Mapping[str, str] = {service: settings.urls.base(service) for service in settings.urls.replicas()}

    async def _claim(self) -> list[Claimed]:
        async with self.sessionmaker() as session, session.begin():
            rows = await OUTBOX.claim(
                session,
                worker=self.name,
                lease=self.settings.relay.lease_seconds,
                limit=self.settings.relay.batch_size,
                where=_OF_SOURCES,
                sources=self.sources,
            )
        return [Claimed(**row) for row in rows]

    def _headers(self, source: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {service_token(self.settings, source)}"}

    async def _send(self, event: Claimed) -> Outcome:
        """POST one event; what came of it (nothing is written here: the round settles every outcome at once)."""
        url = self.urls[event.destination].rstrip("/") + EVENTS_PATH
        headers = {"Idempotency-Key": str(event.id), **self._headers(event.source)}
        try:
            with _relay_spans([event]) as traced:
                traceparent = traced.get(event.id)
                if traceparent is not None:  # the receiver's server span joins the event's trace too
                    headers["traceparent"] = traceparent
                response = await self.client.post(url, json=event.envelope(traceparent), headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(event, error=_transport_error(exc))
        if response.is_success:
            return Outcome(event)
        return Outcome(event, error=_http_error(response), permanent=_permanent(response.status_code))

    async def _send_batch(self, events: Sequence[Claimed]) -> list[Outcome]:
        """POST events bound for one service from one source together; an outcome per event."""
        if len(events) == 1:
            return [await self._send(events[0])]
        first = events[0]
        url = self.urls[first.destination].rstrip("/") + EVENTS_BATCH_PATH
        try:
            with _relay_spans(events) as traced:
                body = {"events": [event.envelope(traced.get(event.id)) for event in events]}
                response = await self.client.post(url, json=body, headers=self._headers(first.source))
        except httpx.HTTPError as exc:
            return [Outcome(event, error=_transport_error(exc)) for event in events]
        if response.status_code in (404, 405) or _permanent(response.status_code):
            # no batch endpoint there (an older receiver), or the batch as a whole was refused: one by one,
            # so each event gets its own verdict and one bad event never parks the others
            return list(await asyncio.gather(*(self._send(event) for event in events)))
        if not response.is_success:
            error = _http_error(response)
            return [Outcome(event, error=error) for event in events]
        try:
            answered = {item["id"]: item["outcome"] for item in response.json()["results"]}
        except (ValueError, KeyError, TypeError):
            return [Outcome(event, error="the receiver's answer to the batch was not understood") for event in events]
        outcomes: list[Outcome] = []
        for event in events:
            outcome = answered.get(str(event.id))
            if outcome in _DELIVERED:
                outcomes.append(Outcome(event))
            elif outcome == "refused":
                outcomes.append(Outcome(event, error="refused by the receiver", permanent=True))
            else:
                outcomes.append(Outcome(event, error=f"the receiver answered {outcome or 'nothing'} for it"))
        return outcomes

    async def _settle(self, outcomes: Sequence[Outcome]) -> None:
        """Record a round's outcomes in one transaction: delivered, parked, or retried after a backoff.

        One commit per round rather than one per event (measured in bench/bench_pipeline.py: the
        per-event commits were a third of the relay's time under load). A relay that dies before
        this commit leaves the whole round to its leases: delivered again, deduplicated by the
        receivers, as for any event whose outcome was never recorded.
        """
        delivered = [{"id": o.event.id} for o in outcomes if o.error is None]
        parked: list[dict[str, Any]] = []
        retried: list[dict[str, Any]] = []
        for o in outcomes:
            if o.error is None:
                continue
            if o.permanent or o.event.attempts >= self.settings.relay.max_attempts:
                parked.append({"id": o.event.id, "error": o.error})
            else:
                delay = backoff_seconds(
                    o.event.attempts,
                    base=self.settings.relay.backoff_base_seconds,
                    cap=self.settings.relay.backoff_max_seconds,
                )
                retried.append({"id": o.event.id, "delay": delay, "error": o.error})
        async with transaction(self.sessionmaker) as session:
            await OUTBOX.complete(
                session, self.name, delivered, sets="status = 'delivered', delivered_at = now(), last_error = NULL"
            )
            await OUTBOX.park(session, self.name, parked)
            await OUTBOX.retry(session, self.name, retried)
        parked_ids = {row["id"] for row in parked}
        delays = {row["id"]: row["delay"] for row in retried}
        for o in outcomes:
            extra: dict[str, Any] = {"event_id": str(o.event.id), "event_type": o.event.event_type}
            kind = "delivered" if o.error is None else "parked" if o.event.id in parked_ids else "retry"
            OUTBOX_DELIVERIES.labels(o.event.source, o.event.destination, kind).inc()
            if o.error is None:
                logger.info("event delivered", extra=extra)
            elif o.event.id in parked_ids:
                logger.error("event parked", extra={**extra, "error": o.error})
            else:
                extra.update(attempts=o.event.attempts, retry_in_s=round(delays[o.event.id], 2))
                logger.warning("event delivery failed, will retry", extra=extra)

    async def run_once(self) -> int:
        """Claim one batch, deliver it (grouped per destination and source, the groups concurrently), record the
        outcomes; how many events were claimed."""
        batch = await self._claim()
        if batch:
            size = self.settings.relay.events_per_post
            groups: dict[tuple[str, str], list[Claimed]] = {}
            for event in batch:  # oldest first within each group, as claimed
                groups.setdefault((event.destination, event.source), []).append(event)
            chunks = [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]
            sent = await asyncio.gather(*(self._send_batch(chunk) for chunk in chunks))
            await self._settle([outcome for outcomes in sent for outcome in outcomes])
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("relay started", extra={"relay": self.name, "sources": self.sources})
        wake = wakeup(
            self.settings,
            OUTBOX.table,
            keys=self.sources,
            enabled=self.settings.relay.listen,
            what="relay-" + "-".join(self.sources or ["all"]),
            logger=logger,
        )
        await poll(self.run_once, stop, every=self.settings.relay.poll_seconds, logger=logger, what="relay", wake=wake)
        logger.info("relay stopped", extra={"relay": self.name})


def relay_task(sources: Sequence[str]) -> Task:
    """The worker task: a relay for the events these services write."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:
        await Relay(sessionmaker, settings, client=client, sources=sources).run(stop)

    return task
