"""Bounded, strict input (issue 11, point 10).

JSON bodies are capped at ``MOTCUA_MAX_JSON_BYTES`` (1 MiB) while multipart uploads keep
``MOTCUA_MAX_REQUEST_BYTES``; every request body refuses unknown fields; dates, times, booleans
and amounts are never coerced from another JSON type; a body that cannot be parsed is a documented
422 problem; the public calendar calculators answer only for bounded years and spans.
"""

from __future__ import annotations

import json
import typing
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.models import CalendarOverride, Complaint, Dossier
from tests.factories import create_agency, create_staff
from tests.intake.setup import PDF, Desk, submission

PROBLEM = "application/problem+json"
MIB = 1024 * 1024


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def error_locations(response: httpx.Response) -> list[list[str]]:
    return [error["loc"] for error in response.json()["errors"]]


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- size ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_json_body_over_one_mib_is_refused_with_413(
    intake: httpx.AsyncClient, session: AsyncSession, desk: Desk, chunked: bool
) -> None:
    """1.5 MB of JSON (under the 25 MB multipart limit) no longer reaches the submission code."""
    body = submission(desk, postal_address="Số 12 Lạch Tray " + "x" * (3 * MIB // 2), return_method="postal")
    raw = json.dumps(body).encode()
    assert MIB < len(raw) < 2 * MIB
    before = await count(session, Dossier)
    if chunked:

        async def stream():  # type: ignore[no-untyped-def]
            for start in range(0, len(raw), 65536):
                yield raw[start : start + 65536]

        response = await intake.post("/api/v1/dossiers", content=stream(), headers={"content-type": "application/json"})
    else:
        response = await intake.post("/api/v1/dossiers", content=raw, headers={"content-type": "application/json"})
    problem = assert_problem(response, 413, "payload_too_large")
    assert str(MIB) in problem["detail"]
    assert await count(session, Dossier) == before


async def test_a_multipart_upload_keeps_its_own_larger_limit(intake: httpx.AsyncClient, desk: Desk) -> None:
    document = PDF + b"%" + b"0" * (3 * MIB // 2) + b"\n"
    response = await intake.post(
        "/api/v1/dossiers",
        data={"data": json.dumps(submission(desk))},
        files=[("D01", ("to-khai.pdf", document, "application/pdf"))],
    )
    assert response.status_code == 201, response.text


# --- unknown fields --------------------------------------------------------------------------------


async def test_an_unknown_field_is_refused_not_dropped(
    intake: httpx.AsyncClient, session: AsyncSession, desk: Desk
) -> None:
    before = await count(session, Dossier)
    top = await intake.post("/api/v1/dossiers", json=submission(desk, status="returned"))
    assert_problem(top, 422, "validation_error")
    assert ["body", "status"] in error_locations(top)
    applicant = submission(desk)
    applicant["applicant"]["verified"] = True
    nested = await intake.post("/api/v1/dossiers", json=applicant)
    assert_problem(nested, 422, "validation_error")
    assert ["body", "applicant", "verified"] in error_locations(nested)
    assert await count(session, Dossier) == before


def _refs(schema: Any) -> typing.Iterator[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def test_every_request_body_of_the_three_services_refuses_unknown_fields(
    intake_app: FastAPI, workflow_app: FastAPI, notify_app: FastAPI
) -> None:
    """Walked from the OpenAPI (what clients see): each JSON body and each model a multipart part
    is parsed with, and every object model inside them, says ``additionalProperties: false``."""
    loose: list[str] = []
    checked: set[str] = set()
    for app in (intake_app, workflow_app, notify_app):
        document = app.openapi()
        components = document["components"]["schemas"]
        pending = [model.__name__ for model in app.state.published_schemas]
        for operations in document["paths"].values():
            for operation in operations.values():
                content = operation.get("requestBody", {}).get("content", {})
                pending.extend(_refs(content.get("application/json", {})))
        while pending:
            name = pending.pop()
            if (app.title, name) in checked:
                continue
            checked.add((app.title, name))
            schema = components[name]
            if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
                loose.append(f"{app.title}: {name}")
            pending.extend(_refs(schema))
    assert len(checked) >= 30
    assert loose == [], f"request bodies that accept unknown fields: {loose}"


# --- no lax coercion -------------------------------------------------------------------------------


async def test_an_integer_is_not_a_date(workflow: httpx.AsyncClient, session: AsyncSession, bearer: Any) -> None:
    """``"day": 0`` once closed 1970-01-01; a string of seconds is no date either."""
    agency = await create_agency(session)
    admin = await create_staff(session, agency=agency, roles=("admin",))
    await session.commit()
    for day in (0, 1_796_000_000, "1796000000", True):
        response = await workflow.post(
            "/api/v1/calendar/overrides",
            json={"agency_code": agency.code, "day": day, "kind": "closed", "reason": "Thử nghiệm"},
            headers=bearer(admin),
        )
        assert_problem(response, 422, "validation_error")
        assert error_locations(response) == [["body", "day"]]
    rows = await session.scalar(select(func.count()).where(CalendarOverride.agency_id == agency.id))
    assert rows == 0
    assert await session.scalar(select(func.count()).where(CalendarOverride.day == date(1970, 1, 1))) == 0


async def test_a_number_is_not_a_date_in_the_query_either(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer: Any, travel: Any
) -> None:
    travel(datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ))
    agency = await create_agency(session)
    head = await create_staff(session, agency=agency, roles=("head",))
    await session.commit()
    seconds = await workflow.get("/api/v1/calendar/due", params={"start": "1796000000", "days": 1})
    assert_problem(seconds, 422, "validation_error")
    epoch = await workflow.get("/api/v1/stats/overdue", params={"to": "0"}, headers=bearer(head))
    assert_problem(epoch, 422, "validation_error")
    iso = await workflow.get("/api/v1/calendar/due", params={"start": "2026-12-01T09:00:00", "days": 1})
    assert iso.status_code == 200, iso.text


async def test_booleans_times_and_amounts_are_not_coerced(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer: Any
) -> None:
    agency = await create_agency(session)
    admin = await create_staff(session, agency=agency, roles=("admin",))
    clerk = await create_staff(session, agency=agency, roles=("counter",))
    await session.commit()
    for change, field in (
        ({"is_one_stop_desk": "false"}, "is_one_stop_desk"),
        ({"is_one_stop_desk": 1}, "is_one_stop_desk"),
        ({"counter_cutoff": 54000}, "counter_cutoff"),
        ({"counter_cutoff": "15:00:00.5"}, "counter_cutoff"),
    ):
        response = await workflow.patch(f"/api/v1/agencies/{agency.code}", json=change, headers=bearer(admin))
        assert_problem(response, 422, "validation_error")
        assert error_locations(response) == [["body", field]]
    # an amount as a string (or a float) is refused before anything is looked up
    for amount in ("50000", 50000.0, True):
        response = await workflow.post(
            "/api/v1/dossiers/000.00.00.H00-000000-0000/transitions",
            json={"action": "request_payment", "amount_vnd": amount, "description": "Lệ phí"},
            headers=bearer(clerk),
        )
        assert_problem(response, 422, "validation_error")
        assert error_locations(response) == [["body", "amount_vnd"]]
    unchanged = await workflow.get("/api/v1/agencies", headers=bearer(admin))
    mine = next(row for row in unchanged.json() if row["code"] == agency.code)
    assert (mine["is_one_stop_desk"], mine["counter_cutoff"]) == (False, "15:00:00")


async def test_a_nul_character_is_invalid_input_not_a_server_error(
    intake: httpx.AsyncClient, session: AsyncSession
) -> None:
    agency = await create_agency(session)
    await session.commit()
    before = await count(session, Complaint)
    body = {"agency_code": agency.code, "subject": "Giờ\u0000làm việc", "content": "Đề nghị mở thêm quầy buổi trưa."}
    assert_problem(await intake.post("/api/v1/complaints", json=body), 422, "validation_error")
    assert_problem(await intake.get("/api/v1/complaints/PAKN%00"), 422, "malformed_request")
    assert_problem(await intake.get("/api/v1/procedures", params={"q": "khai\u0000sinh"}), 422, "malformed_request")
    assert await count(session, Complaint) == before


async def test_an_offset_beyond_64_bits_is_invalid_input_not_a_server_error(
    workflow: httpx.AsyncClient, intake: httpx.AsyncClient, session: AsyncSession, bearer: Any
) -> None:
    """Found by the fuzzer: the database cannot bind 10^20, which was a 500."""
    agency = await create_agency(session)
    head = await create_staff(session, agency=agency, roles=("head", "counter"))
    await session.commit()
    for client, path in (
        (workflow, "/api/v1/tasks"),
        (workflow, "/api/v1/stats/overdue"),
        (intake, "/api/v1/desk/dossiers"),
    ):
        response = await client.get(path, params={"offset": 10**20}, headers=bearer(head))
        assert_problem(response, 422, "validation_error")


# --- unparsable bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\xee\x97\xca not utf-8",
        b'{"kind": "suggestion",',
        b"[" * 100_000,
        b'{"content": ' + b"[" * 500 + b"]" * 500 + b"}",  # parses, then nests deeper than a recursive walk goes
    ],
    ids=["not-utf8", "truncated", "deeper-than-the-parser", "deep-but-parsable"],
)
async def test_an_unparsable_body_is_a_422_problem(intake: httpx.AsyncClient, raw: bytes) -> None:
    response = await intake.post("/api/v1/complaints", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] in {"malformed_body", "validation_error"}


@pytest.mark.parametrize("multipart", [False, True], ids=["json", "multipart-data-part"])
async def test_a_deeply_nested_submission_is_a_422_problem(intake: httpx.AsyncClient, multipart: bool) -> None:
    """The submission parses its body by hand (JSON or multipart): deep nesting was a 500."""
    deep = "[" * 100_000
    if multipart:
        response = await intake.post("/api/v1/dossiers", data={"data": deep}, files=[("D01", ("a.pdf", PDF))])
    else:
        response = await intake.post("/api/v1/dossiers", content=deep, headers={"content-type": "application/json"})
    assert_problem(response, 422, "validation_error")


async def test_every_operation_documents_its_size_input_and_busy_problems(
    intake: httpx.AsyncClient, workflow: httpx.AsyncClient, notify: httpx.AsyncClient
) -> None:
    undocumented = []
    for client in (intake, workflow, notify):
        document = (await client.get("/openapi.json")).json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                # any request may be too large, invalid, or meet a busy database pool
                for status in ("413", "422", "503"):
                    if PROBLEM not in operation["responses"].get(status, {}).get("content", {}):
                        undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []


# --- bounded public calculators --------------------------------------------------------------------


async def test_the_public_calendar_answers_only_for_bounded_years_and_spans(
    workflow: httpx.AsyncClient, travel: Any
) -> None:
    travel(datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ))
    ok = await workflow.get("/api/v1/calendar/due", params={"start": "2031-06-01T09:00:00+07:00", "days": 366})
    assert ok.status_code == 200, ok.text
    assert (await workflow.get("/api/v1/calendar/days", params={"year": 2021})).status_code == 200
    for start in ("2032-01-01T09:00:00+07:00", "2020-12-31T09:00:00+07:00", "9999-01-01T09:00:00"):
        far = await workflow.get("/api/v1/calendar/due", params={"start": start, "days": 1})
        assert_problem(far, 422, "calendar_year_out_of_range")
    for span in ({"days": 367}, {"days": 3650}, {"hours": 367 * 8}):
        long = await workflow.get("/api/v1/calendar/due", params={"start": "2026-12-01T09:00:00+07:00", **span})
        assert_problem(long, 422, "validation_error")
    for year in (2020, 2032, 2100):
        assert_problem(
            await workflow.get("/api/v1/calendar/days", params={"year": year}), 422, "calendar_year_out_of_range"
        )


def test_the_bounds_are_in_the_openapi(workflow_app: FastAPI) -> None:
    parameters = {
        p["name"]: p["schema"] for p in workflow_app.openapi()["paths"]["/api/v1/calendar/due"]["get"]["parameters"]
    }
    assert parameters["days"]["anyOf"][0]["maximum"] == 366
    assert parameters["hours"]["anyOf"][0]["maximum"] == 366 * 8
