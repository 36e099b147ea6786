"""The national catalogue: import (idempotent, versioned, never over local procedures), search over it
(ranking, accents, filters), information-only procedures (shown, not received online), the public
filter choices and agency list."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import NotFound
from services.intake.catalogue import get_procedure, local_today, search_procedures
from services.intake.catalogue_schemas import CatalogueQuery
from services.intake.national_import import DEFAULT_PATH, import_catalogue
from services.intake.national_records import curated_codes, parse_time_limit, read_records
from services.models import Procedure, ProcedureVersion, WorkflowTemplate
from tests.factories import create_agency, create_procedure_version, unique

PROBLEM = "application/problem+json"
DAY1 = date(2026, 11, 2)
DAY2 = date(2026, 11, 20)
DAY3 = date(2026, 12, 1)


def token() -> str:
    """A made-up word no real procedure contains, so a search sees only this test's records."""
    return f"qz{uuid.uuid4().hex[:8]}"


def detailed(code: str, name: str, *, field: str = "Hộ tịch", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "code": code,
        "name": name,
        "fields": [field],
        "departments": ["Ủy ban nhân dân cấp xã"],
        "published_by": "UBND tỉnh Thử Nghiệm",
        "target": ["Công dân Việt Nam"],
        "state": "ACTIVE",
        "type": "SPECIFIC",
        "levels": ["commune"],
        "full_online": False,
        "offline_only": False,
        "methods": [
            {
                "channel": "DIRECT",
                "time": "Không quá 10 ngày làm việc. Xã miền núi được tăng thêm không quá 05 ngày làm việc.",
                "unit": "OTHER",
                "fees": [{"type": "FEE", "vnd": 50000}, {"type": "SERVICE_FEE", "vnd": None}],
            },
            {"channel": "POSTAL", "time": 10, "unit": "WORKING_DAY", "fees": []},
        ],
        "documents": ["Tờ khai theo mẫu", "Bản sao giấy tờ tùy thân"],
        "returning": [{"type": "OFFLINE", "value": ["AT_HOME", "AT_SUBMISSION_PLACE"]}],
    }
    record.update(overrides)
    return record


def bare(code: str, name: str, *, field: str = "Hộ tịch", departments: list[str] | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "fields": [field],
        "departments": departments if departments is not None else ["Bộ Tư pháp"],
        "published_by": "Bộ Tư pháp",
        "target": ["Công dân Việt Nam"],
        "state": "UPDATED",
        "type": "STANDARD",
    }


async def versions_of(session: AsyncSession, code: str) -> list[ProcedureVersion]:
    return list(
        (
            await session.scalars(
                select(ProcedureVersion)
                .join(Procedure)
                .where(Procedure.code == code)
                .order_by(ProcedureVersion.version)
                .execution_options(populate_existing=True)
            )
        ).all()
    )


async def search(session: AsyncSession, today: date, **params: Any) -> list[str]:
    page = await search_procedures(session, CatalogueQuery(**params), today=today)
    return [item.code for item in page.items]


# --- the import ------------------------------------------------------------------------------------


async def test_the_shipped_catalogue_imports_once_and_a_second_run_changes_nothing(session: AsyncSession) -> None:
    records = read_records(DEFAULT_PATH)
    assert len(records) == 5670
    first = await import_catalogue(session, records, today=DAY1, reserved=curated_codes())
    assert first.created >= 5600
    assert first.local >= 26  # the curated demo procedures are left to the demo data
    page = await search_procedures(session, CatalogueQuery(limit=1), today=DAY1)
    assert page.total >= 5000

    second = await import_catalogue(session, records, today=DAY1, reserved=curated_codes())
    assert (second.created, second.updated, second.ended) == (0, 0, 0)
    assert second.unchanged == first.created
    assert "0 new, 0 new versions, 0 ended" in second.summary()

    # a procedure of the file, found by its exact code, first
    found = await search_procedures(session, CatalogueQuery(q="1.115808"), today=DAY1)
    assert found.items[0].code == "1.115808"
    assert found.items[0].information_only is True


async def test_a_changed_record_gets_a_new_version_and_a_removed_one_ends(session: AsyncSession) -> None:
    word = token()
    code, other = unique("N."), unique("N.")
    records = [detailed(code, f"Đăng ký {word} lần đầu"), bare(other, f"Xác nhận {word}")]
    await import_catalogue(session, records, today=DAY1)

    changed = copy.deepcopy(records)
    changed[0]["documents"] = ["Tờ khai theo mẫu mới"]
    report = await import_catalogue(session, changed, today=DAY2)
    assert (report.created, report.updated, report.ended) == (0, 1, 0)
    first, second = await versions_of(session, code)
    assert (first.valid_from, first.valid_to) == (DAY1, DAY2)
    assert (second.version, second.valid_from, second.valid_to) == (2, DAY2, None)
    before = await get_procedure(session, code, today=DAY1)
    after = await get_procedure(session, code, today=DAY2)
    assert [d.name for d in before.required_documents] == ["Tờ khai theo mẫu", "Bản sao giấy tờ tùy thân"]
    assert [d.name for d in after.required_documents] == ["Tờ khai theo mẫu mới"]
    assert after.versions[0].valid_to == DAY2

    # the other one leaves the file: it ends (nothing deleted) and the search stops finding it
    report = await import_catalogue(session, changed[:1], today=DAY3)
    assert report.ended >= 1
    (only,) = await versions_of(session, other)
    assert only.valid_to == DAY3
    assert await search(session, DAY3, q=word) == [code]
    assert sorted(await search(session, DAY2, q=word)) == sorted([code, other])  # the day before: both
    with pytest.raises(NotFound) as gone:
        await get_procedure(session, other, today=DAY3)
    assert gone.value.code == "procedure_not_in_force"

    # a state other than ACTIVE/UPDATED ends it too; coming back opens version 2
    abolished = copy.deepcopy(changed[0]) | {"state": "ABOLISHED"}
    assert (await import_catalogue(session, [abolished, records[1]], today=DAY3 + timedelta(days=1))).ended == 1
    assert await search(session, DAY3 + timedelta(days=1), q=word) == [other]
    (_, back) = await versions_of(session, other)
    assert (back.version, back.valid_from) == (2, DAY3 + timedelta(days=1))


async def test_local_procedures_win_over_the_national_record(session: AsyncSession) -> None:
    local = await create_procedure_version(session)  # created here (not by the import): origin local
    code = (await session.get_one(Procedure, local.procedure_id)).code
    reserved = unique("R.")
    report = await import_catalogue(
        session, [detailed(code, "Tên khác từ CSDL quốc gia"), bare(reserved, "Thủ tục mẫu")], today=DAY1,
        reserved={reserved},
    )  # fmt: skip
    assert report.local == 2
    assert report.created == 0
    versions = await versions_of(session, code)
    assert len(versions) == 1
    assert versions[0].source.get("origin") != "national"
    assert await session.scalar(select(Procedure.id).where(Procedure.code == reserved)) is None


def test_time_limits_are_read_only_when_the_record_states_one() -> None:
    assert parse_time_limit(10, "WORKING_DAY") == (10, "working_days")
    assert parse_time_limit(15.0, "DAY") == (15, "days")
    assert parse_time_limit(0.5, "WORKING_DAY") is None  # not rounded
    assert parse_time_limit("Không quá 20 ngày làm việc; tăng thêm không quá 10 ngày", "OTHER") == (20, "working_days")
    assert parse_time_limit("Bước 2: 05 ngày làm việc. Bước 3: 10 ngày làm việc", "OTHER") is None
    assert parse_time_limit("Theo quy định", "OTHER") is None
    assert parse_time_limit(7, "OTHER") is None


async def test_a_local_workflow_and_a_working_time_limit_make_a_national_procedure_receivable(
    session: AsyncSession,
) -> None:
    word = token()
    timed, untimed = unique("N."), unique("N.")
    await import_catalogue(
        session, [detailed(timed, f"Có quy trình {word}"), bare(untimed, f"Chưa có {word}")], today=DAY1
    )
    for code in (timed, untimed):
        (version,) = await versions_of(session, code)
        session.add(WorkflowTemplate(procedure_version_id=version.id, name="Quy trình tại địa phương", active=True))
    await session.flush()
    assert await search(session, DAY1, q=word, information_only=False) == [timed]
    assert (await get_procedure(session, timed, today=DAY1)).information_only is False
    untimed_detail = await get_procedure(session, untimed, today=DAY1)
    assert untimed_detail.information_only is True  # its clocks could not run: "time limit unknown"
    assert untimed_detail.information_only_reason == "no_working_time_limit"


# --- search ----------------------------------------------------------------------------------------


async def test_ranking_exact_code_then_name_then_field(session: AsyncSession) -> None:
    word = token()
    by_field, in_name, starts, exact = (unique("N.") for _ in range(4))
    records = [
        bare(by_field, "Thủ tục không có từ đó", field=f"Lĩnh vực {word}"),
        bare(in_name, f"Cấp lại giấy phép {word}"),
        bare(starts, f"{word} đăng ký"),
        bare(exact, f"Thủ tục có mã {in_name} trong tên"),
    ]
    await import_catalogue(session, records, today=DAY1)
    assert await search(session, DAY1, q=word) == [starts, in_name, by_field]
    assert (await search(session, DAY1, q=in_name))[:2] == [in_name, exact]


async def test_search_ignores_accents_and_capitals(session: AsyncSession) -> None:
    word = token()
    code = unique("N.")
    await import_catalogue(session, [bare(code, f"Đăng ký kết hôn có yếu tố nước ngoài {word}")], today=DAY1)
    for query in (f"đăng ký kết hôn {word}", f"DANG KY KET HON {word.upper()}", f"dang ky ket hon {word}"):
        assert await search(session, DAY1, q=query) == [code], query


async def test_filters_level_field_department_online_mode(session: AsyncSession) -> None:
    word = token()
    commune, ministry, full = unique("N."), unique("N."), unique("N.")
    await import_catalogue(
        session,
        [
            detailed(commune, f"Chứng thực {word}", field="Chứng thực"),
            bare(ministry, f"Cấp phép {word}", field="Hàng hải", departments=["Cục Hàng hải và Đường thủy Việt Nam"]),
            detailed(full, f"Liên thông {word}", levels=["province"], full_online=True,
                     departments=["Sở Tư pháp"]),
        ],
        today=DAY1,
    )  # fmt: skip
    assert await search(session, DAY1, q=word, level="commune") == [commune]
    assert await search(session, DAY1, q=word, level="ministry") == [ministry]  # derived from "Cục …"
    assert await search(session, DAY1, q=word, field="Hàng hải") == [ministry]
    assert await search(session, DAY1, q=word, department="Sở Tư pháp") == [full]
    assert await search(session, DAY1, q=word, online_mode="full") == [full]
    assert sorted(await search(session, DAY1, q=word, information_only=True)) == sorted([commune, ministry, full])
    assert await search(session, DAY1, q=word, information_only=False) == []


# --- over HTTP: the information-only page, refused submission, public lists -----------------------


@pytest.fixture
async def imported(session: AsyncSession) -> tuple[str, str, str]:
    """Two national procedures imported today (session, for the app to see) and their search word."""
    word = token()
    info, plain = unique("N."), unique("N.")
    await import_catalogue(
        session,
        [detailed(info, f"Cấp bản sao trích lục {word}"), bare(plain, f"Xác nhận {word}", departments=[])],
        today=local_today(datetime.now(UTC)),
    )
    await session.commit()
    return word, info, plain


async def test_an_information_only_procedure_shows_where_to_go_and_refuses_online_submission(
    intake: httpx.AsyncClient, imported: tuple[str, str, str]
) -> None:
    word, info, plain = imported
    detail = (await intake.get(f"/api/v1/procedures/{info}")).json()
    assert detail["information_only"] is True
    assert detail["information_only_reason"] == "no_local_workflow"
    assert detail["origin"] == "national"
    assert detail["departments"] == ["Ủy ban nhân dân cấp xã"]
    assert detail["time_limit"] == {"value": 10, "unit": "working_days"}
    assert detail["time_limit_note"].startswith("Không quá 10 ngày làm việc")
    assert [d["name"] for d in detail["required_documents"]] == ["Tờ khai theo mẫu", "Bản sao giấy tờ tùy thân"]
    assert [(f["kind"], f["amount_vnd"]) for f in detail["fees"]] == [("lệ phí", 50000), ("phí", None)]
    assert detail["postal_return"] is True
    assert detail["levels"] == ["commune"]

    unknown = (await intake.get(f"/api/v1/procedures/{plain}")).json()
    assert unknown["details_published"] is False
    assert unknown["time_limit"] == {"value": 0, "unit": "unknown"}
    assert unknown["online_mode"] == "unknown"

    body = {
        "procedure_code": info,
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": "031190004567", "phone": "0912345678"},
        "return_method": "counter",
    }
    refused = await intake.post("/api/v1/dossiers", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "procedure_information_only"

    page = (await intake.get("/api/v1/procedures", params={"q": word, "information_only": "true"})).json()
    assert {item["code"] for item in page["items"]} == {info, plain}
    assert all(item["information_only"] for item in page["items"])


async def test_public_filter_choices_and_agencies(
    intake: httpx.AsyncClient, imported: tuple[str, str, str], session: AsyncSession
) -> None:
    agency = await create_agency(session, level="commune")
    await session.commit()
    facets = (await intake.get("/api/v1/catalogue/facets")).json()
    assert facets["total"] >= 2
    departments = {entry["name"]: entry["count"] for entry in facets["departments"]}
    assert departments["Ủy ban nhân dân cấp xã"] >= 1
    assert "" not in departments
    assert "Hộ tịch" in {entry["name"] for entry in facets["fields"]}
    assert "commune" in {entry["name"] for entry in facets["levels"]}

    listed = (await intake.get("/api/v1/catalogue/agencies")).json()
    mine = next(entry for entry in listed if entry["code"] == agency.code)
    # nothing else, nothing personal: the desk's own address and postal hours, null while unset
    assert set(mine) == {"code", "name", "level", "one_stop_desk", "street_address", "postal_hours"}
    assert mine["level"] == "commune"
    assert (mine["street_address"], mine["postal_hours"]) == (None, None)
    agency.street_address = "Số 5 Trần Phú, phường Ngô Quyền, Hải Phòng"
    agency.postal_hours = "Thứ Hai–Thứ Sáu 7:30–11:30, 13:30–17:00"
    await session.commit()
    listed = (await intake.get("/api/v1/catalogue/agencies")).json()
    mine = next(entry for entry in listed if entry["code"] == agency.code)
    assert mine["street_address"] == "Số 5 Trần Phú, phường Ngô Quyền, Hải Phòng"
    assert mine["postal_hours"] == "Thứ Hai–Thứ Sáu 7:30–11:30, 13:30–17:00"
