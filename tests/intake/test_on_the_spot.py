"""4 tại chỗ: a delegated counter officer receives, decides and returns a simple procedure in one visit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app as create_intake
from services.calendar.receipt import Channel
from services.calendar.working import VN_TZ
from services.core.auth import Actor
from services.core.config import Settings
from services.dossier import lifecycle
from services.dossier.steps import allowed_actions
from services.models import Dossier, Staff
from services.sla.clocks import WarningPolicy
from services.workflow.engine import start_routing
from services.workflow.template_rules import StepSpec, template_problems
from tests.apps import new_client
from tests.factories import create_agency, create_dossier, create_staff
from tests.intake.setup import PDF, Desk, create_desk, submission
from tests.pdf import pdf_text
from tests.workflow_setup import add_template

Bearer = Callable[..., dict[str, Any]]
VISIT = datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ)  # a Monday morning at a ward's desk


@dataclass
class SpotDesk:
    desk: Desk
    signer: Staff  # counter officer with the delegation
    leader: Staff


@pytest.fixture
async def spot(session: AsyncSession) -> SpotDesk:
    desk = await create_desk(session, days=0)  # "trong ngày", like a certified copy
    template = await add_template(
        session, desk.version, [("resolve_at_desk", None, "on_the_spot", 0, ["resolve", "return_result"])]
    )
    template.on_the_spot = True
    signer = await create_staff(session, agency=desk.agency, roles=("counter", "on_the_spot"))
    leader = await create_staff(session, agency=desk.agency, roles=("leader",))
    await session.commit()
    return SpotDesk(desk=desk, signer=signer, leader=leader)


def approval(desk: Desk, **overrides: Any) -> dict[str, Any]:
    return {
        **submission(desk),
        "decision": "approve",
        "result_note": "01 bản sao chứng thực từ bản chính Giấy khai sinh",
        **overrides,
    }


async def test_resolved_and_returned_in_one_visit_counted_early(
    intake: httpx.AsyncClient,
    workflow: httpx.AsyncClient,
    spot: SpotDesk,
    bearer: Bearer,
    travel: Callable[[datetime], None],
) -> None:
    travel(VISIT)
    headers = {**bearer(spot.signer), "Idempotency-Key": "spot-1"}
    answer = await intake.post(
        "/api/v1/counter/dossiers/on-the-spot",
        headers=headers,
        data={"data": json.dumps(approval(spot.desk))},
        files=[
            ("D01", ("ban-chinh.pdf", PDF, "application/pdf")),
            ("result", ("ban-sao-chung-thuc.pdf", PDF, "application/pdf")),
        ],
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    code, secret = body["code"], body["secret"]
    assert body["status"] == "returned"
    assert body["decision"] == "approve"
    assert body["outcome"] == "early"
    assert body["received_at"] == body["resolved_at"] == body["returned_at"]
    assert sorted(d["kind"] for d in body["documents"]) == ["input", "result"]

    replay = await intake.post(
        "/api/v1/counter/dossiers/on-the-spot",
        headers=headers,
        data={"data": json.dumps(approval(spot.desk))},
        files=[
            ("D01", ("ban-chinh.pdf", PDF, "application/pdf")),
            ("result", ("ban-sao-chung-thuc.pdf", PDF, "application/pdf")),
        ],
    )
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["code"] == code
    assert replay.json()["secret"] == secret

    # the process control sheet: received, routed to the desk's one step, resolved and returned, the same minute
    sheet = await workflow.get(f"/api/v1/dossiers/{code}/timeline", headers=bearer(spot.signer))
    assert sheet.status_code == 200, sheet.text
    lines = sheet.json()
    assert [line["action"] for line in lines] == ["submit", "receive", "route", "resolve", "return_result"]
    assert {datetime.fromisoformat(line["at"]) for line in lines} == {VISIT}
    assert lines[3]["step_outcome"] == "early"
    assert lines[3]["comment"] == "01 bản sao chứng thực từ bản chính Giấy khai sinh"

    # the receipt (Mẫu 01) says the result was handed over on the spot
    receipt = await intake.post(
        f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={"secret": secret}, headers=bearer(spot.signer)
    )
    assert receipt.status_code == 200, receipt.text
    text = pdf_text(receipt.content)
    assert "Đã giải quyết và trả kết quả tại chỗ" in text
    assert "01 bản sao chứng thực từ bản chính Giấy khai sinh" in text

    # the citizen's tracking and the leader's statistics
    tracked = await intake.get(f"/api/v1/track/{code}", params={"secret": secret})
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["status"] == "returned"
    # the return says "on the spot" as a note code (said in the reader's language), not as a typed comment
    assert (tracked.json()["history"][-1]["note_code"], tracked.json()["history"][-1]["note"]) == (
        "returned_on_the_spot",
        "Đã giải quyết và trả kết quả tại chỗ cho công dân.",
    )
    assert (lines[4]["comment"], lines[4]["note_code"]) == (None, "returned_on_the_spot")
    stats = await workflow.get(
        "/api/v1/stats",
        params={"from": "2026-11-23", "to": "2026-11-23", "procedure": spot.desk.procedure_code},
        headers=bearer(spot.leader),
    )
    assert stats.status_code == 200, stats.text
    figures = stats.json()
    assert (figures["received"], figures["resolved_early"], figures["resolved_on_time"]) == (1, 1, 0)
    assert figures["on_time_rate"] == 100.0


async def test_refused_at_the_desk_with_reasons(
    intake: httpx.AsyncClient, spot: SpotDesk, bearer: Bearer, travel: Callable[[datetime], None]
) -> None:
    travel(VISIT)
    answer = await intake.post(
        "/api/v1/counter/dossiers/on-the-spot",
        headers=bearer(spot.signer),
        json={**submission(spot.desk), "decision": "refuse", "reasons": ["Bản chính bị tẩy xóa, sửa chữa"]},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "refused"
    assert answer.json()["outcome"] is None
    refusal = await intake.get(
        f"/api/v1/dossiers/{answer.json()['code']}/forms/refusal.pdf", headers=bearer(spot.signer)
    )
    assert refusal.status_code == 200, refusal.text
    assert "Bản chính bị tẩy xóa, sửa chữa" in pdf_text(refusal.content)


async def test_only_a_delegated_officer_of_the_desk_for_an_on_the_spot_procedure(
    intake: httpx.AsyncClient,
    spot: SpotDesk,
    bearer: Bearer,
    session: AsyncSession,
    travel: Callable[[datetime], None],
) -> None:
    travel(VISIT)
    url = "/api/v1/counter/dossiers/on-the-spot"
    plain = await intake.post(url, headers=bearer(spot.desk.officer), json=approval(spot.desk))
    assert plain.status_code == 403
    # past the gate (a token naming the delegation) but not a counter officer
    specialist = await intake.post(
        url, headers=bearer(spot.desk.specialist, ["specialist", "on_the_spot"]), json=approval(spot.desk)
    )
    assert (specialist.status_code, specialist.json()["code"]) == (403, "delegation_required")

    other = await create_agency(session, level="commune")
    elsewhere = await create_staff(session, agency=other, roles=("counter", "on_the_spot"))
    slow = await create_desk(session, days=3)
    await add_template(session, slow.version, [("appraise", None, "specialist", 3, ["resolve", "return_result"])])
    await session.commit()
    stranger = await intake.post(url, headers=bearer(elsewhere), json=approval(spot.desk))
    assert (stranger.status_code, stranger.json()["code"]) == (403, "agency_not_receiving")
    not_spot = await intake.post(url, headers=bearer(spot.signer), json=approval(slow))
    assert (not_spot.status_code, not_spot.json()["code"]) == (409, "not_on_the_spot")
    by_post = await intake.post(
        url,
        headers=bearer(spot.signer),
        json=approval(spot.desk, return_method="postal", postal_address="Số 5 Điện Biên Phủ, Hồng Bàng"),
    )
    assert (by_post.status_code, by_post.json()["code"]) == (422, "on_the_spot_counter_only")
    no_result = await intake.post(url, headers=bearer(spot.signer), json=approval(spot.desk, result_note=None))
    assert no_result.status_code == 422


def _spec(code: str, role: str, actions: tuple[str, ...], agency: str | None = None) -> StepSpec:
    return StepSpec(
        code=code, role=role, agency_code=agency, share_value=Decimal(0), share_unit="working_days", actions=actions
    )


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        (
            [_spec("receive", "counter", ("forward",)), _spec("sign", "on_the_spot", ("resolve", "return_result"))],
            "on_the_spot_steps",
        ),
        ([_spec("sign", "on_the_spot", ("resolve", "return_result"), agency="X")], "on_the_spot_unit"),
        ([_spec("sign", "counter", ("resolve", "return_result"))], "on_the_spot_role"),
        ([_spec("sign", "on_the_spot", ("resolve",))], "on_the_spot_actions"),
    ],
)
def test_an_on_the_spot_template_is_one_delegated_step_at_the_desk(steps: list[StepSpec], problem: str) -> None:
    def codes(on_the_spot: bool) -> list[str]:
        found = template_problems(
            steps,
            limit_value=0,
            limit_unit="working_days",
            known_roles=("counter", "on_the_spot"),
            known_agencies=("X",),
            on_the_spot=on_the_spot,
        )
        return [p.code for p in found]

    assert problem in codes(True)
    assert not [code for code in codes(False) if code.startswith("on_the_spot")]
    good = [_spec("sign", "on_the_spot", ("resolve", "return_result"))]
    assert template_problems(
        good, limit_value=0, limit_unit="working_days", known_roles=("on_the_spot",), known_agencies=(),
        on_the_spot=True,
    ) == []  # fmt: skip


async def test_online_the_slow_path_is_also_for_the_delegated_officer_only(session: AsyncSession) -> None:
    """An online dossier of an on-the-spot procedure walks the same single step: only the delegation resolves."""
    desk = await create_desk(session, days=0)
    template = await add_template(
        session, desk.version, [("resolve_at_desk", None, "on_the_spot", 0, ["resolve", "return_result"])]
    )
    template.on_the_spot = True
    signer = await create_staff(session, agency=desk.agency, roles=("counter", "on_the_spot"))
    dossier = await create_dossier(session, agency=desk.agency, version=desk.version, status="submitted")
    await lifecycle.receive(
        session, dossier, at=VISIT, channel=Channel.ONLINE, policy=WarningPolicy(), actor=None, source="intake"
    )
    assert await start_routing(session, dossier, at=VISIT, policy=WarningPolicy())
    assert dossier.current_assignee_id == signer.id  # the step is the delegation's

    def actor(staff: Staff) -> Actor:
        roles = frozenset(role.role_code for role in staff.roles)
        return Actor(subject=str(staff.id), username=staff.username, roles=roles, agency_id=staff.agency_id)

    assert await allowed_actions(session, dossier, actor(signer)) == ["resolve", "apologize", "withdraw"]
    assert "resolve" not in await allowed_actions(session, dossier, actor(desk.officer))


@pytest.mark.committed  # thirty requests at once, each on a connection of its own
async def test_a_button_pressed_many_times_at_once_resolves_one_dossier(
    settings: Settings, spot: SpotDesk, bearer: Bearer, session: AsyncSession, travel: Callable[[datetime], None]
) -> None:
    travel(VISIT)
    app = create_intake(settings.with_changes(db={"pool_timeout_seconds": 60.0}))
    headers = {**bearer(spot.signer), "Idempotency-Key": f"spot-{spot.desk.agency.code}"}
    async with app.router.lifespan_context(app), new_client(app) as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/counter/dossiers/on-the-spot", json=approval(spot.desk), headers=headers)
                for _ in range(30)
            )
        )
    assert {r.status_code for r in responses} == {201}, {
        r.status_code: r.text for r in responses if r.status_code != 201
    }
    assert len({r.json()["code"] for r in responses}) == 1
    stored = await session.scalar(select(func.count()).where(Dossier.receiving_agency_id == spot.desk.agency.id))
    assert stored == 1
