"""The drill's mixed load: what citizens, the desk, officers, the post and the payment provider do at once.

- **Online submissions** at ``rate`` a second, each under its own ``Idempotency-Key`` and its own applicant
  email (``drill-<n>@example.vn``, how duplicates are found afterwards). A submission whose answer is lost
  (a refused connection, a 5xx, a timeout) is sent again with the same key until it is answered 201 or
  :data:`GIVE_UP_SECONDS` pass: the 201 (first or replayed) is the acknowledgement the drill holds the
  system to.
- **Every acknowledged dossier is driven** to its end by a small state machine that reads the dossier from
  workflow_api and does the next thing: the desk accepts it (intake), the specialist forwards it, the head
  resolves it, the counter returns it (workflow transitions). One in four asks for a fee (the specialist's
  ``request_payment``; the citizen looks the reference up with the secret; the provider's signed
  ``payment.succeeded`` webhook pays it); one in five is a postal dossier received through the post's
  signed ``pickup.picked_up`` / ``pickup.handed_over`` webhooks (driven to ``resolved``). Reading the state
  before each step makes a step whose answer was lost safe to redo: a 409 is read again, not counted lost.
- **Tracking**: the citizen looks at the dossier with the secret after each step.

Staff tokens are signed here with the demo secret (tests/tokens.py ``bearer_for``), fresh for every
request, so a soak outlives their 30 minutes. Every request's outcome is tallied by kind (``submit``,
``accept``, ``transition``, ``track``, ``webhook``, ``lookup``, ``read``): sent, answered 2xx, its latency,
and each failure by its HTTP status and problem code or its exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from drill.providers import paid_event, postal_event, signed
from services.calendar.working import VN_TZ
from services.core.config import Settings
from tests.tokens import bearer_for
from tests.workflow_setup import World

STEP_SECONDS = 1.0  # an officer's pace: one look at a dossier a second, never a busy loop
DRIVEN_AT_ONCE = 16  # dossiers driven at once; more are acknowledged and tracked, not driven (counted)
GIVE_UP_SECONDS = 90.0  # a submission unanswered this long is counted unacknowledged (its dossier may exist)
DRIVE_SECONDS = 240.0  # a dossier not at its end by then is left where it is (counted, not failed)
RETRYABLE = {500, 502, 503, 504}


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    submissions: int = 0  # logical submissions started (each its own Idempotency-Key)
    acknowledged: dict[str, str] = field(default_factory=dict)  # dossier code → its Idempotency-Key
    replayed: int = 0  # acknowledgements that were a replay of an earlier, unanswered attempt
    unacknowledged: int = 0  # submissions given up
    finished: Counter[str] = field(default_factory=Counter)  # flows driven to their end
    unfinished: int = 0
    undriven: int = 0  # acknowledged while DRIVEN_AT_ONCE dossiers were already being driven
    latencies: list[tuple[float, str, float]] = field(default_factory=list)  # (at, kind, seconds), 2xx only
    successes: dict[str, list[float]] = field(default_factory=dict)  # service → monotonic times of 2xx

    def first_success(self, service: str, after: float, kind: str | None = None) -> float | None:
        """When ``service`` first answered 2xx after ``after`` (monotonic), or None."""
        times = self.successes.get(kind or service, [])
        return next((t for t in times if t > after), None)


def _describe(response: httpx.Response) -> str:
    code = ""
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        with contextlib.suppress(ValueError):
            code = " " + str(response.json().get("code", ""))
    return f"{response.status_code}{code}"


class Load:
    def __init__(self, urls: dict[str, str], world: World, settings: Settings, *, rate: float) -> None:
        self.urls = urls
        self.world = world
        self.settings = settings
        self.rate = rate
        self.tally = Tally()
        self.clients = {
            name: httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(10.0, connect=2.0))
            for name, url in urls.items()
        }
        self.numbers = itertools.count(1)
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = asyncio.Event()
        self.started = time.monotonic()
        self.driving = asyncio.Semaphore(DRIVEN_AT_ONCE)

    # --- one request, tallied -------------------------------------------------------------------------------

    async def call(
        self, kind: str, service: str, method: str, path: str, *, retry_for: float = 0.0, **options: Any
    ) -> httpx.Response | None:
        """Send; on a refused connection, a timeout or a 5xx, again (same request) for up to ``retry_for`` s.
        The last answer (None when none came)."""
        deadline = time.monotonic() + retry_for
        while True:
            self.tally.sent[kind] += 1
            began = time.monotonic()
            response: httpx.Response | None = None
            try:
                response = await self.clients[service].request(method, path, **options)
            except httpx.HTTPError as exc:
                self.tally.errors[f"{kind}: {type(exc).__name__}"] += 1
            else:
                if response.is_success:
                    now = time.monotonic()
                    self.tally.ok[kind] += 1
                    self.tally.latencies.append((now - self.started, kind, now - began))
                    self.tally.successes.setdefault(service, []).append(now)
                    self.tally.successes.setdefault(kind, []).append(now)
                    return response
                self.tally.errors[f"{kind}: {_describe(response)}"] += 1
                if response.status_code not in RETRYABLE:
                    return response
            if time.monotonic() >= deadline:
                return response
            await asyncio.sleep(0.25)

    def staff(self, name: str) -> dict[str, str]:
        return bearer_for(self.settings, self.world.staff[name])

    # --- the citizens ---------------------------------------------------------------------------------------

    async def run(self, seconds: float | None = None) -> None:
        """Submit at ``rate`` a second until :meth:`stop` (or ``seconds``), each dossier then driven in its own task."""
        interval, due = 1.0 / self.rate, time.monotonic()
        end = None if seconds is None else time.monotonic() + seconds
        while not self.stopping.is_set() and (end is None or time.monotonic() < end):
            self._spawn(self.citizen(next(self.numbers)))
            due += interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=max(0.0, due - time.monotonic()))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self, *, wait: float = DRIVE_SECONDS) -> None:
        """No new submissions; the ones under way finish (at most ``wait`` s), then the clients close."""
        self.stopping.set()
        if self.tasks:
            _, pending = await asyncio.wait(list(self.tasks), timeout=wait)
            for task in pending:
                task.cancel()
            self.tally.unfinished += len(pending)
        for client in self.clients.values():
            await client.aclose()

    async def citizen(self, n: int) -> None:
        self.tally.submissions += 1
        flow = "postal" if n % 5 == 0 else "payment" if n % 4 == 0 else "counter"
        body: dict[str, Any] = {
            "procedure_code": self.world.codes["single"],
            "applicant": {
                "full_name": "Nguyễn Thị Thu Hà",
                "id_number": "031190004567",
                "phone": "0912345678",
                "email": f"drill-{n}@example.vn",
                "address": "Số 12 Lạch Tray, phường Lê Chân, Hải Phòng",
            },
            "return_method": "counter",
        }
        if flow == "postal":
            body.update(pickup_by_post=True, return_method="postal", postal_address="Số 5 ngõ 3 Cầu Đất, Hải Phòng")
        key = str(uuid.uuid4())
        answer = await self.call(
            "submit", "intake", "POST", "/api/v1/dossiers", json=body, headers={"Idempotency-Key": key},
            retry_for=GIVE_UP_SECONDS,
        )  # fmt: skip
        if answer is None or answer.status_code != 201:
            self.tally.unacknowledged += 1
            return
        created = answer.json()
        self.tally.acknowledged[created["code"]] = key
        if answer.headers.get("Idempotent-Replayed") == "true":
            self.tally.replayed += 1
        if self.driving.locked():
            self.tally.undriven += 1
            await self.call("track", "intake", "GET", f"/api/v1/track/{created['code']}",
                            params={"secret": created["secret"]})  # fmt: skip
            return
        async with self.driving:
            if await self.drive(created["code"], created["secret"], flow):
                self.tally.finished[flow] += 1
            else:
                self.tally.unfinished += 1

    # --- the dossier's way through the services --------------------------------------------------------------

    async def drive(self, code: str, secret: str, flow: str) -> bool:
        """Do the next step until the flow's end; whether it got there within :data:`DRIVE_SECONDS`."""
        deadline = time.monotonic() + DRIVE_SECONDS
        asked_payment = posted = False
        while time.monotonic() < deadline:
            await asyncio.sleep(STEP_SECONDS)
            read = await self.call("read", "workflow", "GET", f"/api/v1/dossiers/{code}", headers=self.staff("head"))
            if read is None or not read.is_success:
                continue
            state = read.json()
            status, step = state["status"], (state.get("current_step") or {}).get("code")
            if status == "returned" or (flow == "postal" and status == "resolved"):
                await self.call("track", "intake", "GET", f"/api/v1/track/{code}", params={"secret": secret})
                return True
            if status == "submitted" and flow == "postal":
                if not posted:
                    posted = await self._posted(code)
            elif status == "submitted":
                await self.call("accept", "intake", "POST", f"/api/v1/dossiers/{code}/accept", json={},
                                headers=self.staff("counter"))  # fmt: skip
            elif status == "processing" and step == "appraise" and flow == "payment" and not asked_payment:
                asked = await self._transition(code, "specialist", action="request_payment", amount_vnd=50000,
                                               description="Lệ phí")  # fmt: skip
                asked_payment = asked is not None and asked.status_code in (200, 409)
            elif status == "awaiting_payment":
                await self._pay(code, secret)
            elif status == "processing" and step == "appraise":
                await self._transition(code, "specialist", action="forward", version=state["version"])
            elif status == "processing" and step == "approve":
                await self._transition(code, "head", action="resolve", result_note="Kết quả giải quyết")
            elif status == "resolved":
                await self._transition(code, "counter", action="return_result")
            else:  # received, not yet started by workflow_api (its event on the way): look again
                continue
            await self.call("track", "intake", "GET", f"/api/v1/track/{code}", params={"secret": secret})
        return False

    async def _transition(self, code: str, who: str, **body: Any) -> httpx.Response | None:
        return await self.call(
            "transition",
            "workflow",
            "POST",
            f"/api/v1/dossiers/{code}/transitions",
            json=body,
            headers=self.staff(who),
        )  # fmt: skip (not repeated blindly: the next look at the dossier tells whether it was done)

    async def _webhook(self, source: str, event: dict[str, Any]) -> bool:
        """One provider's event, signed afresh on each attempt under one ``webhook-id`` (a redelivery)."""
        webhook_id = f"msg_{uuid.uuid4().hex}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            path, content, headers = signed(source, event, webhook_id)
            answer = await self.call("webhook", "intake", "POST", path, content=content, headers=headers)
            if answer is not None and answer.status_code < 500:
                return answer.is_success
            await asyncio.sleep(0.25)
        return False

    async def _posted(self, code: str) -> bool:
        now = datetime.now(VN_TZ)
        tracking = f"EB{uuid.uuid4().int % 10**9:09d}VN"
        picked = await self._webhook("postal", postal_event("pickup.picked_up", code, now, tracking))
        return picked and await self._webhook("postal", postal_event("pickup.handed_over", code, now, tracking))

    async def _pay(self, code: str, secret: str) -> None:
        found = await self.call("lookup", "intake", "POST", f"/api/v1/dossiers/{code}/payments/lookup",
                                json={"secret": secret}, retry_for=5.0)  # fmt: skip
        if found is None or not found.is_success:
            return
        for payment in found.json():
            if payment["status"] == "requested":
                event = paid_event(payment["reference"], payment["amount_vnd"], datetime.now(VN_TZ))
                await self._webhook("payment", event)
