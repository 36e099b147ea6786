"""The channels behind one small interface: ``async def send(notification, handover) -> ProviderResult``.

- email: SMTP, ``services.notification.smtp`` (the handover, pipelining, the message's bytes).
- SMS: an HTTP gateway (``MOTCUA_SMS_GATEWAY_URL``), ``POST {to, text, reference}`` with the
  notification id as ``reference``: a gateway that honours it sends one message however many
  times it is asked. 2xx is accepted; 409 means "already accepted under this reference" (sent);
  other 4xx answers (but 408, 425, 429) will not change by retrying; the rest is retried.
- in-app: storing is delivering.

Error texts are built by ``provider_error`` and scrubbed: a refused recipient's address never reaches
``last_error`` (shown by the API) or the logs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import httpcore
import httpx

from services.core.config import Settings
from services.core.logging import scrub_text

_RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outgoing:
    """A claimed notification, as a channel needs it."""

    id: uuid.UUID
    channel: str
    recipient: str
    subject: str | None
    body: str
    attempts: int
    trace_context: str | None = None  # the event's handling (services.core.tracing): the send's parent


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    reference: str | None = None  # what the provider knows the message by
    error: str | None = None
    permanent: bool = False  # retrying cannot help
    delivered: bool = False  # the channel delivers on send (in-app)
    in_doubt: bool = False  # the provider may have it: the connection failed after the handover


def provider_error(text: str) -> str:
    return scrub_text(text)[:500]


# records that a message is with the provider but for its last bytes and, once that is committed, calls
# ``finish`` (which writes those bytes) at once, before anything else runs; False: the row is no longer ours
Handover = Callable[[Callable[[], None]], Awaitable[bool]]


class Channel(Protocol):
    name: str
    concurrency: int  # messages it sends at once (the sender runs as many coroutines per channel)

    async def send(self, notification: Outgoing, handover: Handover | None = None) -> ProviderResult: ...

    async def aclose(self) -> None: ...


class InAppChannel:
    name = "in_app"
    concurrency = 1  # storing is delivering: nothing to wait for

    async def send(self, notification: Outgoing, handover: Handover | None = None) -> ProviderResult:
        return ProviderResult(ok=True, reference=str(notification.id), delivered=True)

    async def aclose(self) -> None:
        return None


class SmsChannel:
    """POST {to, text, reference} to the gateway over httpcore's connection pool (the engine of httpx, which
    services.core.egress uses too): httpx's client around it — request and response models, cookies, redirects,
    auth — cost 0.09–0.14 ms of the sender's CPU an SMS, a sixth, and the gateway needs none of it
    (bench/profiles/2026-12-07-email.md). No proxy from the environment, no redirect followed: the gateway is
    reached at the configured URL or not at all."""

    name = "sms"

    def __init__(self, settings: Settings) -> None:
        if not settings.sms.gateway_url:
            raise ValueError("MOTCUA_SMS_GATEWAY_URL is not set")
        self.url = settings.sms.gateway_url
        self.timeout = settings.notify.send_timeout_seconds
        url = httpx.URL(self.url)
        self._host = url.netloc
        self._timeouts = {
            "timeout": {
                "connect": min(3.0, self.timeout),
                "read": self.timeout,
                "write": self.timeout,
                "pool": self.timeout,
            }
        }
        # a few requests at a time, each connection kept open: a pool's bookkeeping grows with the requests
        # waiting in it, so 50 at once (a whole batch) made 270 requests/s where 8 make 1,500/s (the same
        # gateway, bench/profiles/2026-12-05-notify.md)
        self.concurrency = settings.sms.connections
        self._pool = httpcore.AsyncConnectionPool(max_connections=settings.sms.connections, keepalive_expiry=30.0)

    async def send(self, notification: Outgoing, handover: Handover | None = None) -> ProviderResult:
        reference = str(notification.id)
        body = json.dumps({"to": notification.recipient, "text": notification.body, "reference": reference}).encode()
        headers = [
            (b"Host", self._host),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode("ascii")),
        ]
        try:
            response = await self._pool.request(
                "POST", self.url, headers=headers, content=body, extensions=self._timeouts
            )
        except (
            httpcore.TimeoutException,
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
        ) as exc:
            return ProviderResult(ok=False, error=provider_error(f"{type(exc).__name__}: {exc}"))
        status = response.status
        if 200 <= status < 300 or status == 409:
            return ProviderResult(ok=True, reference=reference)
        permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
        text = response.content[:200].decode("utf-8", "replace")
        return ProviderResult(ok=False, error=provider_error(f"HTTP {status}: {text}"), permanent=permanent)

    async def aclose(self) -> None:
        await self._pool.aclose()
