"""Every error family answers as RFC 9457 problem+json with a stable code, and changes nothing."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Complaint, Dossier, OutboxEvent
from tests.factories import create_agency, create_staff

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def count(session: AsyncSession, model: type) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_validation_error_is_422_names_the_field_and_echoes_no_input(
    intake: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = await count(session, Complaint)
    response = await intake.post(
        "/api/v1/complaints",
        json={"agency_code": "X", "subject": "Chậm", "content": "Hồ sơ bị chậm quá lâu", "contact": {"phone": "0123"}},
    )
    body = assert_problem(response, 422, "validation_error")
    assert ["body", "contact", "phone"] in [error["loc"] for error in body["errors"]]  # type: ignore[union-attr]
    assert "0123" not in response.text
    assert await count(session, Complaint) == before


async def test_missing_token_is_401_with_bearer_challenge(notify: httpx.AsyncClient) -> None:
    response = await notify.get("/api/v1/notifications")
    assert_problem(response, 401, "missing_token")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_forged_token_is_401(workflow: httpx.AsyncClient) -> None:
    response = await workflow.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert_problem(response, 401, "invalid_token")


async def test_wrong_role_is_403(workflow: httpx.AsyncClient, session: AsyncSession, bearer) -> None:  # type: ignore[no-untyped-def]
    agency = await create_agency(session)
    staff = await create_staff(session, agency=agency, roles=("specialist",))
    await session.commit()
    response = await workflow.get("/api/v1/outbox", headers=bearer(staff))
    assert_problem(response, 403, "role_required")


async def test_unknown_route_and_unknown_agency_are_404(intake: httpx.AsyncClient, session: AsyncSession) -> None:
    assert_problem(await intake.get("/api/v1/no-such-thing"), 404, "not_found")
    before = await count(session, OutboxEvent)
    response = await intake.post(
        "/api/v1/complaints",
        json={"agency_code": "NO.SUCH.AGENCY", "subject": "Thái độ", "content": "Cán bộ tiếp nhận chưa hướng dẫn rõ"},
    )
    assert_problem(response, 404, "agency_not_found")
    assert await count(session, OutboxEvent) == before


async def test_requeue_of_a_pending_event_is_409_and_changes_nothing(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer
) -> None:  # type: ignore[no-untyped-def]
    agency = await create_agency(session)
    admin = await create_staff(session, agency=agency, roles=("admin",))
    event = OutboxEvent(event_type="test.event", source="test", destination="notify", payload={})
    session.add(event)
    await session.commit()
    response = await workflow.post(f"/api/v1/outbox/{event.id}/requeue", headers=bearer(admin))
    assert_problem(response, 409, "not_parked")
    await session.refresh(event)
    assert (event.status, event.attempts) == ("pending", 0)
    missing = await workflow.post(f"/api/v1/outbox/{uuid.uuid4()}/requeue", headers=bearer(admin))
    assert_problem(missing, 404, "event_not_found")


@pytest.mark.parametrize("chunked", [False, True])
async def test_body_over_the_limit_is_413(intake: httpx.AsyncClient, session: AsyncSession, chunked: bool) -> None:
    before = await count(session, Complaint)
    big = b'{"content": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    if chunked:

        async def stream():  # type: ignore[no-untyped-def]
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        response = await intake.post(
            "/api/v1/complaints", content=stream(), headers={"content-type": "application/json"}
        )
    else:
        response = await intake.post("/api/v1/complaints", content=big, headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload_too_large")
    assert await count(session, Complaint) == before


async def test_request_id_is_echoed(intake: httpx.AsyncClient) -> None:
    response = await intake.get("/healthz", headers={"X-Request-ID": "counter-7-abc"})
    assert response.headers["x-request-id"] == "counter-7-abc"
    generated = await intake.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_readyz_checks_the_database(
    intake: httpx.AsyncClient, workflow: httpx.AsyncClient, notify: httpx.AsyncClient
) -> None:
    for client, name in ((intake, "intake"), (workflow, "workflow"), (notify, "notify")):
        response = await client.get("/readyz")
        assert response.json() == {"status": "ready", "service": name}


async def test_openapi_declares_problem_responses(workflow: httpx.AsyncClient) -> None:
    spec = (await workflow.get("/openapi.json")).json()
    token = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"401", "429"} <= set(token)
    assert PROBLEM in token["401"]["content"]


async def test_a_client_that_hangs_up_mid_body_is_no_server_error(
    intake_app: FastAPI, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A closed tab or a load generator stopping: logged as what it is (499, info), not a 500 with a traceback,
    and nothing is filed."""
    before = await count(session, Dossier)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/v1/dossiers", "raw_path": b"/api/v1/dossiers", "root_path": "", "query_string": b"",
        "headers": [(b"host", b"test"), (b"content-type", b"application/json"), (b"content-length", b"200")],
        "client": ("192.0.2.77", 40000), "server": ("test", 80),
    }  # fmt: skip
    arriving = [
        {"type": "http.request", "body": b'{"procedure_code": "', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO, logger="motcua"):
        await intake_app(scope, receive, send)
    started = next(message for message in sent if message["type"] == "http.response.start")
    assert started["status"] == 499
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
    assert "client disconnected" in caplog.text
    assert await count(session, Dossier) == before


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_transaction_the_database_rolled_back_is_a_503_to_send_again(
    intake_app: FastAPI, sqlstate: str
) -> None:
    """A deadlock's victim or a serialization conflict: PostgreSQL rolled the whole transaction back, so
    nothing was written and the same request may be sent again — a 503 with Retry-After, not a 500."""
    import json

    from sqlalchemy.exc import DBAPIError
    from starlette.requests import Request

    class Rolled(Exception):
        pass

    cause = Rolled("deadlock detected")
    cause.sqlstate = sqlstate  # type: ignore[attr-defined]
    scope = {"type": "http", "method": "POST", "path": "/api/v1/dossiers", "headers": [], "query_string": b""}
    handler = intake_app.exception_handlers[DBAPIError]
    answer = await handler(Request(scope), DBAPIError("UPDATE dossier …", {}, cause))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert json.loads(answer.body)["code"] == "server_busy"
