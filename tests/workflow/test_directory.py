"""The administrators' directory over HTTP: agencies, roles, staff accounts, and what may not be done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import AuditLog
from tests.factories import create_agency, create_staff, ensure_roles, unique

Bearer = Callable[..., dict[str, Any]]


async def _admin(session: AsyncSession) -> tuple[Any, Any]:
    agency = await create_agency(session, level="province")
    admin = await create_staff(session, agency=agency, roles=("admin",))
    await ensure_roles(session, "counter", "specialist")
    await session.commit()
    return agency, admin


async def test_an_admin_creates_an_account_that_can_sign_in_and_a_deactivated_one_cannot(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    agency, admin = await _admin(session)
    headers = bearer(admin)
    username = unique("canbo.").lower()
    created = await workflow.post(
        "/api/v1/staff",
        headers=headers,
        json={
            "username": username,
            "full_name": "Lê Thị Mai",
            "email": "mai@example.vn",
            "agency_code": agency.code,
            "roles": ["counter", "specialist"],
            "password": "mật khẩu dài",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["roles"] == ["counter", "specialist"]
    assert body["active"] is True
    assert "password" not in created.text
    assert "mật khẩu" not in created.text

    signed_in = await workflow.post("/api/v1/auth/token", data={"username": username, "password": "mật khẩu dài"})
    assert signed_in.status_code == 200
    assert signed_in.json()["roles"] == ["counter", "specialist"]

    listed = await workflow.get("/api/v1/staff", headers=headers, params={"agency": agency.code, "role": "counter"})
    assert [row["username"] for row in listed.json()] == [username]

    off = await workflow.patch(
        f"/api/v1/staff/{username}", headers=headers, json={"active": False, "roles": ["counter"]}
    )
    assert off.status_code == 200
    assert off.json()["active"] is False
    assert off.json()["roles"] == ["counter"]
    refused = await workflow.post("/api/v1/auth/token", data={"username": username, "password": "mật khẩu dài"})
    assert refused.status_code == 401

    on = await workflow.patch(f"/api/v1/staff/{username}", headers=headers, json={"active": True})
    reset = await workflow.post(
        f"/api/v1/staff/{username}/password", headers=headers, json={"password": "khác hẳn 123"}
    )
    assert on.status_code == 200
    assert reset.status_code == 204
    again = await workflow.post("/api/v1/auth/token", data={"username": username, "password": "khác hẳn 123"})
    assert again.status_code == 200

    audit = (await session.scalars(select(AuditLog).where(AuditLog.resource.like("%/api/v1/staff%")))).all()
    mine = [entry for entry in audit if entry.detail.get("staff") == username]
    assert len(mine) == 4
    assert all(entry.username == admin.username for entry in mine)
    assert not any("khác hẳn" in str(entry.detail) for entry in mine)


async def test_bad_input_is_refused_and_changes_nothing(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    agency, admin = await _admin(session)
    headers = bearer(admin)
    base = {"full_name": "Trần Văn B", "agency_code": agency.code, "roles": ["counter"], "password": "đủ dài rồi"}
    cases = [
        ({**base, "username": "Có Dấu"}, 422),
        ({**base, "username": unique("u.").lower(), "roles": ["pope"]}, 422),
        ({**base, "username": unique("u.").lower(), "password": "short"}, 422),
        ({**base, "username": unique("u.").lower(), "agency_code": "NO-SUCH"}, 404),
        ({**base, "username": admin.username}, 409),
    ]
    for body, expected in cases:
        answer = await workflow.post("/api/v1/staff", headers=headers, json=body)
        assert answer.status_code == expected, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    listed = await workflow.get("/api/v1/staff", headers=headers, params={"agency": agency.code})
    assert [row["username"] for row in listed.json()] == [admin.username]

    # an administrator cannot lock themselves out
    own = await workflow.patch(f"/api/v1/staff/{admin.username}", headers=headers, json={"roles": ["counter"]})
    off = await workflow.patch(f"/api/v1/staff/{admin.username}", headers=headers, json={"active": False})
    assert own.status_code == 409
    assert off.status_code == 409


async def test_agencies_are_added_moved_and_closed_but_never_under_themselves(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    province, admin = await _admin(session)
    headers = bearer(admin)
    code = unique("SO.")
    created = await workflow.post(
        "/api/v1/agencies",
        headers=headers,
        json={"code": code, "name": "Sở Tư pháp", "level_code": "province", "parent_code": province.code},
    )
    assert created.status_code == 201, created.text
    assert created.json()["parent_code"] == province.code
    assert created.json()["staff_count"] == 0
    unit = await workflow.post(
        "/api/v1/agencies",
        headers=headers,
        json={"code": code + ".P1", "name": "Phòng Hộ tịch", "level_code": "province", "parent_code": code},
    )
    assert unit.status_code == 201
    loop = await workflow.patch(f"/api/v1/agencies/{code}", headers=headers, json={"parent_code": code + ".P1"})
    assert loop.status_code == 409
    closed = await workflow.patch(f"/api/v1/agencies/{code}", headers=headers, json={"valid_to": "2026-12-31"})
    assert closed.status_code == 200
    assert closed.json()["valid_to"] == "2026-12-31"
    assert closed.json()["parent_code"] == province.code

    counter = await create_staff(session, agency=province, roles=("counter",))
    await session.commit()
    forbidden = await workflow.post(
        "/api/v1/agencies", headers=bearer(counter), json={"code": unique("X."), "name": "X", "level_code": "province"}
    )
    assert forbidden.status_code == 403
    readable = await workflow.get("/api/v1/agencies", headers=bearer(counter))
    assert any(row["code"] == code for row in readable.json())
    roles = await workflow.get("/api/v1/roles", headers=bearer(counter))
    assert {"admin", "counter"} <= {row["code"] for row in roles.json()}


async def test_an_agency_has_a_street_address_and_hours_for_the_postman(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    province, admin = await _admin(session)
    headers = bearer(admin)
    code = unique("XA.")
    created = await workflow.post(
        "/api/v1/agencies",
        headers=headers,
        json={
            "code": code,
            "name": "UBND phường Ngô Quyền",
            "level_code": "province",
            "parent_code": province.code,
            "street_address": "Số 2 Lê Lợi, phường Ngô Quyền, Hải Phòng",
            "postal_hours": "Thứ Hai–Thứ Sáu 8:00–11:00",
        },
    )
    assert created.status_code == 201, created.text
    assert (created.json()["street_address"], created.json()["postal_hours"]) == (
        "Số 2 Lê Lợi, phường Ngô Quyền, Hải Phòng",
        "Thứ Hai–Thứ Sáu 8:00–11:00",
    )
    moved = await workflow.patch(
        f"/api/v1/agencies/{code}", headers=headers, json={"street_address": "Số 9 Điện Biên Phủ, Hải Phòng"}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["street_address"], moved.json()["postal_hours"]) == (
        "Số 9 Điện Biên Phủ, Hải Phòng",
        "Thứ Hai–Thứ Sáu 8:00–11:00",
    )
    cleared = await workflow.patch(f"/api/v1/agencies/{code}", headers=headers, json={"postal_hours": None})
    assert cleared.json()["postal_hours"] is None
    assert cleared.json()["street_address"] == "Số 9 Điện Biên Phủ, Hải Phòng"
    too_long = await workflow.patch(f"/api/v1/agencies/{code}", headers=headers, json={"street_address": "x" * 301})
    assert too_long.status_code == 422
    listed = await workflow.get("/api/v1/agencies", headers=headers)
    [row] = [row for row in listed.json() if row["code"] == code]
    assert row["street_address"] == "Số 9 Điện Biên Phủ, Hải Phòng"
