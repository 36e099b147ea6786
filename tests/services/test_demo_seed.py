"""The demo data loader against the real database: accounts, catalogue, workflows, idempotency."""

from __future__ import annotations

import hashlib
import json
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.core.auth import verify_password
from services.demo.directory import DEMO_ACCOUNTS, DEMO_AGENCIES
from services.demo.procedures import apportion, approve_share, load_procedure_records, parse_working_days
from services.demo.seed import load_demo_data
from services.models import (
    Agency,
    AgencyLevel,
    Procedure,
    ProcedureAgency,
    ProcedureDocument,
    ProcedureFee,
    ProcedureVersion,
    Role,
    Staff,
    StaffRole,
    WorkflowStep,
    WorkflowTemplate,
    WorkingCalendar,
)
from services.workflow.templates import check_stored_template

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN_USERNAMES = {"admin", "tiepnhan", "chuyenvien", "lanhdao", "tiepnhan.xa", "chuyenvien.xa", "lanhdao.xa"}
CENTRE_CODE = "000.00.01.H26"
WARD_CODES = {"000.00.31.H26", "000.00.32.H26"}


def _eligible_records() -> list[dict[str, Any]]:
    # read the shipped file directly, not through the loader, so a loader bug cannot hide here
    data = json.loads((REPO_ROOT / "services/demo/data/procedures.json").read_text(encoding="utf-8"))
    return [
        record
        for record in data["procedures"]
        if record["time_limit"]["value"] is not None and record["time_limit"]["unit"] == "working_days"
    ]


async def _version(session: AsyncSession, code: str) -> ProcedureVersion:
    return (
        await session.scalars(
            select(ProcedureVersion)
            .join(Procedure)
            .where(Procedure.code == code, ProcedureVersion.version == 1)
            .options(
                selectinload(ProcedureVersion.documents),
                selectinload(ProcedureVersion.fees),
                selectinload(ProcedureVersion.agencies).selectinload(ProcedureAgency.agency),
            )
        )
    ).one()


async def _steps(session: AsyncSession, version: ProcedureVersion) -> list[WorkflowStep]:
    template = (
        await session.scalars(
            select(WorkflowTemplate)
            .where(WorkflowTemplate.procedure_version_id == version.id)
            .options(selectinload(WorkflowTemplate.steps))
        )
    ).one()
    return list(template.steps)


def _share(step: WorkflowStep) -> Decimal:
    # the column is NUMERIC: asyncpg hands back a Decimal whatever the annotation says
    return Decimal(step.share_value)


async def _agency_code(session: AsyncSession, agency_id: object) -> str | None:
    if agency_id is None:
        return None
    return (await session.scalars(select(Agency.code).where(Agency.id == agency_id))).one()


def test_the_shipped_data_is_a_copy_of_the_shared_reference() -> None:
    shared = REPO_ROOT.parent / "shared/data/procedures.json"
    shipped = REPO_ROOT / "services/demo/data/procedures.json"
    assert shipped.is_file()
    if shared.is_file():  # ../shared exists only on the development machine
        assert hashlib.sha256(shipped.read_bytes()).digest() == hashlib.sha256(shared.read_bytes()).digest()
    assert len(load_procedure_records()) == 29


def test_time_is_split_in_half_days_keeping_the_total() -> None:
    assert [approve_share(Decimal(days)) for days in (1, 2, 3, 7, 10, 12, 20)] == [
        Decimal(share) for share in ("0.5", "0.5", "0.5", "1.5", "2", "2.5", "4")
    ]
    assert parse_working_days("tối đa 02 ngày làm việc; cần xác minh không quá 05 ngày") == Decimal(2)
    assert parse_working_days("ngay trong ngày làm việc") is None
    # stated times fit: the rest goes evenly to the others, the earlier ones first
    assert apportion(Decimal("6.5"), [None, Decimal(2), None]) == [Decimal("2.5"), Decimal(2), Decimal(2)]
    # all stated with time left: the first partner gets it
    assert apportion(Decimal(5), [Decimal(1), Decimal(2)]) == [Decimal(3), Decimal(2)]
    # stated times overlap (parallel steps): shared in proportion
    assert apportion(Decimal("2.5"), [None, Decimal(2), Decimal(2), None]) == [
        Decimal(1),
        Decimal("0.5"),
        Decimal("0.5"),
        Decimal("0.5"),
    ]


async def test_demo_accounts_sign_in_with_password_demo(session: AsyncSession) -> None:
    await load_demo_data(session)

    assert {account.username for account in DEMO_ACCOUNTS} >= DESIGN_USERNAMES
    for account in DEMO_ACCOUNTS:
        staff = (
            await session.scalars(
                select(Staff).where(Staff.username == account.username).options(selectinload(Staff.roles))
            )
        ).one()
        assert verify_password(staff.password_hash, "demo"), account.username
        assert not verify_password(staff.password_hash, "Demo")
        assert {role.role_code for role in staff.roles} == set(account.roles)
        assert await _agency_code(session, staff.agency_id) == account.agency_code
        assert staff.email == f"{account.username}@demo.motcua.vn"
        assert staff.active

    by_name = {account.username: account for account in DEMO_ACCOUNTS}
    assert by_name["tiepnhan"].agency_code == CENTRE_CODE
    assert (
        by_name["tiepnhan.xa"].agency_code == by_name["chuyenvien.xa"].agency_code == by_name["lanhdao.xa"].agency_code
    )
    assert by_name["tiepnhan.xa"].agency_code in WARD_CODES
    assert set(by_name["lanhdao.xa"].roles) == {"head", "leader"}
    assert by_name["chuyenvien"].agency_code == by_name["lanhdao"].agency_code
    roles = set((await session.scalars(select(Role.code))).all())
    assert roles >= {"admin", "counter", "specialist", "head", "leader", "inspector"}


async def test_agency_tree_has_a_centre_departments_and_ward_desks(session: AsyncSession) -> None:
    # other tests commit factory levels into the shared test database; the seed leaves those alone
    before = set((await session.scalars(select(AgencyLevel.code))).all())
    report = await load_demo_data(session)

    levels = {level.code: level for level in (await session.scalars(select(AgencyLevel))).all()}
    expected_ranks = {"province": 0, "department": 1, "commune": 1, "unit": 2}
    assert set(expected_ranks) <= set(levels)
    inserted = set(expected_ranks) - before
    assert report.agency_levels == len(inserted)
    for code in inserted:
        assert levels[code].rank == expected_ranks[code]
        assert levels[code].valid_from == date(2025, 7, 1)

    codes = [agency.code for agency in DEMO_AGENCIES]
    agencies = {agency.code: agency for agency in (await session.scalars(select(Agency).where(Agency.code.in_(codes))))}
    assert len(agencies) == len(DEMO_AGENCIES)
    root = agencies["000.00.00.H26"]
    assert root.parent_id is None
    assert root.level_code == "province"
    centre = agencies[CENTRE_CODE]
    assert centre.is_one_stop_desk
    assert centre.parent_id == root.id
    wards = [agency for agency in agencies.values() if agency.level_code == "commune"]
    assert {ward.code for ward in wards} == WARD_CODES
    assert all(ward.is_one_stop_desk for ward in wards)
    departments = {agency.name for agency in agencies.values() if agency.level_code == "department"}
    for name in ("Sở Tư pháp", "Sở Nông nghiệp và Môi trường", "Sở Xây dựng", "Sở Tài chính", "Sở Y tế", "Sở Nội vụ"):
        assert any(department.startswith(name) for department in departments), name
    land_office = agencies["000.01.03.H26"]
    assert land_office.parent_id == agencies["000.00.03.H26"].id
    assert land_office.level_code == "unit"
    assert all(agency.counter_cutoff == time(15, 0) for agency in agencies.values())

    calendars = (await session.scalars(select(WorkingCalendar).where(WorkingCalendar.agency_id.is_(None)))).all()
    assert len(calendars) == 1
    assert calendars[0].weekly_windows["mon"] == [["07:30", "11:30"], ["13:00", "17:00"]]
    assert "sat" not in calendars[0].weekly_windows


async def test_catalogue_size_fields_and_interagency(session: AsyncSession) -> None:
    report = await load_demo_data(session)
    eligible = _eligible_records()

    codes = [str(record["code"]) for record in eligible]
    rows = (
        await session.execute(
            select(Procedure.code, Procedure.field, ProcedureVersion.interagency, ProcedureVersion.published)
            .join(ProcedureVersion)
            .where(Procedure.code.in_(codes))
        )
    ).all()
    assert sorted(code for code, *_ in rows) == sorted(codes)
    assert len(rows) >= 20
    assert len({field for _, field, _, _ in rows}) >= 6
    assert sum(1 for *_, interagency, _ in rows if interagency) >= 3
    assert all(published for *_, published in rows)

    assert dict(report.skipped).keys() == {"2.002913", "2.000591", "3.000333"}
    assert "days" in dict(report.skipped)["3.000333"]
    skipped_present = await session.scalar(
        select(func.count()).select_from(Procedure).where(Procedure.code.in_(["2.002913", "2.000591", "3.000333"]))
    )
    assert skipped_present == 0


async def test_birth_registration_matches_the_source(session: AsyncSession) -> None:
    await load_demo_data(session)
    record = next(record for record in _eligible_records() if record["code"] == "1.001193")

    version = await _version(session, "1.001193")
    assert (version.time_limit_value, version.time_limit_unit) == (1, "working_days")
    assert version.valid_from == date(2025, 7, 1)
    assert version.online_mode == "full"
    assert version.cutoff_rule is True
    assert version.interagency is False
    assert version.postal_return is False  # unknown in the source
    assert version.source["postal_return_unknown"] is True
    assert version.source["id"] == "P01"
    assert version.source["same_day"] is True
    assert "Luật Hộ tịch 60/2014/QH13" in version.legal_basis
    assert [(fee.kind, fee.amount_vnd) for fee in version.fees] == [("lệ phí", 0), ("phí", 8000)]
    assert [(doc.code, doc.mandatory, doc.form) for doc in version.documents] == [
        (f"D{position:02d}", document["mandatory"], document["form"])
        for position, document in enumerate(record["documents"], start=1)
    ]
    roles = {(agency.agency.code, agency.role) for agency in version.agencies}
    assert roles == {(code, role) for code in WARD_CODES for role in ("receiving", "resolving")}

    steps = await _steps(session, version)
    assert [(step.code, step.role_code, _share(step)) for step in steps] == [
        ("receive", "counter", Decimal("0")),
        ("appraise", "specialist", Decimal("0.5")),
        ("approve", "head", Decimal("0.5")),
        ("return", "counter", Decimal("0")),
    ]
    assert all(step.agency_id is None for step in steps)  # the ward that receives the dossier
    assert steps[1].allowed_actions == [
        "forward",
        "send_back",
        "request_supplement",
        "request_payment",
        "transfer",
        "stop",
        "withdraw",
    ]


async def test_same_day_and_province_procedures(session: AsyncSession) -> None:
    await load_demo_data(session)

    copy_certification = await _version(session, "2.000815")
    assert copy_certification.time_limit_value == 0
    assert copy_certification.source["same_day"] is True
    assert [fee.amount_vnd for fee in copy_certification.fees] == [2000]
    steps = await _steps(session, copy_certification)
    # 4 tại chỗ: the ward's delegated counter officer resolves and returns it in one visit
    assert [(step.code, step.role_code, _share(step)) for step in steps] == [
        ("resolve_at_desk", "on_the_spot", Decimal("0"))
    ]
    template = await session.scalar(
        select(WorkflowTemplate).where(WorkflowTemplate.procedure_version_id == copy_certification.id)
    )
    assert template is not None
    assert template.on_the_spot is True
    assert await check_stored_template(session, template.id) == []

    private_enterprise = await _version(session, "2.001610")
    assert (private_enterprise.time_limit_value, private_enterprise.online_mode) == (3, "full")
    assert [(fee.kind, fee.amount_vnd) for fee in private_enterprise.fees] == [("phí", 100000)]
    roles = {(agency.agency.code, agency.role) for agency in private_enterprise.agencies}
    assert roles == {(CENTRE_CODE, "receiving"), ("000.00.05.H26", "resolving")}  # Sở Tài chính
    steps = await _steps(session, private_enterprise)
    assert [await _agency_code(session, step.agency_id) for step in steps] == [
        None,
        "000.00.05.H26",
        "000.00.05.H26",
        None,
    ]

    residence = await _version(session, "1.004222")  # 7 days: approval 1.4 → 1.5 days
    assert [_share(step) for step in await _steps(session, residence)] == [
        Decimal("0"),
        Decimal("5.5"),
        Decimal("1.5"),
        Decimal("0"),
    ]
    foreign_marriage = await _version(session, "2.000806")
    assert foreign_marriage.postal_return is False
    assert foreign_marriage.online_mode == "partial"
    signature = await _version(session, "2.000884")
    assert signature.online_mode == "none"
    assert signature.postal_submission is False


async def test_interagency_procedures_route_through_their_partners(session: AsyncSession) -> None:
    await load_demo_data(session)

    land_change = await _version(session, "1.013831")  # 8 days: land office, tax, land office
    assert land_change.interagency
    steps = await _steps(session, land_change)
    assert [(step.code, await _agency_code(session, step.agency_id), _share(step)) for step in steps] == [
        ("receive", None, Decimal("0")),
        ("interagency_1", "000.01.03.H26", Decimal("2.5")),
        ("interagency_2", "000.00.09.H26", Decimal("2")),
        ("interagency_3", "000.01.03.H26", Decimal("2")),
        ("approve", "000.01.03.H26", Decimal("1.5")),
        ("return", None, Decimal("0")),
    ]
    assert steps[2].role_code == "specialist"
    assert steps[2].allowed_actions == ["forward", "send_back", "request_supplement", "request_payment", "stop"]
    roles = {(agency.agency.code, agency.role) for agency in land_change.agencies}
    assert ("000.00.09.H26", "coordinating") in roles  # Thuế thành phố
    assert ("000.01.03.H26", "resolving") in roles

    first_registration = await _version(session, "1.013978")  # the chairman signs in the stated 3 days
    shares = {step.code: _share(step) for step in await _steps(session, first_registration)}
    assert shares["approve"] == Decimal("3")
    assert shares["interagency_2"] == Decimal("5")  # survey: "không quá 05 ngày làm việc"

    birth_group = await _version(session, "3.000722")
    agencies = [await _agency_code(session, step.agency_id) for step in await _steps(session, birth_group)]
    assert "000.00.10.H26" in agencies  # Công an thành phố
    assert "000.00.11.H26" in agencies  # Bảo hiểm xã hội


async def test_every_template_shares_add_up_to_the_time_limit(session: AsyncSession) -> None:
    await load_demo_data(session)

    templates = (
        await session.scalars(
            select(WorkflowTemplate)
            .options(selectinload(WorkflowTemplate.steps))
            .join(ProcedureVersion)
            .join(Procedure)
            .where(Procedure.code.in_([str(record["code"]) for record in _eligible_records()]))
        )
    ).all()
    assert len(templates) == len(_eligible_records())
    limits = dict((await session.execute(select(ProcedureVersion.id, ProcedureVersion.time_limit_value))).all())
    for template in templates:
        assert template.name.startswith("Quy trình ")
        assert [step.position for step in template.steps] == list(range(1, len(template.steps) + 1))
        assert all(step.share_unit == "working_days" for step in template.steps)
        assert all(_share(step) >= 0 and _share(step) * 2 % 1 == 0 for step in template.steps)
        assert sum(_share(step) for step in template.steps) == limits[template.procedure_version_id]
        first, last = template.steps[0], template.steps[-1]
        if len(template.steps) == 1:
            assert first.code == "resolve_at_desk"
        else:
            assert (first.code, first.role_code, first.agency_id) == ("receive", "counter", None)
            assert (last.code, last.role_code, last.agency_id) == ("return", "counter", None)
            assert last.allowed_actions == ["return_result", "apologize"]


async def _row_counts(session: AsyncSession) -> dict[str, int]:
    models = (
        AgencyLevel,
        Agency,
        Role,
        Staff,
        StaffRole,
        Procedure,
        ProcedureVersion,
        ProcedureDocument,
        ProcedureFee,
        ProcedureAgency,
        WorkflowTemplate,
        WorkflowStep,
        WorkingCalendar,
    )
    return {
        model.__tablename__: (await session.scalar(select(func.count()).select_from(model))) or 0 for model in models
    }


async def test_loading_twice_inserts_nothing_the_second_time(session: AsyncSession) -> None:
    first = await load_demo_data(session)
    after_first = await _row_counts(session)

    second = await load_demo_data(session)

    assert first.inserted > 0
    assert first.staff == len(DEMO_ACCOUNTS)
    assert first.agencies == len(DEMO_AGENCIES)
    assert first.procedures == len(_eligible_records()) == first.workflow_templates
    assert first.calendars == 1
    assert second.counts() == dict.fromkeys(first.counts(), 0)
    assert second.inserted == 0
    assert second.skipped == first.skipped
    assert await _row_counts(session) == after_first
    assert "nothing" in second.summary()


async def test_a_partly_loaded_database_gets_only_what_is_missing(session: AsyncSession) -> None:
    await load_demo_data(session)
    version = await _version(session, "1.001193")
    # database-side cascades take the steps and the staff roles along
    await session.execute(delete(WorkflowTemplate).where(WorkflowTemplate.procedure_version_id == version.id))
    await session.execute(delete(Staff).where(Staff.username == "tiepnhan.xa"))
    session.expunge_all()

    again = await load_demo_data(session)

    assert (again.workflow_templates, again.workflow_steps, again.staff) == (1, 4, 1)
    assert again.procedures == again.procedure_versions == again.agencies == 0


async def test_the_demo_desks_have_an_address_and_postal_hours_which_a_re_run_leaves_as_edited(
    session: AsyncSession,
) -> None:
    await load_demo_data(session)
    desks = {
        agency.code: agency
        for agency in await session.scalars(select(Agency).where(Agency.code.in_([CENTRE_CODE, *WARD_CODES])))
    }
    assert len(desks) == 3
    for desk in desks.values():
        assert "Hải Phòng" in (desk.street_address or "")
        assert desk.postal_hours == "Thứ Hai–Thứ Sáu 7:30–11:30, 13:30–17:00"

    # an administrator moves a ward's desk and changes its hours: loading again keeps their edit
    ward = desks[sorted(WARD_CODES)[0]]
    ward.street_address, ward.postal_hours = "Số 9 Điện Biên Phủ, thành phố Hải Phòng", "Thứ Hai–Thứ Bảy 8:00–11:00"
    await session.flush()
    again = await load_demo_data(session)
    assert again.agencies == 0
    await session.refresh(ward)
    assert (ward.street_address, ward.postal_hours) == (
        "Số 9 Điện Biên Phủ, thành phố Hải Phòng",
        "Thứ Hai–Thứ Bảy 8:00–11:00",
    )


async def test_every_step_of_every_demo_workflow_has_someone_to_do_it(session: AsyncSession) -> None:
    """Liên thông partners and resolving departments are staffed: no demo dossier waits for nobody."""
    await load_demo_data(session)
    holders = {
        (agency_id, role)
        for agency_id, role in (
            await session.execute(
                select(Staff.agency_id, StaffRole.role_code)
                .join(StaffRole, StaffRole.staff_id == Staff.id)
                .where(Staff.active.is_(True))
            )
        ).all()
    }
    # only the demo's own data: other tests share this database and add agencies and templates of their own
    demo_wards = [agency.code for agency in DEMO_AGENCIES if agency.level == "commune"]
    # steps without an agency belong to commune-level procedures: they run at the ward that received the dossier
    wards = list(await session.scalars(select(Agency.id).where(Agency.code.in_(demo_wards))))
    codes = [str(record["code"]) for record in _eligible_records()]
    steps = (
        await session.execute(
            select(WorkflowStep.code, WorkflowStep.agency_id, WorkflowStep.role_code)
            .join(WorkflowTemplate, WorkflowTemplate.id == WorkflowStep.template_id)
            .join(ProcedureVersion, ProcedureVersion.id == WorkflowTemplate.procedure_version_id)
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .where(Procedure.code.in_(codes), WorkflowTemplate.version == 1, ProcedureVersion.version == 1)
        )
    ).all()
    assert steps
    unstaffed = [
        (code, role)
        for code, agency_id, role in steps
        for agency in ([agency_id] if agency_id else wards)
        if (agency, role) not in holders
    ]
    assert unstaffed == []
