"""The procedure catalogue over HTTP: accent-insensitive search, filters, detail, versioned administration."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.demo.seed import load_demo_data
from services.intake.catalogue import get_procedure, local_today, search_procedures
from services.intake.catalogue_schemas import CatalogueQuery
from services.models import (
    Agency,
    AuditLog,
    Procedure,
    ProcedureAgency,
    ProcedureDocument,
    ProcedureFee,
    ProcedureVersion,
    Staff,
    WorkflowStep,
    WorkflowTemplate,
)
from tests.factories import create_agency, create_staff, ensure_roles, unique

PROBLEM = "application/problem+json"
URL = "/api/v1/procedures"
Bearer = Callable[..., dict[str, Any]]


def today() -> date:
    return local_today(datetime.now(UTC))


@dataclass
class World:
    centre: Agency
    department: Agency
    partner: Agency
    ward: Agency
    admin: Staff
    clerk: Staff
    admin_headers: dict[str, Any]


@pytest.fixture
async def world(session: AsyncSession, bearer: Bearer) -> World:
    centre = await create_agency(session, level="province")
    department = await create_agency(session, level="province")
    partner = await create_agency(session, level="province")
    ward = await create_agency(session, level="commune")
    admin = await create_staff(session, agency=centre, roles=("admin",))
    clerk = await create_staff(session, agency=centre, roles=("counter",))
    await session.commit()
    return World(centre, department, partner, ward, admin, clerk, bearer(admin, ["admin"]))


def version_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "valid_from": (today() - timedelta(days=30)).isoformat(),
        "time_limit": {"value": 5, "unit": "working_days"},
        "online_mode": "partial",
        "interagency": False,
        "postal_submission": True,
        "postal_return": True,
        "cutoff_rule": True,
        "documents": [
            {"name": "Tờ khai đăng ký khai sinh (theo mẫu)", "form": "original", "mandatory": True},
            {"name": "Giấy chứng sinh", "form": "original_or_copy", "mandatory": False},
        ],
        "fees": [
            {"kind": "lệ phí", "name": "Lệ phí đăng ký", "amount_vnd": 50000, "note": None},
            {"kind": "phí", "name": "Phí cấp bản sao", "amount_vnd": None, "note": "Mức do HĐND tỉnh quy định"},
            {"kind": "other", "name": "Thuế thu nhập", "amount_vnd": 700000, "note": "Do cơ quan thuế xác định"},
        ],
        "agencies": [
            {"agency_code": world.centre.code, "role": "receiving"},
            {"agency_code": world.department.code, "role": "resolving"},
            {"agency_code": world.partner.code, "role": "coordinating"},
        ],
        "result_description": "Giấy khai sinh (bản chính)",
        "legal_basis": ["Luật Hộ tịch 60/2014/QH13"],
    }
    body.update(overrides)
    return body


def procedure_body(world: World, *, name: str, field: str, code: str | None = None, **version: Any) -> dict[str, Any]:
    return {
        "code": code or unique("T."),
        "name": name,
        "field": field,
        "level": "province",
        "version": version_body(world, **version),
    }


async def create(intake: httpx.AsyncClient, world: World, **kwargs: Any) -> dict[str, Any]:
    response = await intake.post(URL, json=procedure_body(world, **kwargs), headers=world.admin_headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def search(intake: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await intake.get(URL, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def codes_of(intake: httpx.AsyncClient, **params: Any) -> list[str]:
    return [item["code"] for item in (await search(intake, **params))["items"]]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def row_counts(session: AsyncSession) -> dict[str, int]:
    models = (Procedure, ProcedureVersion, ProcedureDocument, ProcedureFee, ProcedureAgency, WorkflowTemplate)
    return {model.__name__: (await session.scalar(select(func.count()).select_from(model))) or 0 for model in models}


async def add_template(session: AsyncSession, procedure_code: str, steps_agency: Agency) -> None:
    """A workflow template for version 1 (the workflow administration's job, not the catalogue's)."""
    await ensure_roles(session, "counter", "specialist", "head")
    version_id = await session.scalar(
        select(ProcedureVersion.id)
        .join(Procedure)
        .where(Procedure.code == procedure_code, ProcedureVersion.version == 1)
    )
    assert version_id is not None
    session.add(
        WorkflowTemplate(
            procedure_version_id=version_id,
            name="Quy trình thử",
            steps=[
                WorkflowStep(
                    position=1,
                    code="receive",
                    name="Tiếp nhận",
                    role_code="counter",
                    share_value=0,
                    share_unit="working_days",
                ),
                WorkflowStep(
                    position=2,
                    code="appraise",
                    name="Thẩm định",
                    agency_id=steps_agency.id,
                    role_code="specialist",
                    share_value=4.5,
                    share_unit="working_days",
                    allowed_actions=["forward", "send_back"],
                ),
                WorkflowStep(
                    position=3,
                    code="approve",
                    name="Phê duyệt",
                    agency_id=steps_agency.id,
                    role_code="head",
                    share_value=0.5,
                    share_unit="working_days",
                ),
            ],
        )
    )
    await session.commit()


# --- search ----------------------------------------------------------------------------------------


async def test_search_ignores_accents_and_case_in_both_directions(intake: httpx.AsyncClient, world: World) -> None:
    field = unique("Hộ tịch thử ")
    birth = (await create(intake, world, name="Thủ tục đăng ký khai sinh", field=field))["code"]
    marriage = (await create(intake, world, name="Thủ tục đăng ký kết hôn", field=field))["code"]
    residence = (await create(intake, world, name="Dang ky tam tru (khong dau)", field=field))["code"]
    copy = (await create(intake, world, name="Cấp bản sao trích lục hộ tịch", field=field))["code"]

    assert await codes_of(intake, q="khai sinh", field=field) == [birth]
    assert await codes_of(intake, q="KHAI SINH", field=field) == [birth]
    assert await codes_of(intake, q="  Khai   Sinh ", field=field) == [birth]
    assert set(await codes_of(intake, q="đăng ký", field=field)) == {birth, marriage, residence}
    assert await codes_of(intake, q="dang ky ket hon", field=field) == [marriage]
    assert await codes_of(intake, q="ĐĂNG KÝ KẾT HÔN", field=field) == [marriage]
    # a name stored without diacritics is found by a query with them
    assert await codes_of(intake, q="đăng ký tạm trú", field=field) == [residence]
    # every word must match, in any order; the field is searched too
    assert await codes_of(intake, q="sinh khai", field=field) == [birth]
    assert await codes_of(intake, q="khai sinh kết hôn", field=field) == []
    assert len(await codes_of(intake, q="hộ tịch thử", field=field)) == 4
    # LIKE wildcards in the query are plain characters
    assert await codes_of(intake, q="%", field=field) == []
    assert await codes_of(intake, q="_", field=field) == []
    # a national code, without any other filter
    assert (await codes_of(intake, q=copy))[0] == copy
    assert await codes_of(intake, q=copy.upper()) == [copy]


async def test_search_ranks_exact_code_then_name_prefix_then_phrase(intake: httpx.AsyncClient, world: World) -> None:
    field = unique("Xếp hạng ")
    scattered = (await create(intake, world, name="Bảo tồn khai thác sinh vật biển", field=field))["code"]
    phrase = (await create(intake, world, name="Cấp bản sao trích lục khai sinh", field=field))["code"]
    prefix = (await create(intake, world, name="Khai sinh cho trẻ bị bỏ rơi", field=field))["code"]

    assert await codes_of(intake, q="khai sinh", field=field) == [prefix, phrase, scattered]
    assert await codes_of(intake, field=field) == [scattered, phrase, prefix]  # no query: by name

    code = unique("Z.")
    named_after = (await create(intake, world, name=f"Bản thay thế {code}", field=field))["code"]
    exact = (await create(intake, world, name="Zz thủ tục gốc", field=field, code=code))["code"]
    assert await codes_of(intake, q=code, field=field) == [exact, named_after]


async def test_filters_by_field_agency_online_mode_and_interagency(
    intake: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    field = unique("Lọc ")
    other_field = unique("Lọc khác ")
    ward_only = [{"agency_code": world.ward.code, "role": "receiving"}]
    central = (await create(intake, world, name="Thủ tục cấp tỉnh", field=field, online_mode="full"))["code"]
    at_ward = (await create(intake, world, name="Thủ tục cấp xã", field=field, agencies=ward_only))["code"]
    linked = (
        await create(intake, world, name="Thủ tục liên thông", field=other_field, interagency=True, online_mode="none")
    )["code"]

    assert await codes_of(intake, field=field) == [central, at_ward]
    assert await codes_of(intake, field=other_field) == [linked]
    assert await codes_of(intake, field=field.upper()) == []  # the field is matched exactly
    # receiving or resolving agencies count, coordinating ones do not
    assert await codes_of(intake, agency=world.department.code) == [central, linked]
    assert await codes_of(intake, agency=world.centre.code, field=field) == [central]
    assert await codes_of(intake, agency=world.ward.code) == [at_ward]
    assert await codes_of(intake, agency=world.partner.code) == []
    assert await codes_of(intake, agency=world.department.code, online_mode="full") == [central]
    assert await codes_of(intake, agency=world.department.code, online_mode="none") == [linked]
    assert await codes_of(intake, agency=world.department.code, interagency="true") == [linked]
    assert await codes_of(intake, agency=world.department.code, interagency="false") == [central]
    bad = await intake.get(URL, params={"online_mode": "level4"})
    assert ["query", "online_mode"] in [
        error["loc"] for error in assert_problem(bad, 422, "validation_error")["errors"]
    ]


async def test_pagination_reports_the_total(intake: httpx.AsyncClient, world: World) -> None:
    field = unique("Trang ")
    codes = [(await create(intake, world, name=f"Thủ tục {letter}", field=field))["code"] for letter in "ABC"]

    first = await search(intake, field=field, limit=2)
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [item["code"] for item in first["items"]] == codes[:2]
    rest = await search(intake, field=field, limit=2, offset=2)
    assert rest["total"] == 3
    assert [item["code"] for item in rest["items"]] == codes[2:]
    assert (await search(intake, field=field, offset=5))["items"] == []
    assert len((await search(intake, limit=100))["items"]) <= 100
    for params in ({"limit": 101}, {"limit": 0}, {"offset": -1}):
        assert_problem(await intake.get(URL, params=params), 422, "validation_error")


async def test_list_items_carry_the_public_field_names(intake: httpx.AsyncClient, world: World) -> None:
    field = unique("Hợp đồng ")
    created = await create(intake, world, name="Thủ tục có phí", field=field)

    [item] = (await search(intake, field=field))["items"]
    assert item["code"] == created["code"]
    assert item["name"] == "Thủ tục có phí"
    assert item["field"] == field
    assert item["level"] == "province"
    assert item["agency_code"] == world.department.code  # the resolving agency
    assert item["time_limit"] == {"value": 5, "unit": "working_days"}
    # lệ phí 50 000 + phí set by the province; the tax ("other") is not a fee of the procedure
    assert item["fee_vnd"] == 50000
    assert item["fee_complete"] is False
    assert "HĐND" in item["fee_note"]
    assert (item["online_mode"], item["interagency"]) == ("partial", False)
    assert (item["postal_submission"], item["postal_return"]) == (True, True)
    assert item["version"] == 1


async def test_only_the_version_in_force_is_listed(intake: httpx.AsyncClient, world: World) -> None:
    field = unique("Hiệu lực ")
    future = await create(
        intake, world, name="Thủ tục chưa hiệu lực", field=field, valid_from=(today() + timedelta(days=3)).isoformat()
    )
    assert future["version"] == 1  # the created version is answered even before it starts
    assert await codes_of(intake, field=field) == []
    assert_problem(await intake.get(f"{URL}/{future['code']}"), 404, "procedure_not_in_force")


async def test_an_ended_version_is_no_longer_listed(
    intake: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    field = unique("Hết hiệu lực ")
    code = (await create(intake, world, name="Thủ tục bị bãi bỏ", field=field))["code"]
    assert await codes_of(intake, field=field) == [code]
    version = await session.scalar(select(ProcedureVersion).join(Procedure).where(Procedure.code == code))
    assert version is not None
    version.valid_to = today()  # abolished (bãi bỏ) from today, with no successor
    await session.commit()

    assert await codes_of(intake, field=field) == []
    assert_problem(await intake.get(f"{URL}/{code}"), 404, "procedure_not_in_force")


# --- detail --------------------------------------------------------------------------------------------


async def test_detail_of_a_procedure_created_through_the_api(
    intake: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    created = await create(intake, world, name="Thủ tục đầy đủ", field=unique("Chi tiết "))
    code = created["code"]
    assert created["steps"] == []  # no workflow template until the workflow administration adds one
    await add_template(session, code, world.department)

    response = await intake.get(f"{URL}/{code}")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["code"] == code
    assert detail["versions"] == [
        {"version": 1, "valid_from": (today() - timedelta(days=30)).isoformat(), "valid_to": None, "published": True}
    ]
    assert detail["required_documents"] == [
        {
            "code": "D01",
            "name": "Tờ khai đăng ký khai sinh (theo mẫu)",
            "mandatory": True,
            "form": "original",
            "template_url": None,
        },
        {
            "code": "D02",
            "name": "Giấy chứng sinh",
            "mandatory": False,
            "form": "original_or_copy",
            "template_url": None,
        },
    ]
    assert [(fee["kind"], fee["amount_vnd"]) for fee in detail["fees"]] == [
        ("lệ phí", 50000),
        ("phí", None),
        ("other", 700000),
    ]
    assert detail["agencies"] == [
        {"code": world.centre.code, "name": world.centre.name, "role": "receiving"},
        {"code": world.department.code, "name": world.department.name, "role": "resolving"},
        {"code": world.partner.code, "name": world.partner.name, "role": "coordinating"},
    ]
    assert detail["steps"] == [
        {
            "position": 1,
            "code": "receive",
            "name": "Tiếp nhận",
            "role": "counter",
            "agency_code": None,
            "share": {"value": 0.0, "unit": "working_days"},
        },
        {
            "position": 2,
            "code": "appraise",
            "name": "Thẩm định",
            "role": "specialist",
            "agency_code": world.department.code,
            "share": {"value": 4.5, "unit": "working_days"},
        },
        {
            "position": 3,
            "code": "approve",
            "name": "Phê duyệt",
            "role": "head",
            "agency_code": world.department.code,
            "share": {"value": 0.5, "unit": "working_days"},
        },
    ]
    assert detail["legal_basis"] == ["Luật Hộ tịch 60/2014/QH13"]
    assert detail["result_description"] == "Giấy khai sinh (bản chính)"
    assert detail["cutoff_rule"] is True
    assert detail["fee_vnd"] == 50000


async def test_unknown_procedure_is_a_404_problem(intake: httpx.AsyncClient, world: World) -> None:
    assert_problem(await intake.get(f"{URL}/{unique('NO.SUCH.')}"), 404, "procedure_not_found")
    published = await intake.post(
        f"{URL}/{unique('NO.SUCH.')}/versions", json=version_body(world), headers=world.admin_headers
    )
    assert_problem(published, 404, "procedure_not_found")


async def test_demo_catalogue_is_searchable_and_detailed(session: AsyncSession) -> None:
    await load_demo_data(session)  # rolled back: other tests count what the seed inserts
    on = date(2026, 1, 15)

    births = await search_procedures(session, CatalogueQuery(q="KHAI SINH", field="Hộ tịch"), today=on)
    assert "1.001193" in [item.code for item in births.items]
    marriages = await search_procedures(session, CatalogueQuery(q="dang ky ket hon"), today=on)
    assert marriages.items[0].code == "1.000894"
    assert (await search_procedures(session, CatalogueQuery(q="1.001193"), today=on)).items[0].code == "1.001193"
    ward = await search_procedures(session, CatalogueQuery(agency="000.00.31.H26", limit=100), today=on)
    assert ward.total >= 10
    assert {item.level for item in ward.items} == {"commune"}

    detail = await get_procedure(session, "1.001193", today=on)
    assert detail.name == "Thủ tục đăng ký khai sinh"
    assert (detail.time_limit.value, detail.time_limit.unit) == (1, "working_days")
    assert (detail.fee_vnd, detail.fee_complete, detail.fee_note) == (8000, True, None)
    assert detail.agency_code == "000.00.31.H26"
    assert [step.code for step in detail.steps] == ["receive", "appraise", "approve", "return"]
    assert sum(step.share.value for step in detail.steps) == 1
    assert detail.required_documents[0].code == "D01"
    province_fees = await get_procedure(session, "1.013831", today=on)
    assert province_fees.interagency is True
    assert province_fees.fee_complete is False


# --- administration --------------------------------------------------------------------------------------


async def _rows(session: AsyncSession, model: type[Any], **where: Any) -> list[dict[str, Any]]:
    table = model.__table__
    statement = select(table).where(*(table.c[name] == value for name, value in where.items()))
    rows = [dict(row) for row in (await session.execute(statement)).mappings()]
    return sorted(rows, key=repr)


async def _snapshot(session: AsyncSession, version_id: uuid.UUID) -> dict[str, Any]:
    template_ids = [row["id"] for row in await _rows(session, WorkflowTemplate, procedure_version_id=version_id)]
    return {
        "version": await _rows(session, ProcedureVersion, id=version_id),
        "documents": await _rows(session, ProcedureDocument, version_id=version_id),
        "fees": await _rows(session, ProcedureFee, version_id=version_id),
        "agencies": await _rows(session, ProcedureAgency, version_id=version_id),
        "templates": await _rows(session, WorkflowTemplate, procedure_version_id=version_id),
        "steps": [step for tid in template_ids for step in await _rows(session, WorkflowStep, template_id=tid)],
    }


async def test_publishing_a_version_leaves_the_previous_rules_untouched(
    intake: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    field = unique("Phiên bản ")
    code = (await create(intake, world, name="Thủ tục có phiên bản", field=field))["code"]
    await add_template(session, code, world.department)
    v1_id = await session.scalar(
        select(ProcedureVersion.id).join(Procedure).where(Procedure.code == code, ProcedureVersion.version == 1)
    )
    assert v1_id is not None
    before = await _snapshot(session, v1_id)

    starts = today()
    new_rules = version_body(
        world,
        valid_from=starts.isoformat(),
        time_limit={"value": 16, "unit": "working_hours"},
        online_mode="full",
        documents=[{"name": "Tờ khai điện tử", "form": "electronic", "mandatory": True}],
        fees=[{"kind": "lệ phí", "name": "Lệ phí mới", "amount_vnd": 20000, "note": None}],
        agencies=[{"agency_code": world.ward.code, "role": "receiving"}],
    )
    response = await intake.post(f"{URL}/{code}/versions", json=new_rules, headers=world.admin_headers)
    assert response.status_code == 201, response.text
    published = response.json()
    assert (published["version"], published["valid_from"], published["valid_to"]) == (2, starts.isoformat(), None)

    detail = (await intake.get(f"{URL}/{code}")).json()
    assert detail["version"] == 2
    assert detail["time_limit"] == {"value": 16, "unit": "working_hours"}
    assert [doc["name"] for doc in detail["required_documents"]] == ["Tờ khai điện tử"]
    assert (detail["fee_vnd"], detail["fee_complete"], detail["fee_note"]) == (20000, True, None)
    assert detail["agency_code"] == world.ward.code
    assert [(v["version"], v["valid_to"]) for v in detail["versions"]] == [(1, starts.isoformat()), (2, None)]
    # the workflow of version 1 is copied to version 2
    assert [(step["code"], step["agency_code"], step["share"]["value"]) for step in detail["steps"]] == [
        ("receive", None, 0.0),
        ("appraise", world.department.code, 4.5),
        ("approve", world.department.code, 0.5),
    ]
    [item] = (await search(intake, field=field))["items"]
    assert (item["version"], item["online_mode"], item["time_limit"]["unit"]) == (2, "full", "working_hours")

    admin_id = world.admin.id
    session.expire_all()
    after = await _snapshot(session, v1_id)
    [old_before], [old_after] = before["version"], after["version"]
    assert old_before["valid_to"] is None
    assert old_after["valid_to"] == starts
    ignored = {"valid_to", "updated_at"}
    assert {k: v for k, v in old_after.items() if k not in ignored} == {
        k: v for k, v in old_before.items() if k not in ignored
    }
    for part in ("documents", "fees", "agencies", "templates", "steps"):
        assert after[part] == before[part], part
    assert len(after["steps"]) == 3

    audit = (
        await session.scalars(select(AuditLog).where(AuditLog.actor_staff_id == admin_id).order_by(AuditLog.at))
    ).all()
    assert [(entry.action, entry.resource) for entry in audit] == [
        ("update", "POST /api/v1/procedures"),
        ("update", f"POST /api/v1/procedures/{code}/versions"),
    ]
    assert audit[1].detail["version"] == 2


async def test_a_future_version_waits_for_its_date(intake: httpx.AsyncClient, world: World) -> None:
    field = unique("Tương lai ")
    code = (await create(intake, world, name="Thủ tục sắp đổi", field=field))["code"]
    starts = today() + timedelta(days=10)
    response = await intake.post(
        f"{URL}/{code}/versions",
        json=version_body(world, valid_from=starts.isoformat(), time_limit={"value": 2, "unit": "working_days"}),
        headers=world.admin_headers,
    )
    assert response.status_code == 201, response.text

    detail = (await intake.get(f"{URL}/{code}")).json()
    assert (detail["version"], detail["valid_to"], detail["time_limit"]["value"]) == (1, starts.isoformat(), 5)
    [item] = (await search(intake, field=field))["items"]
    assert item["version"] == 1


def _invalid(world: World, **version: Any) -> dict[str, Any]:
    return procedure_body(world, name="Thủ tục sai", field=unique("Sai "), **version)


INVALID_VERSIONS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unit": ({"time_limit": {"value": 5, "unit": "calendar_days"}}, ["time_limit", "unit"]),
    "negative_limit": ({"time_limit": {"value": -1, "unit": "working_days"}}, ["time_limit", "value"]),
    "online_mode": ({"online_mode": "level4"}, ["online_mode"]),
    "blank_document": ({"documents": [{"name": "   ", "form": "copy", "mandatory": True}]}, ["documents", "0", "name"]),
    "duplicate_documents": (
        {"documents": [{"name": "Tờ khai"}, {"name": "TO KHAI"}]},
        ["documents"],
    ),
    "negative_fee": ({"fees": [{"kind": "phí", "name": "Phí", "amount_vnd": -5}]}, ["fees", "0", "amount_vnd"]),
    "fee_kind": ({"fees": [{"kind": "tip", "name": "Phí", "amount_vnd": 5}]}, ["fees", "0", "kind"]),
    "no_receiving_agency": ({"agencies": []}, ["agencies"]),
    "unknown_field": ({"time_limit_days": 3}, ["time_limit_days"]),
}


@pytest.mark.parametrize("case", list(INVALID_VERSIONS))
async def test_invalid_input_is_a_422_naming_the_field_and_changes_nothing(
    intake: httpx.AsyncClient, world: World, session: AsyncSession, case: str
) -> None:
    overrides, loc = INVALID_VERSIONS[case]
    existing = (await create(intake, world, name="Thủ tục hợp lệ", field=unique("Hợp lệ ")))["code"]
    before = await row_counts(session)

    created = await intake.post(URL, json=_invalid(world, **overrides), headers=world.admin_headers)
    body = assert_problem(created, 422, "validation_error")
    assert ["body", "version", *loc] in [error["loc"] for error in body["errors"]], body["errors"]

    version = version_body(world, valid_from=today().isoformat(), **overrides)
    published = await intake.post(f"{URL}/{existing}/versions", json=version, headers=world.admin_headers)
    body = assert_problem(published, 422, "validation_error")
    assert ["body", *loc] in [error["loc"] for error in body["errors"]], body["errors"]

    assert await row_counts(session) == before
    assert (await intake.get(f"{URL}/{existing}")).json()["versions"][0]["valid_to"] is None


async def test_domain_checks_refuse_and_change_nothing(
    intake: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    existing = await create(intake, world, name="Thủ tục gốc", field=unique("Kiểm tra "))
    code = existing["code"]
    before = await row_counts(session)

    duplicate = await intake.post(
        URL, json=procedure_body(world, name="Trùng mã", field="X", code=code), headers=world.admin_headers
    )
    assert_problem(duplicate, 409, "procedure_exists")
    unknown_agency = procedure_body(
        world, name="Cơ quan lạ", field="X", agencies=[{"agency_code": unique("NO."), "role": "receiving"}]
    )
    assert_problem(await intake.post(URL, json=unknown_agency, headers=world.admin_headers), 404, "agency_not_found")
    unknown_level = {**procedure_body(world, name="Cấp lạ", field="X"), "level": unique("level.")}
    body = assert_problem(await intake.post(URL, json=unknown_level, headers=world.admin_headers), 422, "unknown_level")
    assert body["errors"][0]["loc"] == ["body", "level"]
    bad_code = {**procedure_body(world, name="Mã có dấu cách", field="X"), "code": "1 001"}
    body = assert_problem(await intake.post(URL, json=bad_code, headers=world.admin_headers), 422, "validation_error")
    assert ["body", "code"] in [error["loc"] for error in body["errors"]]

    same_day = version_body(world, valid_from=existing["valid_from"])
    body = assert_problem(
        await intake.post(f"{URL}/{code}/versions", json=same_day, headers=world.admin_headers),
        422,
        "valid_from_not_after_previous",
    )
    assert body["errors"][0]["loc"] == ["body", "valid_from"]
    stray = version_body(
        world, valid_from=today().isoformat(), agencies=[{"agency_code": "NO.SUCH", "role": "receiving"}]
    )
    assert_problem(
        await intake.post(f"{URL}/{code}/versions", json=stray, headers=world.admin_headers), 404, "agency_not_found"
    )

    assert await row_counts(session) == before
    assert (await intake.get(f"{URL}/{code}")).json()["versions"] == existing["versions"]


async def test_only_administrators_change_the_catalogue(
    intake: httpx.AsyncClient, world: World, session: AsyncSession, bearer: Bearer
) -> None:
    code = (await create(intake, world, name="Thủ tục được bảo vệ", field=unique("Quyền ")))["code"]
    before = await row_counts(session)
    clerk = bearer(world.clerk, ["counter"])
    new_procedure = procedure_body(world, name="Không được tạo", field="X")

    assert_problem(await intake.post(URL, json=new_procedure, headers=clerk), 403, "role_required")
    assert_problem(await intake.post(URL, json=new_procedure), 401, "missing_token")
    version = version_body(world, valid_from=today().isoformat())
    assert_problem(await intake.post(f"{URL}/{code}/versions", json=version, headers=clerk), 403, "role_required")

    assert await row_counts(session) == before
    assert (await intake.get(f"{URL}/{code}")).json()["version"] == 1


async def test_openapi_documents_the_endpoints_and_their_problems(intake: httpx.AsyncClient) -> None:
    paths = (await intake.get("/openapi.json")).json()["paths"]
    assert {"get", "post"} <= set(paths[URL])
    assert "404" in paths[URL + "/{code}"]["get"]["responses"]
    assert {"403", "409", "422"} <= set(paths[URL]["post"]["responses"])
    assert all(operation.get("description") for operation in paths[URL + "/{code}/versions"].values())
