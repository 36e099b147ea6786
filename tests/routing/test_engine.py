"""The routing engine through the apps: received dossiers walk their templates, step clocks,
hand-overs, access control, conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.calendar.working import VN_TZ
from tests.intake.setup import submission
from tests.pdf import pdf_text
from tests.workflow_setup import World

Headers = Callable[[str], dict[str, str]]


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def body(world: World, key: str) -> dict[str, Any]:
    base = submission(world_desk(world, key))
    return base


def world_desk(world: World, key: str) -> Any:
    class Desk:
        procedure_code = world.codes[key]

    return Desk()


async def receive(clients: dict[str, httpx.AsyncClient], world: World, key: str, as_staff: Headers, relay: Any) -> str:
    created = await clients["intake"].post(
        "/api/v1/counter/dossiers", json=body(world, key), headers=as_staff("counter")
    )
    assert created.status_code == 201, created.text
    await relay()
    return str(created.json()["code"])


async def act(
    clients: dict[str, httpx.AsyncClient], code: str, who: str, as_staff: Headers, action: str, **extra: Any
) -> httpx.Response:
    return await clients["workflow"].post(
        f"/api/v1/dossiers/{code}/transitions", json={"action": action, **extra}, headers=as_staff(who)
    )


async def view(clients: dict[str, httpx.AsyncClient], code: str, who: str, as_staff: Headers) -> dict[str, Any]:
    response = await clients["workflow"].get(f"/api/v1/dossiers/{code}", headers=as_staff(who))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_single_agency_procedure_from_receipt_to_return(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = await receive(clients, world, "single", as_staff, relay)
    dossier = await view(clients, code, "specialist", as_staff)
    assert dossier["status"] == "processing"
    assert dossier["current_step"]["code"] == "appraise"
    assert datetime.fromisoformat(dossier["step_due_at"]) == vn(2026, 11, 26, 9, 0)  # 2 days, Tue 24 off
    assert dossier["current_assignee_id"] == str(world.staff["specialist"].id)
    assert "forward" in dossier["allowed_actions"]
    assert (await view(clients, code, "counter", as_staff))["allowed_actions"] == ["apologize", "withdraw"]

    travel(vn(2026, 11, 25, 10, 0))
    forwarded = await act(
        clients, code, "specialist", as_staff, "forward", comment="Đủ điều kiện", version=dossier["version"]
    )
    assert forwarded.status_code == 200, forwarded.text
    assert forwarded.json()["current_step"]["code"] == "approve"
    travel(vn(2026, 11, 26, 9, 0))
    resolved = await act(clients, code, "head", as_staff, "resolve", result_note="Đã cấp giấy khai sinh")
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["outcome"] == "early"  # due Fri 27 Nov 09:00
    travel(vn(2026, 11, 27, 8, 0))
    returned = await act(clients, code, "counter", as_staff, "return_result")
    assert returned.json()["status"] == "returned"

    sheet = (await clients["workflow"].get(f"/api/v1/dossiers/{code}/timeline", headers=as_staff("head"))).json()
    assert [row["action"] for row in sheet] == ["submit", "receive", "route", "forward", "resolve", "return_result"]
    forward = sheet[3]
    assert forward["giver"]["username"] == world.staff["specialist"].username
    assert forward["receiver"]["username"] == world.staff["head"].username
    assert forward["step_outcome"] == "early"  # the appraisal ended a day before its due day
    await relay()
    tracked = (await clients["intake"].post("/api/v1/track", json={"code": code, "phone": "0912345678"})).json()
    assert tracked["status_label"] == "Đã trả kết quả"


async def test_interagency_steps_have_their_own_clocks_and_the_late_unit_is_recorded(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = await receive(clients, world, "interagency", as_staff, relay)
    travel(vn(2026, 11, 23, 16, 0))
    moved = await act(clients, code, "specialist", as_staff, "transfer", comment="Chuyển VP Đăng ký đất đai")
    assert moved.status_code == 200, moved.text
    assert moved.json()["current_agency_id"] == str(world.land.id)
    # the land office has one working day from 16:00 Mon: Mon 1 h + Wed 7 h → Wed 25 Nov 16:00; it answers Thu
    assert datetime.fromisoformat(moved.json()["step_due_at"]) == vn(2026, 11, 25, 16, 0)
    hidden = await clients["workflow"].get(f"/api/v1/dossiers/{code}", headers=as_staff("tax"))
    assert hidden.status_code == 404  # not yet the tax office's dossier
    travel(vn(2026, 11, 26, 9, 0))
    taxed = await act(clients, code, "land", as_staff, "transfer")
    assert taxed.status_code == 200, taxed.text
    travel(vn(2026, 11, 26, 11, 0))
    back = await act(clients, code, "tax", as_staff, "forward")
    assert back.json()["current_agency_id"] == str(world.ward.id)
    sheet = (await clients["workflow"].get(f"/api/v1/dossiers/{code}/timeline", headers=as_staff("head"))).json()
    outcomes = {
        row["giver"]["agency_code"]: row["step_outcome"] for row in sheet if row["action"] in {"transfer", "forward"}
    }
    assert outcomes[world.land.code] == "late"
    assert outcomes[world.tax.code] == "on_time"
    # the tax office keeps seeing the dossier it handled
    assert (await clients["workflow"].get(f"/api/v1/dossiers/{code}", headers=as_staff("tax"))).status_code == 200
    # the statistics of the ward's dossiers blame the land office
    stats = await clients["workflow"].get(
        "/api/v1/stats", params={"from": "2026-11-23", "to": "2026-11-23"}, headers=as_staff("head")
    )
    assert stats.status_code == 200, stats.text
    units = {unit["agency_code"]: unit for unit in stats.json()["by_unit"]}
    assert units[world.land.code]["steps_late"] == 1
    assert units[world.tax.code]["steps_late"] == 0
    assert stats.json()["by_unit"][0]["agency_code"] == world.land.code


async def test_send_back_supplement_payment_stop_withdraw_and_apology(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = await receive(clients, world, "single", as_staff, relay)
    await act(clients, code, "specialist", as_staff, "forward")
    no_reason = await act(clients, code, "head", as_staff, "send_back")
    assert no_reason.status_code == 422
    sent = await act(clients, code, "head", as_staff, "send_back", reason="Thiếu ý kiến thẩm định về giấy chứng sinh")
    assert sent.json()["current_step"]["code"] == "appraise"
    assert sent.json()["current_assignee_id"] == str(world.staff["specialist"].id)

    asked = await act(
        clients, code, "specialist", as_staff, "request_supplement",
        items=[{"document": "Giấy chứng sinh", "reason": "Sai ngày sinh của trẻ"}],
    )  # fmt: skip
    assert asked.json()["status"] == "awaiting_supplement"
    assert asked.json()["allowed_actions"] == []  # the specialist waits for the citizen
    forbidden = await act(clients, code, "specialist", as_staff, "forward")
    assert forbidden.status_code == 409

    apology = {"reason": "Chờ công dân bổ sung", "new_appointment": "2026-12-02T09:00:00+07:00"}
    assert (await act(clients, code, "head", as_staff, "apologize", **apology)).status_code == 200
    twice = await act(
        clients, code, "head", as_staff, "apologize", **{**apology, "new_appointment": "2026-12-04T09:00:00+07:00"}
    )
    assert twice.status_code == 409

    other = await receive(clients, world, "single", as_staff, relay)
    paid = await act(clients, other, "specialist", as_staff, "request_payment", amount_vnd=8000, description="Lệ phí")
    assert paid.json()["status"] == "awaiting_payment"
    third = await receive(clients, world, "single", as_staff, relay)
    stopped = await act(clients, third, "specialist", as_staff, "stop", reasons=["Người yêu cầu không đủ điều kiện"])
    assert stopped.json()["status"] == "stopped"
    fourth = await receive(clients, world, "single", as_staff, relay)
    withdrawn = await act(clients, fourth, "counter", as_staff, "withdraw", comment="Công dân xin rút")
    assert withdrawn.json()["status"] == "withdrawn"


async def test_access_control_per_endpoint(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any
) -> None:
    code = await receive(clients, world, "single", as_staff, relay)
    for path in (f"/api/v1/dossiers/{code}", f"/api/v1/dossiers/{code}/timeline"):
        response = await clients["workflow"].get(path, headers=as_staff("stranger"))
        assert response.status_code == 404
    acted = await act(clients, code, "stranger", as_staff, "forward")
    assert acted.status_code == 404
    wrong_role = await act(clients, code, "counter", as_staff, "forward")
    assert wrong_role.status_code == 403
    assert wrong_role.json()["code"] == "action_forbidden"
    inbox = (
        await clients["workflow"].get("/api/v1/tasks", params={"scope": "mine"}, headers=as_staff("specialist"))
    ).json()
    assert code in [item["code"] for item in inbox["items"]]
    strangers = (await clients["workflow"].get("/api/v1/tasks", headers=as_staff("stranger"))).json()
    assert code not in [item["code"] for item in strangers["items"]]
    leaders_only = await clients["workflow"].get(
        "/api/v1/tasks", params={"scope": "agency"}, headers=as_staff("specialist")
    )
    assert leaders_only.status_code == 403


async def test_inbox_counts_filters_and_order(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    early = await receive(clients, world, "single", as_staff, relay)
    travel(vn(2026, 11, 23, 10, 0))
    later = await receive(clients, world, "single", as_staff, relay)
    travel(vn(2026, 11, 26, 9, 30))  # the first one's step (due 09:00) is overdue, the second's (10:00) due soon
    inbox = (
        await clients["workflow"].get("/api/v1/tasks", params={"scope": "unit"}, headers=as_staff("specialist"))
    ).json()
    codes = [item["code"] for item in inbox["items"]]
    assert codes.index(early) < codes.index(later)
    by_code = {item["code"]: item for item in inbox["items"]}
    assert by_code[early]["overdue"] is True
    assert by_code[later]["due_soon"] is True
    assert inbox["counts"]["overdue"] >= 1
    overdue_only = (
        await clients["workflow"].get("/api/v1/tasks", params={"due": "overdue"}, headers=as_staff("specialist"))
    ).json()
    assert early in [item["code"] for item in overdue_only["items"]]
    assert later not in [item["code"] for item in overdue_only["items"]]


async def test_fifty_concurrent_conflicting_transitions_one_wins(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any
) -> None:
    code = await receive(clients, world, "single", as_staff, relay)
    version = (await view(clients, code, "specialist", as_staff))["version"]
    responses = await asyncio.gather(
        *(act(clients, code, "specialist", as_staff, "forward", version=version) for _ in range(50))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == 49
    sheet = (await clients["workflow"].get(f"/api/v1/dossiers/{code}/timeline", headers=as_staff("head"))).json()
    assert [row["action"] for row in sheet].count("forward") == 1


@pytest.mark.parametrize("who", ["specialist", "head"])
async def test_a_dossier_without_version_still_moves_once_per_step(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, who: str
) -> None:
    code = await receive(clients, world, "single", as_staff, relay)
    first = await act(clients, code, "specialist", as_staff, "forward")
    second = await act(clients, code, "specialist", as_staff, "forward")
    assert first.status_code == 200
    # the dossier is at the head's step now, where forward is not possible at all: the next step is the
    # desk's "return", which a processing dossier could never be resolved from
    assert second.status_code == 409
    assert second.json()["code"] == "action_not_allowed"


async def test_forms_04_05_06_print_what_happened(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = await receive(clients, world, "single", as_staff, relay)
    await act(clients, code, "specialist", as_staff, "forward")
    apology = {"reason": "Chờ xác minh thông tin cư trú", "new_appointment": "2026-12-01T09:00:00+07:00"}
    assert (await act(clients, code, "head", as_staff, "apologize", **apology)).status_code == 200
    letter = await clients["workflow"].get(f"/api/v1/dossiers/{code}/forms/apology.pdf", headers=as_staff("head"))
    assert letter.headers["content-type"] == "application/pdf"
    assert code in pdf_text(letter.content)
    assert "ngày 01 tháng 12 năm 2026" in pdf_text(letter.content)
    assert "Chờ xác minh thông tin cư trú" in pdf_text(letter.content)
    sheet = pdf_text(
        (
            await clients["workflow"].get(f"/api/v1/dossiers/{code}/forms/control-sheet.pdf", headers=as_staff("head"))
        ).content
    )
    assert code in sheet
    assert "Nguyễn Văn Thử" in sheet  # the officers' names
    no_stop = await clients["workflow"].get(f"/api/v1/dossiers/{code}/forms/stop.pdf", headers=as_staff("head"))
    assert no_stop.status_code == 409
    await act(clients, code, "head", as_staff, "stop", reasons=["Hồ sơ giả mạo giấy tờ"])
    notice = await clients["workflow"].get(f"/api/v1/dossiers/{code}/forms/stop.pdf", headers=as_staff("head"))
    assert "Hồ sơ giả mạo giấy tờ" in pdf_text(notice.content)
