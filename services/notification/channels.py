"""The channels behind one small interface: ``async def send(notification) -> ProviderResult``.

- email: SMTP (aiosmtplib), a few connections kept open and reused; ``Message-ID`` is
  ``<notification id@domain>``, the same on every attempt, so a re-send after a crash is
  recognisably the same message.
- SMS: an HTTP gateway (``MOTCUA_SMS_GATEWAY_URL``), ``POST {to, text, reference}`` with the
  notification id as ``reference``: a gateway that honours it sends one message however many
  times it is asked. 2xx is accepted; 409 means "already accepted under this reference" (sent);
  other 4xx answers (but 408, 425, 429) will not change by retrying; the rest is retried.
- in-app: storing is delivering.

Error texts are built here and scrubbed: a refused recipient's address never reaches
``last_error`` (shown by the API) or the logs.
"""

from __future__ import annotations

import asyncio
import email.utils
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
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


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    reference: str | None = None  # what the provider knows the message by
    error: str | None = None
    permanent: bool = False  # retrying cannot help
    delivered: bool = False  # the channel delivers on send (in-app)


def _error(text: str) -> str:
    return scrub_text(text)[:500]


class Channel(Protocol):
    name: str

    async def send(self, notification: Outgoing) -> ProviderResult: ...

    async def aclose(self) -> None: ...


class InAppChannel:
    name = "in_app"

    async def send(self, notification: Outgoing) -> ProviderResult:
        return ProviderResult(ok=True, reference=str(notification.id), delivered=True)

    async def aclose(self) -> None:
        return None


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = settings.notify_send_timeout_seconds
        _, address = email.utils.parseaddr(settings.smtp_from)
        self.envelope_from = address or "no-reply@motcua.local"
        self.domain = self.envelope_from.rpartition("@")[2] or "motcua.local"
        self._slots = asyncio.Semaphore(settings.smtp_connections)
        self._idle: list[aiosmtplib.SMTP] = []

    def message(self, notification: Outgoing) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = notification.recipient
        message["Subject"] = notification.subject or ""
        message["Message-ID"] = f"<{notification.id}@{self.domain}>"
        message["Date"] = email.utils.format_datetime(datetime.now(UTC))
        message["X-Motcua-Notification"] = str(notification.id)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(notification.body)
        return message

    async def _connect(self) -> aiosmtplib.SMTP:
        password = self.settings.smtp_password.get_secret_value() if self.settings.smtp_password else None
        client = aiosmtplib.SMTP(
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            timeout=self.timeout,
            start_tls=self.settings.smtp_starttls,
            username=self.settings.smtp_username,
            password=password,
        )
        await client.connect()
        return client

    async def send(self, notification: Outgoing) -> ProviderResult:
        try:
            message = self.message(notification)
        except (ValueError, TypeError) as exc:
            return ProviderResult(ok=False, error=_error(f"invalid message: {type(exc).__name__}"), permanent=True)
        reference = str(message["Message-ID"])
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            reused = client is not None
            try:
                for attempt in (1, 2):
                    try:
                        if client is None or not client.is_connected:
                            client = await self._connect()
                        await client.send_message(
                            message, sender=self.envelope_from, recipients=[notification.recipient]
                        )
                        break
                    except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                        # a kept-open connection the server has dropped meanwhile: once more on a new one
                        if not reused or attempt == 2:
                            raise
                        await _quietly_close(client)
                        client, reused = None, False
            except aiosmtplib.SMTPRecipientsRefused as exc:
                await _quietly_close(client)
                codes = sorted({refusal.code for refusal in exc.recipients})
                return ProviderResult(
                    ok=False, error=f"SMTP recipient refused ({codes})", permanent=all(c >= 500 for c in codes)
                )
            except aiosmtplib.SMTPResponseException as exc:
                await _quietly_close(client)
                return ProviderResult(
                    ok=False, error=_error(f"SMTP {exc.code}: {exc.message}"), permanent=500 <= exc.code < 600
                )
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await _quietly_close(client)
                return ProviderResult(ok=False, error=_error(f"{type(exc).__name__}: {exc}"))
            assert client is not None
            self._idle.append(client)
        return ProviderResult(ok=True, reference=reference)

    async def aclose(self) -> None:
        while self._idle:
            await _quietly_close(self._idle.pop())


async def _quietly_close(client: aiosmtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        if client.is_connected:
            await asyncio.wait_for(client.quit(), timeout=2)
    except Exception:
        client.close()


class SmsChannel:
    name = "sms"

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        if not settings.sms_gateway_url:
            raise ValueError("MOTCUA_SMS_GATEWAY_URL is not set")
        self.url = settings.sms_gateway_url
        self.timeout = settings.notify_send_timeout_seconds
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(self.timeout, connect=3.0))
        self._own_client = client is None

    async def send(self, notification: Outgoing) -> ProviderResult:
        reference = str(notification.id)
        try:
            response = await self.client.post(
                self.url,
                json={"to": notification.recipient, "text": notification.body, "reference": reference},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            return ProviderResult(ok=False, error=_error(f"{type(exc).__name__}: {exc}"))
        if response.is_success or response.status_code == 409:
            return ProviderResult(ok=True, reference=reference)
        status = response.status_code
        permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
        return ProviderResult(ok=False, error=_error(f"HTTP {status}: {response.text[:200]}"), permanent=permanent)

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
