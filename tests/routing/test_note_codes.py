"""The system's notes travel as stable codes with their params, so the SPA can say them in English.

The staff control sheet (``GET /api/v1/dossiers/{code}/timeline``) and the citizen's tracking page
(``GET /api/v1/track/{code}``) carry ``note_code`` and ``note_params`` beside the Vietnamese ``note``,
which stays as it was for older clients; what officers typed comes back as typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from services.dossier.notes import FIXED_NOTES, Note, note_of
from tests.routing.test_engine import Headers, act, body, vn
from tests.workflow_setup import World


async def counter_dossier(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any
) -> tuple[str, str]:
    created = await clients["intake"].post(
        "/api/v1/counter/dossiers", json=body(world, "single"), headers=as_staff("counter")
    )
    assert created.status_code == 201, created.text
    await relay()
    return str(created.json()["code"]), str(created.json()["secret"])


async def sheet(clients: dict[str, httpx.AsyncClient], code: str, as_staff: Headers) -> list[dict[str, Any]]:
    response = await clients["workflow"].get(f"/api/v1/dossiers/{code}/timeline", headers=as_staff("head"))
    assert response.status_code == 200, response.text
    return list(response.json())


async def history(clients: dict[str, httpx.AsyncClient], code: str, secret: str) -> list[dict[str, Any]]:
    response = await clients["intake"].get(f"/api/v1/track/{code}", params={"secret": secret})
    assert response.status_code == 200, response.text
    return list(response.json()["history"])


async def test_the_journey_s_notes_carry_codes_on_the_sheet_and_the_tracking_page(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code, secret = await counter_dossier(clients, world, as_staff, relay)
    await act(clients, code, "specialist", as_staff, "forward", comment="Đủ điều kiện")
    travel(vn(2026, 11, 26, 9, 0))
    await act(clients, code, "head", as_staff, "resolve", result_note="Đã cấp giấy khai sinh")
    await act(clients, code, "counter", as_staff, "return_result")
    await relay()

    tracked = await history(clients, code, secret)
    assert [item["note_code"] for item in tracked] == [
        "submitted_at_desk", "received", "routed", "resolved", "returned"
    ]  # fmt: skip
    received = tracked[1]
    due = datetime.fromisoformat(received["note_params"]["due_at"])
    assert due == vn(2026, 11, 27, 9, 0)
    # the Vietnamese sentence is still there, unchanged, for older clients
    assert received["note"] == "Hồ sơ được tiếp nhận. Hẹn trả kết quả: 09:00 ngày 27/11/2026."
    assert tracked[3]["note"] == FIXED_NOTES["resolved"]
    assert tracked[3]["note_params"] == {}

    rows = await sheet(clients, code, as_staff)
    assert [(row["action"], row["note_code"]) for row in rows] == [
        ("submit", "submitted_at_desk"), ("receive", "received"), ("route", "routed"), ("forward", None),
        ("resolve", "resolved"), ("return_result", "returned"),
    ]  # fmt: skip
    assert rows[3]["comment"] == "Đủ điều kiện"  # typed by the specialist: as typed
    assert rows[1]["note_params"] == received["note_params"]


async def test_params_hold_the_amount_the_new_appointment_and_the_officers_words_as_typed(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code, secret = await counter_dossier(clients, world, as_staff, relay)
    items = [{"document": "Giấy chứng sinh", "reason": "Sai ngày sinh của trẻ"}]
    assert (await act(clients, code, "specialist", as_staff, "request_supplement", items=items)).status_code == 200
    apology = {"reason": "Chờ công dân bổ sung", "new_appointment": "2026-12-02T09:00:00+07:00"}
    assert (await act(clients, code, "head", as_staff, "apologize", **apology)).status_code == 200

    paying, paying_secret = await counter_dossier(clients, world, as_staff, relay)
    asked = await act(clients, paying, "specialist", as_staff, "request_payment", amount_vnd=8000, description="Lệ phí")
    assert asked.status_code == 200, asked.text
    stopping, stopping_secret = await counter_dossier(clients, world, as_staff, relay)
    reasons = ["Người yêu cầu không đủ điều kiện"]
    assert (await act(clients, stopping, "specialist", as_staff, "stop", reasons=reasons)).status_code == 200

    by_code = {item["note_code"]: item["note_params"] for item in await history(clients, code, secret)}
    assert by_code["supplement_requested"] == {"items": items}
    assert datetime.fromisoformat(by_code["apologized"]["appointment_at"]) == vn(2026, 12, 2, 9, 0)
    paying_notes = {item["note_code"]: item["note_params"] for item in await history(clients, paying, paying_secret)}
    assert paying_notes["payment_requested"] == {"amount_vnd": 8000}
    stopped = await history(clients, stopping, stopping_secret)
    assert stopped[-1]["note_code"] == "stopped"
    assert stopped[-1]["note_params"] == {"reasons": reasons}
    assert stopped[-1]["note"] == "Dừng xử lý hồ sơ: Người yêu cầu không đủ điều kiện"
    staff_rows = await sheet(clients, stopping, as_staff)
    assert staff_rows[-1]["note_code"] == "stopped"
    assert staff_rows[-1]["note_params"] == {"reasons": reasons}


def test_a_line_written_as_a_plain_sentence_finds_its_code_only_when_it_has_no_params() -> None:
    assert note_of(None, {}, "Bưu điện đã nhận hồ sơ tại nhà.") == ("postal_picked_up", {})
    assert note_of(None, {}, "Đã trả kết quả qua bưu chính.") == ("returned_by_post", {})
    assert note_of(None, {}, "Ghi chú do cán bộ nhập") == (None, {})
    assert note_of("paid", {}, "anything") == ("paid", {})


def test_a_note_refuses_an_unknown_code_or_the_wrong_params() -> None:
    with pytest.raises(ValueError, match="unknown note code"):
        Note("made_up", "…")
    with pytest.raises(ValueError, match="takes params"):
        Note("received", "…", {"due": "2026-11-27"})
