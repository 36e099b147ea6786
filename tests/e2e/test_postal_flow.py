"""The postal operator end to end, through the real processes: the three APIs and their workers under
uvicorn, and the public post as a real HTTP server in the test process.

A citizen files a dossier online, to be collected at home by the post and its result returned by post.
notify_api asks the operator (``MOTCUA_POSTAL_API_URL``) for a pickup, then, once the result is ready,
for a delivery: each request signed with Standard Webhooks, the operator's first answer a 500 that is
retried, each request booked once. The operator reports its rounds to intake_api by signed webhooks,
which move the dossier: collected and handed over (received, routed), then delivered (returned). A
forged webhook is refused with problem+json and changes nothing; a replayed one changes nothing.

When the postman cannot deliver: the operator's booking reply (reference, fee) is kept for the desk,
each failed attempt reaches the citizen by email, the result comes back to the desk (workflow's
timeline and the counter's actions show it, notify tells the citizen and the desk), and the counter
officer asks the post to deliver again: a new request reaches the operator, the result arrives.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.calendar.working import VN_TZ
from tests.e2e.conftest import Stack, eventually
from tests.factories import create_staff
from tests.intake.setup import submission
from tests.notify.fakes import HttpRecorder, Seen, SmtpSink
from tests.workflow_setup import World, create_world

pytestmark = pytest.mark.e2e

API_SECRET = "whsec_" + base64.b64encode(b"motcua-to-the-post-e2e-secret-01").decode()  # we sign our requests
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"the-post-to-motcua-e2e-secret-02").decode()  # the post signs its own
FORGED_SECRET = "whsec_" + base64.b64encode(b"somebody-else-forging-the-post!!").decode()
WEBHOOK_PATH = "/api/v1/webhooks/postal"
ADDRESS = "Số 5 ngõ 3 Cầu Đất, phường Ngô Quyền, Hải Phòng"
EMAIL = "thuha.buudien@example.vn"
ROUNDS = {
    "pickup": ("pickup.requested", "pickup.picked_up", "pickup.handed_over"),
    "delivery": ("result.picked_up", "result.delivered"),
}


# --- the postal operator ----------------------------------------------------------------------------------


@dataclass
class Booking:
    """A request the operator accepted: a postman will go once."""

    request_id: str  # our webhook-id, the same on every retry
    body: dict[str, Any]  # as verified with our signature
    tracking_number: str

    @property
    def service(self) -> str:
        return str(self.body["data"]["service"])

    @property
    def dossier_code(self) -> str:
        return str(self.body["data"]["dossier_code"])


@dataclass
class Report:
    """A status webhook the operator sent to intake_api, and intake_api's answer."""

    content: bytes
    headers: dict[str, str]
    response: httpx.Response

    @property
    def outcome(self) -> Any:
        return self.response.json().get("outcome")


class PostalOperator(HttpRecorder):
    """The public post's API: checks our signature (401 otherwise), answers 500 to the first
    ``fail_first`` tries of each request, books a request once per ``webhook-id`` (a retry gets the
    same tracking number), and reports its rounds to intake_api signed with its own secret."""

    def __init__(self, *, fail_first: int = 0) -> None:
        super().__init__(self._answer)
        self.fail_first = fail_first
        self.ours = Webhook(API_SECRET)
        self.tries: Counter[str] = Counter()
        self.bookings: list[Booking] = []
        self.unsigned: list[Seen] = []

    def _answer(self, seen: Seen) -> tuple[int, dict[str, Any]]:
        try:
            body = self.ours.verify(seen.body, seen.headers)
        except WebhookVerificationError:
            with self.lock:
                self.unsigned.append(seen)
            return 401, {"error": "invalid signature"}
        request_id = seen.headers["webhook-id"]
        with self.lock:
            self.tries[request_id] += 1
            if self.tries[request_id] <= self.fail_first:
                return 500, {"error": "temporarily unavailable"}
            booking = next((b for b in self.bookings if b.request_id == request_id), None)
            if booking is None:
                booking = Booking(request_id, body, f"EB{len(self.bookings) + 1:09d}VN")
                self.bookings.append(booking)
        return 202, {"tracking_number": booking.tracking_number}

    def booked(self, service: str) -> list[Booking]:
        with self.lock:
            return [b for b in self.bookings if b.service == service]

    @staticmethod
    def signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
        content = json.dumps(event, ensure_ascii=False)
        webhook_id, sent_at = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, content),
        }
        return content.encode(), headers

    async def send(self, intake: httpx.AsyncClient, content: bytes, headers: dict[str, str]) -> Report:
        return Report(content, headers, await intake.post(WEBHOOK_PATH, content=content, headers=headers))

    async def report(
        self, intake: httpx.AsyncClient, booking: Booking, kind: str, *, secret: str = WEBHOOK_SECRET, **extra: Any
    ) -> Report:
        data = {
            "dossier_code": booking.dossier_code,
            "tracking_number": booking.tracking_number,
            "occurred_at": datetime.now(VN_TZ).isoformat(),
            **extra,
        }
        return await self.send(intake, *self.signed({"type": kind, "data": data}, secret=secret))

    async def round(self, intake: httpx.AsyncClient, booking: Booking) -> list[Report]:
        """The postman's round for a booking: each step reported as it happens."""
        return [await self.report(intake, booking, kind) for kind in ROUNDS[booking.service]]


@pytest.fixture
def operator() -> Iterator[PostalOperator]:
    server = PostalOperator(fail_first=1).start()
    yield server
    server.stop()


@pytest.fixture
def mail_server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


# --- the flow ------------------------------------------------------------------------------------------------


async def test_the_post_collects_the_dossier_and_delivers_the_result(
    stack: Stack, engine: AsyncEngine, operator: PostalOperator, mail_server: SmtpSink
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world: World = await create_world(session)
        world.staff["admin"] = await create_staff(session, agency=world.ward, roles=("admin",), password="demo")
        await session.commit()
    stack.env.update(
        {
            "MOTCUA_POSTAL_API_URL": operator.url + "/v1/requests",
            "MOTCUA_POSTAL_API_SECRET": API_SECRET,
            "MOTCUA_POSTAL_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "MOTCUA_SMTP_PORT": str(mail_server.port),
            "MOTCUA_NOTIFY_POLL_SECONDS": "0.1",
            "MOTCUA_NOTIFY_BACKOFF_BASE_SECONDS": "0.1",
            "MOTCUA_NOTIFY_BACKOFF_MAX_SECONDS": "0.4",
            "MOTCUA_NOTIFY_LEASE_SECONDS": "4",
            "MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS": "2",
        }
    )
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    for service in ("intake", "workflow", "notify"):
        stack.worker(service)

    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
        httpx.AsyncClient(base_url=stack.url("notify")) as notify,
    ):

        async def login(name: str) -> dict[str, str]:
            staff = world.staff[name]
            token = await workflow.post("/api/v1/auth/token", data={"username": staff.username, "password": "demo"})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        counter, specialist, head, admin = [await login(n) for n in ("counter", "specialist", "head", "admin")]

        # the citizen files online: the post collects the dossier at home and brings the result back
        class Desk:
            procedure_code = world.codes["single"]

        body = submission(Desk(), pickup_by_post=True, return_method="postal", postal_address=ADDRESS)  # type: ignore[arg-type]
        body["applicant"]["email"] = EMAIL
        created = await intake.post("/api/v1/dossiers", json=body)
        assert created.status_code == 201, created.text
        code, secret = created.json()["code"], created.json()["secret"]
        assert (created.json()["status"], created.json()["channel"]) == ("submitted", 3)

        async def tracked() -> dict[str, Any]:
            answer = await intake.get(f"/api/v1/track/{code}", params={"secret": secret})
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        async def staff_view(headers: dict[str, str]) -> dict[str, Any]:
            answer = await workflow.get(f"/api/v1/dossiers/{code}", headers=headers)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        async def timeline() -> list[tuple[str, str]]:
            answer = await workflow.get(f"/api/v1/dossiers/{code}/timeline", headers=counter)
            assert answer.status_code == 200, answer.text
            return [(line["action"], line["status"]) for line in answer.json()]

        # a pickup is requested: the operator's 500 is retried, and the request is booked once
        async def booked(service: str) -> bool:
            return bool(operator.booked(service))

        await eventually(lambda: booked("pickup"), timeout=20, what="the pickup request at the post")
        [pickup] = operator.booked("pickup")
        assert operator.tries[pickup.request_id] == 2  # the same request (same webhook-id): 500, then 202
        assert pickup.body["type"] == "postal.pickup_requested"
        assert pickup.dossier_code == code
        assert pickup.body["data"]["agency_code"] == world.ward.code  # where the post hands the dossier over
        assert pickup.body["data"]["agency_name"] == world.ward.name
        contact = {"name": "Nguyễn Thị Thu Hà", "phone": "0912345678", "address": ADDRESS}  # where to collect it
        assert pickup.body["data"]["contact"] == contact
        assert operator.unsigned == []

        # a forged hand-over (not signed with the post's secret) is refused and changes nothing
        before = await tracked()
        forged = await operator.report(intake, pickup, "pickup.handed_over", secret=FORGED_SECRET)
        assert forged.response.status_code == 401
        assert forged.response.headers["content-type"].startswith("application/problem+json")
        assert forged.response.json()["code"] == "invalid_signature"
        assert await tracked() == before
        assert before["status"] == "submitted"

        # the postman's round: the request acknowledged, the dossier collected, handed over at the desk
        pickup_round = await operator.round(intake, pickup)
        assert [r.outcome for r in pickup_round] == ["applied"] * 3, [r.response.text for r in pickup_round]
        received = await tracked()
        assert received["status"] == "received"
        handed_over_at = datetime.fromisoformat(json.loads(pickup_round[-1].content)["data"]["occurred_at"])
        assert datetime.fromisoformat(received["received_at"]) == handed_over_at  # the clock starts at the hand-over
        assert datetime.fromisoformat(received["due_at"]) > handed_over_at
        notes = [item["note"] for item in received["history"]]
        assert "Bưu điện đã nhận yêu cầu đến nhận hồ sơ tại nhà." in notes
        assert "Bưu điện đã nhận hồ sơ tại nhà." in notes

        # received, the dossier is routed to the specialist like any other
        async def may(headers: dict[str, str], action: str) -> bool:
            return action in (await staff_view(headers))["allowed_actions"]

        await eventually(lambda: may(specialist, "forward"), timeout=20, what="the dossier routed to the specialist")

        # the hand-over again: as delivered before (same webhook-id), then as a new report of an old step
        sheet, history = await timeline(), (await tracked())["history"]
        duplicate = await operator.send(intake, pickup_round[-1].content, pickup_round[-1].headers)
        assert duplicate.response.status_code == 200
        assert duplicate.response.json() == {"outcome": "duplicate", "first_outcome": "applied"}
        stale = await operator.report(intake, pickup, "pickup.picked_up")
        assert stale.outcome == "already_applied"
        assert await timeline() == sheet
        assert (await tracked())["history"] == history

        # the result is ready: it goes by post, so the counter has nothing to hand over at the desk
        state = await staff_view(specialist)
        forwarded = await workflow.post(
            f"/api/v1/dossiers/{code}/transitions",
            json={"action": "forward", "version": state["version"]},
            headers=specialist,
        )
        assert forwarded.status_code == 200, forwarded.text
        await eventually(lambda: may(head, "resolve"), timeout=20, what="the dossier at the head")
        resolved = await workflow.post(
            f"/api/v1/dossiers/{code}/transitions",
            json={"action": "resolve", "result_note": "Giấy xác nhận bản chính"},
            headers=head,
        )
        assert resolved.status_code == 200, resolved.text
        assert "return_result" not in (await staff_view(counter))["allowed_actions"]

        # a delivery is requested: again a 500 first, retried, booked once, with where to deliver
        await eventually(lambda: booked("delivery"), timeout=20, what="the delivery request at the post")
        [delivery] = operator.booked("delivery")
        assert operator.tries[delivery.request_id] == 2
        assert delivery.body["type"] == "postal.delivery_requested"
        assert delivery.dossier_code == code
        assert delivery.body["data"]["agency_code"] == world.ward.code  # where the post collects the result
        assert delivery.body["data"]["contact"] == contact  # where to deliver it
        assert delivery.tracking_number != pickup.tracking_number
        assert (await tracked())["status"] == "resolved"

        # the postman takes the result from the desk and delivers it: the dossier is returned
        delivery_round = await operator.round(intake, delivery)
        assert [r.outcome for r in delivery_round] == ["applied"] * 2, [r.response.text for r in delivery_round]
        returned = await tracked()
        assert (returned["status"], returned["status_label"]) == ("returned", "Đã trả kết quả")
        assert [(item["status"], item["note"]) for item in returned["history"][-2:]] == [
            ("resolved", "Bưu điện đã nhận kết quả để chuyển trả."),
            ("returned", "Đã trả kết quả qua bưu chính."),
        ]
        view = await staff_view(counter)
        assert (view["status"], view["allowed_actions"]) == ("returned", [])
        sheet = await timeline()
        assert sheet[-2:] == [("postal_result_picked_up", "resolved"), ("return", "returned")]
        assert [action for action, _ in sheet].count("return") == 1

        # the citizen is told, once, that the result came by post
        async def told() -> bool:
            return any("đã trả kết quả" in mail.subject for mail in mail_server.to(EMAIL))

        await eventually(told, timeout=20, what="the email saying the result was returned")

        # the delivery reported again changes nothing: not as a repeat, nor as a new report
        duplicate = await operator.send(intake, delivery_round[-1].content, delivery_round[-1].headers)
        assert duplicate.response.json() == {"outcome": "duplicate", "first_outcome": "applied"}
        stale = await operator.report(intake, delivery, "result.delivered")
        assert stale.outcome == "already_applied"
        assert await timeline() == sheet
        assert (await tracked())["history"] == returned["history"]

        # the administrator's log of what the post was sent: two requests, each delivered on the 2nd try
        subscriptions = (await notify.get("/api/v1/webhook-subscriptions", headers=admin)).json()
        [postal] = [s for s in subscriptions if s["name"] == "postal"]
        assert postal["url"] == operator.url + "/v1/requests"
        log = (await notify.get(f"/api/v1/webhook-subscriptions/{postal['id']}/deliveries", headers=admin)).json()
        assert log["counts"] == {"delivered": 2}
        assert sorted((d["event_type"], d["attempts"], d["last_status_code"]) for d in log["items"]) == [
            ("postal.delivery_requested", 2, 202),
            ("postal.pickup_requested", 2, 202),
        ]
        assert {d["id"] for d in log["items"]} == {pickup.request_id, delivery.request_id}
        assert all("contact" not in d["payload"] for d in log["items"])  # the address is not kept in the log
        assert len(operator.requests()) == 4  # two requests, each tried twice; nothing else reached the post

    returned_mails = [mail for mail in mail_server.to(EMAIL) if "đã trả kết quả" in mail.subject]
    assert len(returned_mails) == 1
    assert returned_mails[0].subject == f"Hồ sơ {code} đã trả kết quả"
    assert "qua bưu chính công ích" in returned_mails[0].body

    stack.stop()
    logs = stack.logs()
    for personal in (ADDRESS, "0912345678", EMAIL):
        assert personal not in logs


async def test_a_result_the_post_cannot_deliver_comes_back_to_the_desk_and_is_delivered_again(
    stack: Stack, engine: AsyncEngine, operator: PostalOperator, mail_server: SmtpSink
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world: World = await create_world(session)
        world.staff["admin"] = await create_staff(session, agency=world.ward, roles=("admin",), password="demo")
        await session.commit()
    stack.env.update(
        {
            "MOTCUA_POSTAL_API_URL": operator.url + "/v1/requests",
            "MOTCUA_POSTAL_API_SECRET": API_SECRET,
            "MOTCUA_POSTAL_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "MOTCUA_SMTP_PORT": str(mail_server.port),
            "MOTCUA_NOTIFY_POLL_SECONDS": "0.1",
            "MOTCUA_NOTIFY_BACKOFF_BASE_SECONDS": "0.1",
            "MOTCUA_NOTIFY_BACKOFF_MAX_SECONDS": "0.4",
            "MOTCUA_NOTIFY_LEASE_SECONDS": "4",
            "MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS": "2",
        }
    )
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    for service in ("intake", "workflow", "notify"):
        stack.worker(service)

    async with (
        httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow"), timeout=30) as workflow,
        httpx.AsyncClient(base_url=stack.url("notify"), timeout=30) as notify,
    ):

        async def login(name: str) -> dict[str, str]:
            staff = world.staff[name]
            token = await workflow.post("/api/v1/auth/token", data={"username": staff.username, "password": "demo"})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        counter, specialist, head, admin = [await login(n) for n in ("counter", "specialist", "head", "admin")]

        # the administrator tells the post where the desk is and when it receives the postman
        desk_address, desk_hours = "Số 1 Hoàng Văn Thụ, phường Hồng Bàng, Hải Phòng", "Thứ Hai–Thứ Sáu 8:00–11:00"
        patched = await workflow.patch(
            f"/api/v1/agencies/{world.ward.code}",
            json={"street_address": desk_address, "postal_hours": desk_hours},
            headers=admin,
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["street_address"], patched.json()["postal_hours"]) == (desk_address, desk_hours)

        # filed at the counter, the result to be delivered by post
        class Desk:
            procedure_code = world.codes["single"]

        body = submission(Desk(), return_method="postal", postal_address=ADDRESS)  # type: ignore[arg-type]
        body["applicant"]["email"] = EMAIL
        created = await intake.post("/api/v1/counter/dossiers", json=body, headers=counter)
        assert created.status_code == 201, created.text
        code, secret = created.json()["code"], created.json()["secret"]

        async def tracked() -> dict[str, Any]:
            answer = await intake.get(f"/api/v1/track/{code}", params={"secret": secret})
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        async def staff_view(headers: dict[str, str]) -> dict[str, Any]:
            answer = await workflow.get(f"/api/v1/dossiers/{code}", headers=headers)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        async def may(headers: dict[str, str], action: str) -> bool:
            return action in (await staff_view(headers))["allowed_actions"]

        await eventually(lambda: may(specialist, "forward"), timeout=20, what="the dossier routed to the specialist")
        state = await staff_view(specialist)
        forwarded = await workflow.post(
            f"/api/v1/dossiers/{code}/transitions",
            json={"action": "forward", "version": state["version"]},
            headers=specialist,
        )
        assert forwarded.status_code == 200, forwarded.text
        await eventually(lambda: may(head, "resolve"), timeout=20, what="the dossier at the head")
        resolved = await workflow.post(
            f"/api/v1/dossiers/{code}/transitions",
            json={"action": "resolve", "result_note": "Giấy xác nhận bản chính"},
            headers=head,
        )
        assert resolved.status_code == 200, resolved.text

        # the delivery request tells the postman where to collect the result, and when
        async def booked(count: int) -> bool:
            return len(operator.booked("delivery")) >= count

        await eventually(lambda: booked(1), timeout=20, what="the delivery request at the post")
        [first] = operator.booked("delivery")
        assert (first.body["data"]["agency_address"], first.body["data"]["agency_postal_hours"]) == (
            desk_address,
            desk_hours,
        )

        # the operator's booking reply, the pickup at the desk, two failed attempts, the return
        reply = await operator.report(intake, first, "result.booked", operator_reference="VNP-HP-000731", fee_vnd=32000)
        assert reply.outcome == "applied", reply.response.text
        assert (await operator.report(intake, first, "result.picked_up")).outcome == "applied"
        failed = await operator.report(
            intake, first, "result.delivery_failed", attempt=1, reason_code="recipient_absent"
        )
        assert failed.outcome == "applied", failed.response.text
        assert (await tracked())["status"] == "resolved"

        async def mailed(words: str) -> bool:
            return any(words in mail.subject for mail in mail_server.to(EMAIL))

        await eventually(lambda: mailed("chưa giao được"), timeout=20, what="the email about the failed attempt")
        last = await operator.report(
            intake, first, "result.delivery_failed", attempt=2, reason_code="recipient_absent", final_attempt=True
        )
        assert last.outcome == "applied", last.response.text
        back = await operator.report(intake, first, "result.returned_to_sender")
        assert back.outcome == "applied", back.response.text

        # the result waits at the desk: the citizen and the desk are told, the timeline shows it
        await eventually(lambda: mailed("chuyển về Bộ phận một cửa"), timeout=20, what="the email about the return")

        async def desk_told() -> bool:
            inbox = await notify.get("/api/v1/notifications/inbox", headers=counter)
            return any("bị bưu điện chuyển trả" in (item.get("subject") or "") for item in inbox.json()["items"])

        await eventually(desk_told, timeout=20, what="the desk's in-app notification of the return")
        timeline = await workflow.get(f"/api/v1/dossiers/{code}/timeline", headers=counter)
        actions = [line["action"] for line in timeline.json()]
        assert actions[-4:] == [
            "postal_result_picked_up",
            "postal_delivery_failed",
            "postal_delivery_failed",
            "postal_returned",
        ]
        view = await staff_view(counter)
        assert (view["status"], view["allowed_actions"]) == ("resolved", ["return_result"])
        desk = (await intake.get(f"/api/v1/desk/dossiers/{code}", headers=counter)).json()
        assert desk["postal_returned"] is True
        assert [(s["status"], s["operator_reference"], s["fee_vnd"]) for s in desk["shipments"]] == [
            ("returned", "VNP-HP-000731", 32000)
        ]
        history = (await tracked())["history"]
        assert history[-1]["note"].startswith("Bưu điện đã chuyển trả kết quả về Bộ phận Tiếp nhận và Trả kết quả.")

        # the same return again changes nothing: as delivered before, and as a new report
        duplicate = await operator.send(intake, back.content, back.headers)
        assert duplicate.response.json() == {"outcome": "duplicate", "first_outcome": "applied"}
        assert (await operator.report(intake, first, "result.returned_to_sender")).outcome == "already_applied"
        stale = await operator.report(intake, first, "result.delivered")
        assert stale.response.status_code == 409
        assert stale.response.json()["code"] == "shipment_transition_invalid"
        assert (await tracked())["history"] == history

        # the citizen asks for the post again: the counter officer books a new delivery
        again = await intake.post(f"/api/v1/dossiers/{code}/postal-redelivery", json={}, headers=counter)
        assert again.status_code == 200, again.text
        await eventually(lambda: booked(2), timeout=20, what="the new delivery request at the post")
        second = operator.booked("delivery")[1]
        assert second.tracking_number != first.tracking_number
        assert second.body["data"]["previous_tracking_number"] == first.tracking_number
        assert second.body["data"]["contact"]["address"] == ADDRESS
        delivered = await operator.round(intake, second)
        assert [r.outcome for r in delivered] == ["applied", "applied"], [r.response.text for r in delivered]
        assert (await tracked())["status"] == "returned"
        await eventually(lambda: mailed("đã trả kết quả"), timeout=20, what="the email saying the result arrived")

    stack.stop()
    logs = stack.logs()
    for personal in (ADDRESS, "0912345678", EMAIL):
        assert personal not in logs
