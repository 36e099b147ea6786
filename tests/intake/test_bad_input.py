"""Bad input, field by field: a 4xx problem+json naming the field, and the database unchanged."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Document, Dossier, DossierSequence, Handover, IdempotencyKey, OutboxEvent
from tests.intake.setup import Desk, create_desk, submission


@pytest.fixture(scope="module")
async def module_desk(engine) -> Desk:  # type: ignore[no-untyped-def]
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desk = await create_desk(session)
        await session.commit()
        return desk


async def snapshot(session: AsyncSession) -> tuple[int, ...]:
    counts = []
    for model in (Dossier, Document, Handover, OutboxEvent, DossierSequence, IdempotencyKey):
        counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(counts)


def with_change(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_DROP = object()

CASES: list[tuple[str, tuple[str, ...], Any, list[str]]] = [
    ("CCCD with 11 digits", ("applicant", "id_number"), "03119000456", ["body", "applicant", "id_number"]),
    ("CCCD with a letter", ("applicant", "id_number"), "03119000456A", ["body", "applicant", "id_number"]),
    ("tax code malformed", ("applicant", "id_number"), "0101234567-01", ["body", "applicant", "id_number"]),
    ("landline-like phone", ("applicant", "phone"), "0241234567", ["body", "applicant", "phone"]),
    ("phone too short", ("applicant", "phone"), "09123", ["body", "applicant", "phone"]),
    ("foreign phone", ("applicant", "phone"), "+1 202 555 0101", ["body", "applicant", "phone"]),
    ("email without domain", ("applicant", "email"), "thuha@", ["body", "applicant", "email"]),
    ("name with digits", ("applicant", "full_name"), "Nguyễn Văn 3", ["body", "applicant", "full_name"]),
    ("name missing", ("applicant", "full_name"), _DROP, ["body", "applicant", "full_name"]),
    ("name too long", ("applicant", "full_name"), "A" * 201, ["body", "applicant", "full_name"]),
    ("address too long", ("applicant", "address"), "x" * 501, ["body", "applicant", "address"]),
    ("unknown return method", ("return_method",), "drone", ["body", "return_method"]),
    ("procedure code missing", ("procedure_code",), _DROP, ["body", "procedure_code"]),
    ("procedure code empty", ("procedure_code",), "", ["body", "procedure_code"]),
    ("applicant not an object", ("applicant",), "Nguyễn Thị Thu Hà", ["body", "applicant"]),
]


@pytest.mark.parametrize(("case", "path", "value", "loc"), CASES, ids=[case[0] for case in CASES])
async def test_each_bad_field_is_named_and_nothing_changes(
    intake: httpx.AsyncClient,
    session: AsyncSession,
    module_desk: Desk,
    case: str,
    path: tuple[str, ...],
    value: Any,
    loc: list[str],
) -> None:
    before = await snapshot(session)
    response = await intake.post("/api/v1/dossiers", json=with_change(submission(module_desk), path, value))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_error"
    assert loc in [error["loc"][: len(loc)] for error in body["errors"]], body["errors"]
    assert await snapshot(session) == before


@pytest.mark.parametrize(
    ("case", "change", "status", "code"),
    [
        ("postal return without an address", {"return_method": "postal"}, 422, "validation_error"),
        (
            "no way to reach the applicant",
            {"applicant": {"full_name": "Trần Văn Đức", "id_number": "031190004567"}},
            422,
            "validation_error",
        ),
        ("unknown procedure", {"procedure_code": "9.999999"}, 404, "procedure_not_found"),
        ("agency that does not receive it", {"agency_code": "000.99.99.H99"}, 422, "agency_not_receiving"),
    ],
)
async def test_rule_violations_change_nothing(
    intake: httpx.AsyncClient,
    session: AsyncSession,
    module_desk: Desk,
    case: str,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = await snapshot(session)
    response = await intake.post("/api/v1/dossiers", json=submission(module_desk, **change))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert await snapshot(session) == before


async def test_malformed_json_and_a_missing_data_part(intake: httpx.AsyncClient, session: AsyncSession) -> None:
    before = await snapshot(session)
    broken = await intake.post(
        "/api/v1/dossiers", content=b'{"procedure_code": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["loc"] == ["body"]
    no_data = await intake.post("/api/v1/dossiers", files=[("D01", ("a.pdf", b"%PDF-1.4", "application/pdf"))])
    assert no_data.status_code == 422
    assert no_data.json()["code"] == "data_part_missing"
    bad_data = await intake.post(
        "/api/v1/dossiers", data={"data": "{not json"}, files=[("D01", ("a.pdf", b"%PDF-1.4", "application/pdf"))]
    )
    assert bad_data.json()["errors"][0]["loc"] == ["body", "data"]
    assert await snapshot(session) == before


async def test_refusal_needs_real_reasons(
    intake: httpx.AsyncClient, session: AsyncSession, module_desk: Desk, bearer
) -> None:  # type: ignore[no-untyped-def]
    code = (await intake.post("/api/v1/dossiers", json=submission(module_desk))).json()["code"]
    before = await snapshot(session)
    for reasons in ([], ["   "], ["ngắn"]):
        response = await intake.post(
            f"/api/v1/dossiers/{code}/refuse", json={"reasons": reasons}, headers=bearer(module_desk.officer)
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][:2] == ["body", "reasons"]
    assert await snapshot(session) == before
