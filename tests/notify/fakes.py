"""Real servers in the test process: an SMTP server (aiosmtpd), an SMS gateway and a postal operator (HTTP)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- SMTP -------------------------------------------------------------------------------------------------


@dataclass
class Mail:
    recipients: list[str]
    message: EmailMessage
    raw: bytes = b""  # as it came over the wire

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


class SmtpSink:
    """aiosmtpd on a free port; keeps every accepted message; refuses ``refuse`` recipients with 550 and
    messages to ``reject`` with 554 once they are whole; answers a whole message to ``stall`` only after that
    many seconds. Offers PIPELINING, as Postfix, Exim and Exchange do, unless ``pipelining=False``; ``commands``
    is what each connection sent, in order; ``greetings`` counts EHLOs (a connection each)."""

    def __init__(self, *, pipelining: bool = True) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()
        self.reject: set[str] = set()
        self.stall: dict[str, float] = {}
        self.greetings = 0
        self.commands: list[str] = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook name
                session.host_name = hostname  # what aiosmtpd does itself when no handler answers EHLO
                sink.greetings += 1
                return [*responses[:-1], "250-PIPELINING", responses[-1]] if pipelining else responses

            async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook name
                sink.commands.append(f"MAIL {address}")
                envelope.mail_from = address
                envelope.mail_options.extend(mail_options)
                return "250 OK"

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
                sink.commands.append(f"RCPT {address}")
                if address in sink.refuse:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                await asyncio.sleep(max([sink.stall.get(to, 0.0) for to in envelope.rcpt_tos], default=0.0))
                if set(envelope.rcpt_tos) & sink.reject:
                    return "554 5.6.0 message refused"
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink.lock:
                    sink.mails.append(Mail(list(envelope.rcpt_tos), parsed, envelope.original_content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.recipients]

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(m.message_id for m in self.mails)


# --- HTTP -------------------------------------------------------------------------------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Seen], tuple[int, dict[str, Any]]]


class HttpRecorder:
    """A threaded HTTP server that records every POST and answers what ``respond`` says."""

    def __init__(self, respond: Responder | None = None) -> None:
        self.respond: Responder = respond or (lambda seen: (200, {}))
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with recorder.lock:
                    recorder.seen.append(seen)
                status, answer = recorder.respond(seen)
                content = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.request_queue_size = 512  # the default backlog (5) resets connections under a burst
        self.server.daemon_threads = True
        self.server.server_bind()
        self.server.server_activate()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self) -> list[Seen]:
        with self.lock:
            return list(self.seen)


class FakeGateway(HttpRecorder):
    """An SMS gateway: ``fail_first[phone]`` failures (500) per reference, then 200; ``down`` phones
    always fail (500); ``reject`` phones get a 400. ``accepted`` keeps what it accepted (and would
    send to the phone). Like the gateways the contract asks for (docs/NOTIFICATIONS.md), it sends a
    reference once: asked again for an accepted reference it answers 409 and sends nothing."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.fail_first: dict[str, int] = {}
        self.down: set[str] = set()
        self.reject: set[str] = set()
        self.tries: Counter[str] = Counter()
        self.accepted: list[dict[str, Any]] = []
        self.repeated: Counter[str] = Counter()  # requests for references already accepted

    def _answer(self, seen: Seen) -> tuple[int, dict[str, Any]]:
        message = seen.json()
        phone, reference = message["to"], message["reference"]
        with self.lock:
            self.tries[reference] += 1
            if phone in self.reject:
                return 400, {"error": "invalid number"}
            if phone in self.down or self.tries[reference] <= self.fail_first.get(phone, 0):
                return 500, {"error": "upstream unavailable"}
            if any(m["reference"] == reference for m in self.accepted):
                self.repeated[reference] += 1
                return 409, {"error": "reference already accepted", "id": f"gw-{reference}"}
            self.accepted.append({**message, "at": seen.at})
        return 200, {"id": f"gw-{reference}"}

    def to(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.accepted if m["to"] == phone]

    def references(self) -> Counter[str]:
        with self.lock:
            return Counter(m["reference"] for m in self.accepted)
