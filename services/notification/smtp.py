"""The email channel: SMTP through aiosmtplib, a few connections kept open and reused.

- ``Message-ID`` is ``<notification id@domain>``, the same on every attempt.
- **The handover.** With a ``handover`` (the sender gives one), the message goes to the server all but its
  final ``.`` line; then ``handover()`` records in the database that the message is with the server, and only
  then is the final line written. A server never keeps a message whose final line did not arrive, so a sender
  that dies before the record leaves nothing behind (the message is sent again), and one that dies after it
  left a message the server has, or is about to have (it is not sent again: see sender.py).
- **Pipelining.** To a server that offers PIPELINING, MAIL, RCPT and DATA are written together (two round trips
  fewer per message), and the next message's commands follow a message's final line before its answer: a
  ``_Pipe`` hands every answer to whoever wrote its command, in turn.
- **The bytes.** A message is written straight as bytes (``services.notification.mail``), not by
  ``email.generator``, whose flattening was half of what a straight aiosmtplib send costs
  (bench/profiles/2026-12-07-email.md).

Split from services/notification/channels.py (the interface, SMS and in-app), which it implements.
"""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import Callable, Iterable
from typing import Any

import aiosmtplib

from services.core.config import Settings
from services.notification.channels import Handover, Outgoing, ProviderResult, provider_error
from services.notification.mail import Composer


class HandoverRefused(Exception):
    """The sender's lease on the row lapsed before the message was complete: it is not completed."""


class HandedOverInDoubt(Exception):
    """The final line was written, then no clear answer came (connection lost): the server may have it."""


_LEADING_DOT = re.compile(rb"(?m)^\.")
_LONE_NEWLINE = re.compile(rb"\r\n|\r|\n")


_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


class _Pipe(asyncio.Protocol):
    """A connection's input once its commands are pipelined (RFC 2920): each answer goes to whoever wrote its
    command, in the order they were written — so the next message's commands may follow a message's final
    line before that line is answered. aiosmtplib's protocol keeps one answer per command awaited and drops
    whatever arrives while none is, so it cannot read the answers of commands written together. Installed
    with ``transport.set_protocol`` once, after EHLO, for the connection's life; a lost connection fails
    every waiter and is passed on to aiosmtplib's protocol, so the client knows it is disconnected."""

    def __init__(self, inner: aiosmtplib.protocol.SMTPProtocol, transport: asyncio.BaseTransport) -> None:
        self.inner = inner
        self.transport = transport
        self.buffer = bytearray()
        self.waiting: collections.deque[tuple[int, list[aiosmtplib.SMTPResponse], _Answered]] = collections.deque()
        self.lost: Exception | None = None

    def expect(self, count: int) -> _Answered:
        """The answers to the ``count`` commands just written, once all have come."""
        answered: _Answered = asyncio.get_running_loop().create_future()
        answered.add_done_callback(_retrieved)
        if self.lost is not None:
            answered.set_exception(self.lost)
        else:
            self.waiting.append((count, [], answered))
            self._hand_out()
        return answered

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._hand_out()
        except aiosmtplib.SMTPResponseException as exc:  # the answers cannot be told apart any more
            self._lose(exc)
            self.transport.close()

    def eof_received(self) -> bool:
        self._lose(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(aiosmtplib.SMTPServerDisconnected("Connection lost"))
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def _lose(self, exc: Exception) -> None:
        self.lost = self.lost or exc
        while self.waiting:
            _, _, answered = self.waiting.popleft()
            if not answered.done():
                answered.set_exception(self.lost)

    def _hand_out(self) -> None:
        # a waiter that gave up (cancelled) still takes its answers: the next ones stay in step
        while self.waiting:
            count, answers, answered = self.waiting[0]
            while len(answers) < count:
                answer = self._answer()
                if answer is None:
                    return
                answers.append(answer)
            self.waiting.popleft()
            if not answered.done():
                answered.set_result(answers)
        if b"\n" in self.buffer:  # an answer to no command (a 421 as the server shuts down…): out of step
            self._lose(aiosmtplib.SMTPServerDisconnected("an answer to no command"))
            self.transport.close()

    def _answer(self) -> aiosmtplib.SMTPResponse | None:
        """The first complete answer in the buffer (taken out of it), if one is there."""
        lines: list[bytes] = []
        offset = 0
        while (end := self.buffer.find(b"\n", offset)) >= 0:
            line = bytes(self.buffer[offset : end + 1])
            offset = end + 1
            lines.append(line[4:].strip(b" \t\r\n"))
            if line[3:4] != b"-":
                try:
                    code = int(line[:3])
                except ValueError:
                    raise aiosmtplib.SMTPResponseException(-1, "malformed SMTP answer") from None
                del self.buffer[:offset]
                return aiosmtplib.SMTPResponse(code, b"\n".join(lines).decode("utf-8", "surrogateescape"))
        return None


_Answered = asyncio.Future[list[aiosmtplib.SMTPResponse]]


def _retrieved(answered: _Answered) -> None:
    """A failure nobody waits for any more (the send gave up) is not logged as never retrieved."""
    if not answered.cancelled():
        answered.exception()


class _HandoverSMTP(aiosmtplib.SMTP):
    """aiosmtplib's client with a DATA phase in two steps: everything but the final line, the handover,
    then the final line. The connection (EHLO, STARTTLS, AUTH) stays aiosmtplib's.

    To a server that offers PIPELINING (RFC 2920; Postfix, Exim, Exchange… do), every command after EHLO
    goes through a ``_Pipe``: MAIL, RCPT and DATA are written together and their answers read together (two
    round trips fewer per message), and ``deliver`` returns once the final line is written, so the channel
    gives the connection to the next message — whose commands follow at once — while this one's answer is on
    its way (bench/profiles/2026-12-07-email.md)."""

    handover: Handover | None = None  # the general path's (send_message, then data)
    _envelope: list[bytes] | None = None  # MAIL and RCPT written with DATA, pipelined
    _pipe: _Pipe | None = None

    def _piped(self) -> _Pipe | None:
        """The connection's pipe, installed at its first message, if the server offers PIPELINING."""
        protocol, transport = self.protocol, self.transport
        if self._pipe is None and protocol and transport and self.supports_extension("pipelining"):
            self._pipe = _Pipe(protocol, transport)
            transport.set_protocol(self._pipe)
        return self._pipe

    async def execute_command(self, *args: bytes, **options: Any) -> aiosmtplib.SMTPResponse:
        """A command on its own (RSET, QUIT…): through the pipe once there is one, answered in turn."""
        pipe, protocol = self._pipe, self.protocol
        if pipe is None or protocol is None:
            return await super().execute_command(*args, **options)
        protocol.write(b" ".join(args) + b"\r\n")
        [response] = await self._answers(pipe.expect(1))
        if response.code == 421:  # the server is closing the connection
            self.close()
        return response

    async def _answers(self, answered: _Answered) -> list[aiosmtplib.SMTPResponse]:
        try:
            async with asyncio.timeout(self.timeout):
                return await answered
        except (aiosmtplib.SMTPException, TimeoutError):
            self.close()  # the answers are out of step with the commands
            raise

    async def mail(
        self, sender: str, /, *, options: Iterable[str] | None = None, encoding: str = "ascii", **kwargs: Any
    ) -> aiosmtplib.SMTPResponse:
        self._envelope = None
        if self._piped() is None:
            return await super().mail(sender, options=options, encoding=encoding, **kwargs)
        self._envelope = [_command(b"MAIL FROM:" + aiosmtplib.email.quote_address(sender).encode(encoding), options)]
        return aiosmtplib.SMTPResponse(250, "pipelined: answered with DATA")

    async def rcpt(
        self, recipient: str, /, *, options: Iterable[str] | None = None, encoding: str = "ascii", **kwargs: Any
    ) -> aiosmtplib.SMTPResponse:
        if self._envelope is None or self._pipe is None:
            return await super().rcpt(recipient, options=options, encoding=encoding, **kwargs)
        self._envelope.append(
            _command(b"RCPT TO:" + aiosmtplib.email.quote_address(recipient).encode(encoding), options)
        )
        return aiosmtplib.SMTPResponse(250, "pipelined: answered with DATA")

    async def data(self, message: str | bytes, /, **options: Any) -> aiosmtplib.SMTPResponse:
        if self._pipe is None and self.handover is None:
            return await super().data(message, **options)
        raw = message.encode("ascii") if isinstance(message, str) else message
        body = _LEADING_DOT.sub(b"..", _LONE_NEWLINE.sub(b"\r\n", raw))
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        return await self.answer(await self._transfer(body, self.handover))

    async def deliver(self, sender: str, recipient: str, message: bytes, handover: Handover | None) -> _Answered:
        """``sendmail`` for one recipient and a message in wire form (``Composer.rendered``: CRLF lines, none
        starting with a dot), whose addresses are checked already — without sendmail's parse of both addresses
        and its scans of the message, a tenth of the sender's CPU an email (bench/profiles/2026-12-07-email.md).
        Returns once the final line is written, with the server's answer to come (``answer``). No RSET after a
        refusal: the channel closes the connection then."""
        await self._ehlo_or_helo_if_needed()
        await self.mail(sender, options=[f"SIZE={len(message)}"] if self.supports_extension("size") else None)
        try:
            await self.rcpt(recipient)
        except aiosmtplib.SMTPRecipientRefused as exc:  # unpipelined: raised as sendmail raises it
            raise aiosmtplib.SMTPRecipientsRefused([exc]) from None
        return await self._transfer(message, handover)

    async def _transfer(self, body: bytes, handover: Handover | None) -> _Answered:
        """DATA, the message, the handover and the final line; returns once that line is written, with the
        server's answer to it to come."""
        protocol, transport, pipe = self.protocol, self.transport, self._pipe
        if protocol is None or transport is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        envelope, self._envelope = self._envelope or [], None
        if pipe is None:  # one command at a time: the answer is read before the connection is given on
            answered: _Answered = asyncio.get_running_loop().create_future()
            start = await protocol.execute_command(b"DATA", timeout=self.timeout)
            if start.code != 354:
                raise aiosmtplib.SMTPDataError(start.code, start.message)
            protocol.write(body)
            await self._hand_over(handover, lambda: protocol.write(b".\r\n"))
            try:
                async with asyncio.timeout(self.timeout):
                    answered.set_result([await protocol.read_response()])
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                self.close()
                raise HandedOverInDoubt(type(exc).__name__) from exc
            return answered
        protocol.write(b"".join(envelope) + b"DATA\r\n")
        *replies, start = await self._answers(pipe.expect(len(envelope) + 1))
        self._check_envelope(envelope, replies, start)
        protocol.write(body)
        finals: list[_Answered] = []

        def finish() -> None:
            # closed while the handover was committed (the message ahead of this one on the connection gave up
            # waiting for its answer): the line cannot go, and the message is not with the server
            if transport.is_closing():
                raise aiosmtplib.SMTPServerDisconnected("the connection closed before the message's final line")
            protocol.write(b".\r\n")
            finals.append(pipe.expect(1))  # in turn, before any other command can be written

        await self._hand_over(handover, finish)
        if not finals:  # finish raised (the writer calls it quietly): not handed over, sent again — never lost
            raise aiosmtplib.SMTPServerDisconnected("the connection closed before the message's final line")
        return finals[0]

    async def _hand_over(self, handover: Handover | None, finish: Callable[[], None]) -> None:
        # the final line goes out from the commit of the handover itself: a crash between the two would
        # lose the message, so nothing (no other coroutine of this process) runs in between
        if handover is None:
            finish()
        elif not await handover(finish):
            self.close()  # without its final line the server drops the message
            raise HandoverRefused

    async def answer(self, answered: _Answered) -> aiosmtplib.SMTPResponse:
        """The server's answer to a message's final line. A refusal raises SMTPDataError (the connection goes
        on); no answer raises HandedOverInDoubt and closes the connection (the server may have the message).
        Cancelled (the sender's timeout), the connection is left as it is: the answer, if it comes, is taken in
        turn, and the next message on it waits for its own answers as ever."""
        try:
            async with asyncio.timeout(self.timeout):
                [response] = await answered
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.close()
            raise HandedOverInDoubt(type(exc).__name__) from exc
        if response.code != 250:
            raise aiosmtplib.SMTPDataError(response.code, response.message)
        return response

    def _check_envelope(
        self, envelope: list[bytes], replies: list[aiosmtplib.SMTPResponse], start: aiosmtplib.SMTPResponse
    ) -> None:
        """The pipelined MAIL and RCPT answers, raised as aiosmtplib raises them unpipelined."""
        failure: aiosmtplib.SMTPException | None = None
        mail, *recipients = replies
        if mail.code != 250:
            failure = aiosmtplib.SMTPSenderRefused(mail.code, mail.message, "")
        elif all(reply.code not in (250, 251) for reply in recipients):
            refused = [
                aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, command.decode("utf-8", "replace"))
                for reply, command in zip(recipients, envelope[1:], strict=True)
            ]
            failure = aiosmtplib.SMTPRecipientsRefused(refused)
        elif start.code != 354:
            failure = aiosmtplib.SMTPDataError(start.code, start.message)
        if failure is None:
            return
        if start.code == 354:  # a server that took DATA without a sender or a recipient: never finish it
            self.close()
        raise failure


def _command(head: bytes, options: Iterable[str] | None) -> bytes:
    line = b" ".join([head, *(option.encode("ascii") for option in options or ())])
    if _CONTROL.search(line):
        raise ValueError("an SMTP command may not contain a control character")
    return line + b"\r\n"


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = settings.notify.send_timeout_seconds
        self.compose = Composer(settings)
        self.envelope_from = self.compose.envelope_from
        # twice as many messages as connections at once: a message's final answer is awaited with the connection
        # already given to the next message (a _Pipe's), whose commands follow at once
        self.concurrency = 2 * settings.smtp.connections
        self._slots = asyncio.Semaphore(settings.smtp.connections)
        self._idle: list[_HandoverSMTP] = []

    async def _connect(self) -> _HandoverSMTP:
        password = self.settings.smtp.password.get_secret_value() if self.settings.smtp.password else None
        client = _HandoverSMTP(
            hostname=self.settings.smtp.host,
            port=self.settings.smtp.port,
            timeout=self.timeout,
            start_tls=self.settings.smtp.starttls,
            username=self.settings.smtp.username,
            password=password,
        )
        await client.connect()
        return client

    async def send(self, notification: Outgoing, handover: Handover | None = None) -> ProviderResult:
        try:
            raw = self.compose.rendered(notification)
            message = self.compose.message(notification) if raw is None else None
        except (ValueError, TypeError) as exc:
            return ProviderResult(
                ok=False, error=provider_error(f"invalid message: {type(exc).__name__}"), permanent=True
            )
        reference = self.compose.message_id(notification)
        answered: _Answered | None = None
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            reused = client is not None
            try:
                for attempt in (1, 2):
                    try:
                        if client is None or not client.is_connected:
                            client = await self._connect()
                        if raw is not None:
                            answered = await client.deliver(self.envelope_from, notification.recipient, raw, handover)
                        elif message is not None:
                            client.handover = handover
                            try:
                                await client.send_message(
                                    message, sender=self.envelope_from, recipients=[notification.recipient]
                                )
                            finally:
                                client.handover = None
                        break
                    except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                        # a kept-open connection the server has dropped meanwhile: once more on a new one
                        if not reused or attempt == 2:
                            raise
                        await _quietly_close(client)
                        client, reused = None, False
            except asyncio.CancelledError:
                # the send timed out mid-message: drop the connection, so no later write completes the message
                if client is not None:
                    client.close()
                raise
            except (HandoverRefused, HandedOverInDoubt, aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await _quietly_close(client)
                return _failure(exc)
            assert client is not None
            # given on with the final line written: the next message's commands follow it at once, while the
            # server's answer to this one is on its way
            self._idle.append(client)
        if answered is not None:
            try:
                await client.answer(answered)
            except (HandedOverInDoubt, aiosmtplib.SMTPResponseException) as exc:
                return _failure(exc)
        return ProviderResult(ok=True, reference=reference)

    async def aclose(self) -> None:
        while self._idle:
            await _quietly_close(self._idle.pop())


def _failure(exc: Exception) -> ProviderResult:
    """What a failed send records: retried, failed for good (a 5xx refusal) or in doubt."""
    if isinstance(exc, HandoverRefused):
        return ProviderResult(ok=False, error="lease lapsed before the message was complete")
    if isinstance(exc, HandedOverInDoubt):
        return ProviderResult(ok=False, error=f"no answer after the message: {exc}", in_doubt=True)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({refusal.code for refusal in exc.recipients})
        return ProviderResult(
            ok=False, error=f"SMTP recipient refused ({codes})", permanent=all(c >= 500 for c in codes)
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return ProviderResult(
            ok=False, error=provider_error(f"SMTP {exc.code}: {exc.message}"), permanent=500 <= exc.code < 600
        )
    return ProviderResult(ok=False, error=provider_error(f"{type(exc).__name__}: {exc}"))


async def _quietly_close(client: _HandoverSMTP | None) -> None:
    if client is None:
        return
    try:
        if client.is_connected:
            await asyncio.wait_for(client.quit(), timeout=2)
    except Exception:
        client.close()
