"""Observability through the real processes: the three APIs and their three workers under uvicorn, a fake
OTLP/HTTP collector (a real HTTP server in the test process, decoding the protobuf ``ExportTraceServiceRequest``
with opentelemetry-proto) and a real SMTP server.

- A citizen's online submission is one trace from the POST to the email: intake's server span, the intake
  worker's relay span, notify's handling and the notify worker's send, each the parent of the next, across
  four processes; no span carries the citizen's email, phone or CCCD number.
- Every API's and every worker's ``/metrics`` answers the scraper's token (and only it) and counts what
  happened: the submission by route template and status, the relayed event, the email sent.
- Then workflow_api goes down and the SMTP server refuses an address: a counter submission's event to workflow
  is parked (two attempts allowed) and its email fails; the database gauges and the workers' counters say so.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.e2e.conftest import Stack, eventually
from tests.factories import create_staff
from tests.intake.setup import PDF, Desk, create_desk, submission
from tests.notify.fakes import HttpRecorder, Seen, SmtpSink, free_port
from tests.operations.conftest import value

pytestmark = pytest.mark.e2e

TOKEN = "scraper-token-for-the-e2e-test-only"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
EMAIL, PHONE, ID_NUMBER = "observed.citizen@example.vn", "0912000777", "031190009999"
REFUSED = "no.such.mailbox@example.vn"
PASSWORD = "mật-khẩu-quầy"


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, str]


class FakeCollector(HttpRecorder):
    """An OTLP/HTTP collector: every span it was sent, decoded from ``POST /v1/traces``."""

    def __init__(self) -> None:
        super().__init__(self._accept)
        self.spans: list[Span] = []
        self.paths: list[str] = []
        self.decoded = threading.Lock()

    def _accept(self, seen: Seen) -> tuple[int, dict[str, object]]:
        body = gzip.decompress(seen.body) if seen.headers.get("content-encoding") == "gzip" else seen.body
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.decoded:
            self.paths.append(seen.path)
            for resource in request.resource_spans:
                service = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {a.key: str(a.value) for a in span.attributes}
                        self.spans.append(
                            Span(service, span.name, span.trace_id.hex(), span.span_id.hex(),
                                 span.parent_span_id.hex(), attributes)
                        )  # fmt: skip
        return 200, {}

    def all(self) -> list[Span]:
        with self.decoded:
            return list(self.spans)


@pytest.fixture
def collector() -> Iterator[FakeCollector]:
    fake = FakeCollector().start()
    yield fake
    fake.stop()


@pytest.fixture
def mail_server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


async def test_a_submission_is_one_trace_from_the_post_to_the_email_and_every_process_is_scraped(
    stack: Stack, engine: AsyncEngine, collector: FakeCollector, mail_server: SmtpSink
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desk: Desk = await create_desk(session)
        officer = await create_staff(session, agency=desk.agency, roles=("counter",), password=PASSWORD)
        await session.commit()
    stack.env.update(
        {
            "MOTCUA_OTLP_ENDPOINT": collector.url,
            "MOTCUA_METRICS_TOKEN": TOKEN,
            "MOTCUA_SMTP_PORT": str(mail_server.port),
            "MOTCUA_NOTIFY_POLL_SECONDS": "0.1",
            "MOTCUA_METRICS_CACHE_SECONDS": "0",  # the database gauges read at every scrape
        }
    )
    apis = {service: stack.api(service) for service in ("intake", "workflow", "notify")}
    workers = {}
    for service in ("intake", "workflow", "notify"):
        workers[service] = free_port()
        stack.env["MOTCUA_METRICS_PORT"] = str(workers[service])  # each worker its own listener
        # intake's relay parks an event at its second failure (below: workflow_api is down)
        stack.env["MOTCUA_RELAY_MAX_ATTEMPTS"] = "2" if service == "intake" else "100"
        stack.worker(service)
    del stack.env["MOTCUA_METRICS_PORT"]

    body = submission(desk)
    body["applicant"].update({"email": EMAIL, "phone": PHONE, "id_number": ID_NUMBER})
    async with httpx.AsyncClient(base_url=stack.url("intake")) as intake:
        created = await intake.post(
            "/api/v1/dossiers",
            data={"data": json.dumps(body)},
            files=[("D01", ("to-khai.pdf", PDF, "application/pdf"))],
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert created.status_code == 201, created.text
    code = created.json()["code"]

    async def mailed() -> bool:
        return any(code in mail.subject for mail in mail_server.to(EMAIL))

    await eventually(mailed, timeout=30, what="the submission's email")

    # --- one trace, four processes ---------------------------------------------------------------------------
    def submitted() -> Span | None:
        return next((s for s in collector.all() if s.service == "intake" and s.name == "POST /api/v1/dossiers"), None)

    def named(trace_id: str) -> set[tuple[str, str]]:
        return {(s.service, s.name) for s in collector.all() if s.trace_id == trace_id}

    expected = {
        ("intake", "POST /api/v1/dossiers"),
        ("intake-worker", "relay dossier.submitted"),
        ("notify", "POST /internal/v1/events"),  # the relayed POST's server span (the relay's traceparent header)
        ("notify", "handle dossier.submitted"),
        ("notify-worker", "send email"),
    }

    async def whole_trace() -> bool:  # each process exports on its own schedule: wait for all five
        post = submitted()
        return post is not None and expected <= named(post.trace_id)

    await eventually(whole_trace, timeout=20, what="the five spans of the submission's trace")
    post = submitted()
    assert post is not None
    assert post.parent_id == ""  # the trace starts at the citizen's POST
    trace = {s.span_id: s for s in collector.all() if s.trace_id == post.trace_id}
    send = next(s for s in trace.values() if s.name == "send email")
    handle = trace[send.parent_id]
    relay = trace[handle.parent_id]
    assert (handle.service, handle.name) == ("notify", "handle dossier.submitted")
    assert (relay.service, relay.name) == ("intake-worker", "relay dossier.submitted")
    assert trace[relay.parent_id] == post
    # probes and scrapes are not traced
    assert not any(s.name.endswith(("/healthz", "/readyz", "/metrics")) for s in collector.all())
    assert set(collector.paths) == {"/v1/traces"}
    exported = repr(collector.all())
    for personal in (EMAIL, PHONE, ID_NUMBER, code):
        assert personal not in exported

    # --- every process's /metrics ----------------------------------------------------------------------------
    async with httpx.AsyncClient() as client:
        for service in ("intake", "workflow", "notify"):
            assert (await client.get(stack.url(service) + "/metrics")).status_code == 401
            answer = await client.get(stack.url(service) + "/metrics", headers=SCRAPER)
            assert answer.status_code == 200, answer.text
            assert value(answer.text, "motcua_db_pool_size", service=service, pool="main") == 10
            health = dict(service=service, method="GET", route="/healthz", status="200")  # the start's health checks
            assert (value(answer.text, "motcua_http_request_duration_seconds_count", **health) or 0) >= 1
        intake_metrics = (await client.get(stack.url("intake") + "/metrics", headers=SCRAPER)).text
        submissions = dict(service="intake", method="POST", route="/api/v1/dossiers", status="201")
        assert value(intake_metrics, "motcua_http_request_duration_seconds_count", **submissions) == 1
        assert code not in intake_metrics
        notify_metrics = (await client.get(stack.url("notify") + "/metrics", headers=SCRAPER)).text
        relayed_in = dict(service="notify", method="POST", route="/internal/v1/events", status="200")
        assert (value(notify_metrics, "motcua_http_request_duration_seconds_count", **relayed_in) or 0) >= 1

        scraped: dict[str, str] = {}
        for service, port in workers.items():
            url = f"http://127.0.0.1:{port}/metrics"

            async def answers(url: str = url) -> bool:
                try:
                    return (await client.get(url)).status_code == 401
                except httpx.TransportError:
                    return False

            await eventually(answers, timeout=20, what=f"the {service} worker's metrics listener")
            answer = await client.get(url, headers=SCRAPER)
            assert answer.status_code == 200, answer.text
            scraped[service] = answer.text
            assert value(answer.text, "motcua_db_pool_size", service=f"{service}-worker", pool="main") == 20
        relayed = dict(source="intake", destination="notify", outcome="delivered")
        assert (value(scraped["intake"], "motcua_outbox_deliveries_total", **relayed) or 0) >= 1
        assert (value(scraped["notify"], "motcua_notification_sends_total", channel="email", outcome="sent") or 0) >= 1

        # --- an event parked, an email failed: the gauges and the counters move ----------------------------
        login = await client.post(
            stack.url("workflow") + "/api/v1/auth/token", data={"username": officer.username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        counter = {"Authorization": f"Bearer {login.json()['access_token']}"}
        intake_url = stack.url("intake") + "/metrics"
        before = (await client.get(intake_url, headers=SCRAPER)).text
        assert value(before, "motcua_outbox_parked", source="intake", destination="workflow") is None
        assert value(before, "motcua_notifications", channel="email", state="failed") is None
        apis["workflow"].stop()
        mail_server.refuse.add(REFUSED)
        refused = submission(desk)
        refused["applicant"].update({"email": REFUSED})
        received = await client.post(stack.url("intake") + "/api/v1/counter/dossiers", json=refused, headers=counter)
        assert received.status_code == 201, received.text

        async def failures_shown() -> bool:
            text = (await client.get(intake_url, headers=SCRAPER)).text
            return (
                value(text, "motcua_outbox_parked", source="intake", destination="workflow") == 1
                and value(text, "motcua_notifications", channel="email", state="failed") == 1
            )

        await eventually(failures_shown, timeout=30, what="the parked event and the failed email in intake's gauges")
        intake_worker = (await client.get(f"http://127.0.0.1:{workers['intake']}/metrics", headers=SCRAPER)).text
        parked = dict(source="intake", destination="workflow", outcome="parked")
        assert value(intake_worker, "motcua_outbox_deliveries_total", **parked) == 1
        retried = dict(source="intake", destination="workflow", outcome="retry")
        assert (value(intake_worker, "motcua_outbox_deliveries_total", **retried) or 0) >= 1
        notify_worker = (await client.get(f"http://127.0.0.1:{workers['notify']}/metrics", headers=SCRAPER)).text
        assert value(notify_worker, "motcua_notification_sends_total", channel="email", outcome="failed") == 1
        notify_metrics = (await client.get(stack.url("notify") + "/metrics", headers=SCRAPER)).text
        assert value(notify_metrics, "motcua_notifications", channel="email", state="failed") == 1
        assert REFUSED not in notify_metrics
