"""The notification benchmark's sinks, in a process of their own: an SMTP server (aiosmtpd) and a
fast SMS gateway (HTTP/1.1 with keep-alive, a bare asyncio protocol on uvloop).

Why not tests/notify/fakes.py: its gateway is ``http.server`` (a thread and a new connection per
request, 300–400 requests/s here, so it would measure itself), and both fakes run as threads in the
test process, where they share one interpreter lock with the sender being measured. Here the sinks
get their own process, as real servers would be; the gateway answers a keep-alive POST in a few
microseconds, far above the 1,000/s the sender must reach.

The gateway keeps the contract of docs/NOTIFICATIONS.md: a ``reference`` is accepted once, asked
again it answers 409. ``GET /counts`` answers what both sinks received: emails and distinct
Message-IDs, SMS accepted and repeated — nothing lost or sent twice is counted there.

The SMTP server offers PIPELINING (RFC 2920), as Postfix, Exim and Exchange do; a second one on the same
mailbox does not (``plain_smtp_port``), to show what the sender makes of a server without it.

Run by :class:`Sinks` (``python -m bench.sinks``): it prints ``ready <smtp port> <http port> <plain smtp port>``.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from typing import Any, Self

import httpx

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_REFERENCE = re.compile(rb'"reference"\s*:\s*"([^"]+)"')


class _Counts:
    def __init__(self) -> None:
        self.emails = 0
        self.message_ids: set[bytes] = set()
        self.references: set[bytes] = set()
        self.repeated = 0

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "emails": self.emails,
                "distinct_emails": len(self.message_ids),
                "sms": len(self.references),
                "sms_repeated": self.repeated,
            }
        ).encode()


def _answer(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 404: "Not Found", 409: "Conflict"}[status]
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


class _Gateway(asyncio.Protocol):
    """HTTP/1.1 keep-alive; requests with a Content-Length body (what httpx sends). Pipelined requests work."""

    def __init__(self, counts: _Counts) -> None:
        self.counts = counts
        self.buffer = b""
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(self._respond(head.split(b" ", 2), body))

    def _respond(self, request_line: list[bytes], body: bytes) -> bytes:
        if request_line[0] == b"GET" and request_line[1] == b"/counts":
            return _answer(200, self.counts.as_json())
        found = _REFERENCE.search(body)
        if request_line[0] != b"POST" or found is None:
            return _answer(404, b"{}")
        reference = found.group(1)
        if reference in self.counts.references:
            self.counts.repeated += 1
            return _answer(409, b'{"error": "reference already accepted"}')
        self.counts.references.add(reference)
        return _answer(200, b'{"id": "gw-' + reference + b'"}')


class _Mailbox:
    """aiosmtpd's handler: counts each message and its Message-ID (without parsing the rest); offers
    PIPELINING unless ``pipelining=False``."""

    def __init__(self, counts: _Counts, *, pipelining: bool = True) -> None:
        self.counts = counts
        self.pipelining = pipelining

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """PIPELINING offered, as Postfix, Exim and Exchange offer it (aiosmtpd reads commands one after
        the other, so it serves pipelined ones; it just does not say so)."""
        session.host_name = hostname  # what aiosmtpd does itself when no handler answers EHLO
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        found = _MESSAGE_ID.search(envelope.content)
        self.counts.emails += 1
        if found is not None:
            self.counts.message_ids.add(found.group(1))
        return "250 OK"


async def _serve() -> None:
    from aiosmtpd.smtp import SMTP

    counts = _Counts()
    loop = asyncio.get_running_loop()
    mailbox, plain = _Mailbox(counts), _Mailbox(counts, pipelining=False)
    smtp = await loop.create_server(lambda: SMTP(mailbox, hostname="127.0.0.1"), "127.0.0.1", 0, backlog=512)
    http = await loop.create_server(lambda: _Gateway(counts), "127.0.0.1", 0, backlog=1024)
    one_by_one = await loop.create_server(lambda: SMTP(plain, hostname="127.0.0.1"), "127.0.0.1", 0, backlog=512)
    ports = [server.sockets[0].getsockname()[1] for server in (smtp, http, one_by_one)]
    print("ready", *ports, flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin (or dies)


class Sinks:
    """The sinks' process, started and stopped by the benchmark."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.smtp_port = 0
        self.http_port = 0
        self.plain_smtp_port = 0  # the same mailbox, without PIPELINING

    def start(self) -> Self:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.sinks"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            self.stop()
            raise RuntimeError("the benchmark's sinks did not start")
        self.smtp_port, self.http_port, self.plain_smtp_port = int(ready[1]), int(ready[2]), int(ready[3])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    async def counts(self) -> dict[str, int]:
        async with httpx.AsyncClient() as client:
            response = await client.get(self.url + "/counts")
            counts: dict[str, int] = response.json()
            return counts

    def stop(self) -> None:
        if self.process is None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


if __name__ == "__main__":
    import uvloop

    uvloop.run(_serve())
