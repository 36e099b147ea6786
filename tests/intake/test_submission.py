"""Online and counter submission, the desk's decision, supplements, withdrawal, feedback, tracking."""

from __future__ import annotations

import json
import re
from datetime import datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.models import AuditLog, Document, Dossier, Handover, OutboxEvent, PortalSync, SlaTimer
from tests.apps import new_client
from tests.intake.setup import PDF, PNG, Desk, create_desk, submission


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


async def dossier_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Dossier)) or 0)


async def test_online_submission_answers_code_and_secret_and_no_personal_data(
    intake: httpx.AsyncClient, desk: Desk, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(vn(2026, 11, 23, 9, 0))
    response = await intake.post("/api/v1/dossiers", json=submission(desk))
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(re.escape(desk.agency.code) + r"-261123-\d{4}", body["code"])
    assert (body["status"], body["status_code"], body["channel"]) == ("submitted", 1, 2)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", body["secret"])
    assert body["received_at"] is None
    for personal in ("031190004567", "0912345678", "thuha@example.vn", "Lạch Tray"):
        assert personal not in response.text


async def test_a_filing_a_rule_refuses_takes_no_number(
    intake: httpx.AsyncClient, session: AsyncSession, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    """Codes stay gap-free: the day's number is taken with the catalogue's read, before the rules are checked,
    and a refused filing gives it back (its transaction rolls back), so the desk's next filing has it."""
    travel(vn(2026, 11, 23, 9, 0))
    counter_only = await create_desk(session, online_mode="none")
    await session.commit()
    refused = await intake.post("/api/v1/dossiers", json=submission(counter_only))
    assert (refused.status_code, refused.json()["code"]) == (422, "procedure_not_online")
    filed = await intake.post(
        "/api/v1/counter/dossiers", json=submission(counter_only), headers=bearer(counter_only.officer)
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["code"] == f"{counter_only.agency.code}-261123-0001"


async def test_the_applicant_chooses_the_language_of_their_notifications(
    intake: httpx.AsyncClient, desk: Desk, session: AsyncSession
) -> None:
    english = await intake.post("/api/v1/dossiers", json=submission(desk, language="en"))
    default = await intake.post("/api/v1/dossiers", json=submission(desk))
    french = await intake.post("/api/v1/dossiers", json=submission(desk, language="fr"))
    assert (english.status_code, default.status_code, french.status_code) == (201, 201, 422)
    locales = dict(
        (
            await session.execute(
                select(Dossier.code, Dossier.applicant_locale).where(
                    Dossier.code.in_([english.json()["code"], default.json()["code"]])
                )
            )
        ).all()
    )
    assert locales == {english.json()["code"]: "en", default.json()["code"]: "vi"}


async def test_multipart_submission_stores_documents_with_checksums(
    intake: httpx.AsyncClient, desk: Desk, session: AsyncSession, settings
) -> None:  # type: ignore[no-untyped-def]
    response = await intake.post(
        "/api/v1/dossiers",
        data={"data": json.dumps(submission(desk))},
        files=[("D01", ("to-khai.pdf", PDF, "application/pdf")), ("D02", ("chung-sinh.png", PNG, "image/png"))],
    )
    assert response.status_code == 201, response.text
    documents = {d["required_code"]: d for d in response.json()["documents"]}
    assert documents["D01"]["content_type"] == "application/pdf"
    assert documents["D02"]["content_type"] == "image/png"
    import hashlib

    assert documents["D01"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    stored = await session.scalar(
        select(Document)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Dossier.code == response.json()["code"], Document.required_code == "D01")
    )
    assert stored is not None
    assert (settings.files_dir / stored.storage_path).read_bytes() == PDF


async def test_a_file_that_lies_about_its_type_is_refused_and_nothing_is_kept(
    intake: httpx.AsyncClient, desk: Desk, session: AsyncSession
) -> None:
    before = await dossier_count(session)
    response = await intake.post(
        "/api/v1/dossiers",
        data={"data": json.dumps(submission(desk))},
        files=[("D01", ("to-khai.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"))],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unsupported_file_type"
    assert await dossier_count(session) == before


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    intake: httpx.AsyncClient, desk: Desk, session: AsyncSession
) -> None:
    key = {"Idempotency-Key": f"k-{desk.agency.code}"}
    first = await intake.post("/api/v1/dossiers", json=submission(desk), headers=key)
    again = await intake.post("/api/v1/dossiers", json=submission(desk), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await intake.post("/api/v1/dossiers", json=submission(desk, return_method="online"), headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    count = await session.scalar(
        select(func.count()).where(Dossier.receiving_agency_id == desk.agency.id, Dossier.status == "submitted")
    )
    assert count == 1


async def test_an_expired_idempotency_key_makes_a_new_dossier(intake: httpx.AsyncClient, desk: Desk, travel) -> None:  # type: ignore[no-untyped-def]
    """A record lives MOTCUA_IDEMPOTENCY_TTL_SECONDS (a day): after that the key is no longer an answer, and a
    request with it (any body) files anew."""
    key = {"Idempotency-Key": f"expiring-{desk.agency.code}"}
    travel(vn(2026, 11, 23, 9, 0))
    first = await intake.post("/api/v1/dossiers", json=submission(desk), headers=key)
    travel(vn(2026, 11, 24, 9, 30))
    later = await intake.post("/api/v1/dossiers", json=submission(desk, return_method="online"), headers=key)
    assert first.status_code == later.status_code == 201, later.text
    assert "idempotent-replayed" not in later.headers
    assert later.json()["code"] != first.json()["code"]
    assert later.json()["secret"] != first.json()["secret"]
    replay = await intake.post("/api/v1/dossiers", json=submission(desk, return_method="online"), headers=key)
    assert (replay.headers["idempotent-replayed"], replay.json()) == ("true", later.json())


async def test_accept_starts_the_clock_by_the_online_rule(
    intake: httpx.AsyncClient, desk: Desk, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(vn(2026, 11, 21, 22, 0))  # Saturday night
    code = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()["code"]
    travel(vn(2026, 11, 23, 12, 10))  # Monday, lunch break: counts from 13:00
    accepted = await intake.post(f"/api/v1/dossiers/{code}/accept", json={}, headers=bearer(desk.officer))
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "received"
    # 13:00 Mon + 3 days: Mon 4 h, (Tue 24 Nov off), Wed 8, Thu 8, Fri 4 h → Fri 27 Nov 11:30
    assert datetime.fromisoformat(body["due_at"]) == vn(2026, 11, 27, 11, 30)
    twice = await intake.post(f"/api/v1/dossiers/{code}/accept", json={}, headers=bearer(desk.officer))
    assert twice.status_code == 409


async def test_counter_intake_is_received_at_once_with_the_cutoff(
    intake: httpx.AsyncClient, desk: Desk, bearer, travel, session: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    travel(vn(2026, 11, 23, 15, 30))  # after the 15:00 cut-off
    response = await intake.post(
        "/api/v1/counter/dossiers",
        json=submission(desk, documents_received=[{"code": "D01", "copies": 1, "form": "original"}]),
        headers=bearer(desk.officer),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["channel"]) == ("received", 1)
    assert body["secret"]
    assert datetime.fromisoformat(body["due_at"]) == vn(2026, 11, 27, 17, 0)  # from Wed 25 07:30, 3 days
    events = (
        await session.scalars(
            select(OutboxEvent.event_type)
            .join(Dossier, Dossier.id == OutboxEvent.dossier_id)
            .where(Dossier.code == body["code"])
        )
    ).all()
    assert sorted(events) == ["dossier.received", "dossier.received", "dossier.submitted"]  # workflow: the receipt only


async def test_a_counter_filing_writes_the_receipt_with_the_dossier(
    intake: httpx.AsyncClient, desk: Desk, bearer, travel, session: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    """Filed received in one write: the clock, the control sheet and the portal's journal say what a filing
    followed by its receipt said (submitted, then received with the appointment)."""
    travel(vn(2026, 11, 23, 9, 0))
    response = await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    assert response.status_code == 201, response.text
    body = response.json()
    due = datetime.fromisoformat(body["due_at"])
    assert (body["status"], body["status_code"]) == ("received", 2)
    assert datetime.fromisoformat(body["received_at"]) == vn(2026, 11, 23, 9, 0)
    dossier = await session.scalar(select(Dossier).where(Dossier.code == body["code"]))
    assert dossier is not None
    assert (dossier.status, dossier.submitted_at, dossier.received_at, dossier.due_at) == (
        "received", vn(2026, 11, 23, 9, 0), vn(2026, 11, 23, 9, 0), due,
    )  # fmt: skip
    (timer,) = (await session.scalars(select(SlaTimer).where(SlaTimer.dossier_id == dossier.id))).all()
    assert (timer.kind, timer.step_seq, timer.agency_id, timer.ended_at) == ("dossier", 0, desk.agency.id, None)
    assert (timer.started_at, timer.due_at, timer.budget_seconds) == (dossier.clock_start_at, due, 3 * 8 * 3600)
    assert timer.started_at <= timer.due_soon_at < due
    lines = (
        await session.execute(
            select(
                Handover.action, Handover.status_after, Handover.note_code, Handover.note_params, Handover.public_note
            )
            .where(Handover.dossier_id == dossier.id)
            .order_by(Handover.at, Handover.seq)
        )
    ).all()
    assert [line[:3] for line in lines] == [
        ("submit", "submitted", "submitted_at_desk"),
        ("receive", "received", "received"),
    ]
    assert lines[1].note_params == {"due_at": due.astimezone(VN_TZ).isoformat()}
    assert (
        lines[1].public_note == f"Hồ sơ được tiếp nhận. Hẹn trả kết quả: {due.astimezone(VN_TZ):%H:%M ngày %d/%m/%Y}."
    )
    journal = (
        await session.execute(
            select(PortalSync.seq, PortalSync.state, PortalSync.changed_at, PortalSync.due_at)
            .where(PortalSync.dossier_id == dossier.id)
            .order_by(PortalSync.seq)
        )
    ).all()
    assert [tuple(row) for row in journal] == [
        (1, "submitted", vn(2026, 11, 23, 9, 0), None),
        (2, "received", vn(2026, 11, 23, 9, 0), due),
    ]


async def test_a_counter_filing_is_audited_once_with_its_officer_and_request(
    intake: httpx.AsyncClient, desk: Desk, bearer, session: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    """Staff typed a citizen's personal data: one audit line, written with the filing (``audit.write``)."""
    response = await intake.post(
        "/api/v1/counter/dossiers", json=submission(desk), headers={**bearer(desk.officer), "User-Agent": "quay-3"}
    )
    assert response.status_code == 201, response.text
    dossier_id = await session.scalar(select(Dossier.id).where(Dossier.code == response.json()["code"]))
    (line,) = (await session.scalars(select(AuditLog).where(AuditLog.dossier_id == dossier_id))).all()
    assert (line.service, line.action, line.resource) == ("intake", "create", "POST /api/v1/counter/dossiers")
    assert (line.actor_staff_id, line.username) == (desk.officer.id, desk.officer.username)
    assert (line.user_agent, line.detail) == ("quay-3", {})
    assert line.request_id == response.headers["X-Request-ID"]
    assert line.at is not None


async def test_counter_intake_needs_a_counter_officer(intake: httpx.AsyncClient, desk: Desk, bearer) -> None:  # type: ignore[no-untyped-def]
    response = await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.specialist))
    assert response.status_code == 403
    anonymous = await intake.post("/api/v1/counter/dossiers", json=submission(desk))
    assert anonymous.status_code == 401


async def test_refusal_with_reasons_shows_in_tracking(intake: httpx.AsyncClient, desk: Desk, bearer) -> None:  # type: ignore[no-untyped-def]
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    refused = await intake.post(
        f"/api/v1/dossiers/{created['code']}/refuse",
        json={"reasons": ["Hồ sơ không thuộc thẩm quyền giải quyết của phường"]},
        headers=bearer(desk.officer),
    )
    assert refused.json()["status"] == "refused"
    tracked = (await intake.get(f"/api/v1/track/{created['code']}", params={"secret": created["secret"]})).json()
    assert tracked["status_label"] == "Không được tiếp nhận"
    assert "không thuộc thẩm quyền" in tracked["history"][-1]["note"]


async def test_supplement_before_acceptance_goes_back_to_the_desk(
    intake: httpx.AsyncClient, desk: Desk, bearer
) -> None:  # type: ignore[no-untyped-def]
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    code, secret = created["code"], created["secret"]
    asked = await intake.post(
        f"/api/v1/dossiers/{code}/supplement-requests",
        json={"items": [{"document": "Giấy chứng sinh", "reason": "Bản chụp bị mờ, không đọc được"}]},
        headers=bearer(desk.officer),
    )
    assert asked.json()["status"] == "awaiting_supplement"
    tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert tracked["paused_since"] is None  # no clock runs before acceptance
    answered = await intake.post(
        f"/api/v1/dossiers/{code}/supplements",
        data={"data": json.dumps({"secret": secret})},
        files=[("D02", ("chung-sinh.pdf", PDF, "application/pdf"))],
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "submitted"


async def test_supplement_after_acceptance_pauses_and_resumes_the_clock(
    intake: httpx.AsyncClient, desk: Desk, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(vn(2026, 11, 23, 9, 0))
    created = (
        await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    ).json()
    code, secret = created["code"], created["secret"]
    assert datetime.fromisoformat(created["due_at"]) == vn(2026, 11, 27, 9, 0)
    travel(vn(2026, 11, 23, 10, 0))
    await intake.post(
        f"/api/v1/dossiers/{code}/supplement-requests",
        json={"items": [{"document": "Tờ khai", "reason": "Thiếu chữ ký người yêu cầu"}]},
        headers=bearer(desk.officer),
    )
    tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert datetime.fromisoformat(tracked["paused_since"]) == vn(2026, 11, 23, 10, 0)
    assert tracked["paused_reason"] == "Chờ công dân bổ sung hồ sơ"
    travel(vn(2026, 11, 25, 10, 0))  # 8 working hours later
    answered = await intake.post(
        f"/api/v1/dossiers/{code}/supplements",
        data={"data": json.dumps({"secret": secret})},
        files=[("D01", ("to-khai.pdf", PDF, "application/pdf"))],
    )
    assert answered.json()["status"] == "processing"
    assert datetime.fromisoformat(answered.json()["due_at"]) == vn(2026, 11, 30, 9, 0)


async def test_withdrawal_needs_the_secret(intake: httpx.AsyncClient, desk: Desk) -> None:
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    wrong = await intake.post(f"/api/v1/dossiers/{created['code']}/withdraw", json={"secret": "AAAA-BBBB"})
    assert wrong.status_code == 404
    done = await intake.post(
        f"/api/v1/dossiers/{created['code']}/withdraw", json={"secret": created["secret"].lower(), "reason": "Nộp nhầm"}
    )
    assert done.json()["status"] == "withdrawn"
    again = await intake.post(f"/api/v1/dossiers/{created['code']}/withdraw", json={"secret": created["secret"]})
    assert again.status_code == 409


async def test_feedback_once_after_return(intake: httpx.AsyncClient, desk: Desk, session: AsyncSession) -> None:
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    early = await intake.post(
        f"/api/v1/dossiers/{created['code']}/feedback", json={"secret": created["secret"], "rating": "satisfied"}
    )
    assert early.status_code == 409
    dossier = await session.scalar(select(Dossier).where(Dossier.code == created["code"]))
    assert dossier is not None
    dossier.status = "returned"
    await session.commit()
    rated = await intake.post(
        f"/api/v1/dossiers/{created['code']}/feedback",
        json={"secret": created["secret"], "rating": "dissatisfied", "comment": "Phải đi lại hai lần"},
    )
    assert rated.status_code == 201
    twice = await intake.post(
        f"/api/v1/dossiers/{created['code']}/feedback", json={"secret": created["secret"], "rating": "satisfied"}
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "feedback_exists"


async def test_tracking_by_secret_or_phone_without_personal_data(intake: httpx.AsyncClient, desk: Desk) -> None:
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    by_secret = await intake.get(f"/api/v1/track/{created['code']}", params={"secret": created["secret"]})
    by_phone = await intake.post("/api/v1/track", json={"code": created["code"], "phone": "+84912345678"})
    assert by_secret.status_code == by_phone.status_code == 200
    body = by_secret.json()
    assert (body["status"], body["status_code"], body["status_label"]) == ("submitted", 1, "Mới đăng ký")
    assert body["history"][0]["note"].startswith("Hồ sơ đã được nộp trực tuyến")
    for personal in ("031190004567", "0912345678", "thuha@example.vn", "Lạch Tray", "Nguyễn Thị Thu Hà"):
        assert personal not in by_secret.text
        assert personal not in by_phone.text
    nothing = await intake.get(f"/api/v1/track/{created['code']}")
    assert nothing.status_code == 422


async def test_ten_wrong_guesses_from_ten_addresses_do_not_lock_the_owner_out(
    intake: httpx.AsyncClient, intake_app: FastAPI, desk: Desk
) -> None:
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    code = created["code"]
    for n in range(10):
        async with new_client(intake_app) as stranger:
            guess = await stranger.get(f"/api/v1/track/{code}", params={"secret": f"WRNG-{n:04d}"})
        assert guess.status_code == 404
    owner = await intake.get(f"/api/v1/track/{code}", params={"secret": created["secret"]})
    assert owner.status_code == 200


async def test_the_handover_log_records_each_step(
    intake: httpx.AsyncClient, desk: Desk, bearer, session: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    created = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    await intake.post(
        f"/api/v1/dossiers/{created['code']}/accept", json={"comment": "Đủ thành phần"}, headers=bearer(desk.officer)
    )
    actions = (
        await session.scalars(
            select(Handover.action)
            .join(Dossier, Dossier.id == Handover.dossier_id)
            .where(Dossier.code == created["code"])
            .order_by(Handover.at, Handover.seq)
        )
    ).all()
    assert actions == ["submit", "receive"]


async def test_staff_attach_result_documents(
    intake: httpx.AsyncClient, desk: Desk, bearer, session: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    created = (
        await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    ).json()
    attached = await intake.post(
        f"/api/v1/dossiers/{created['code']}/documents",
        data={"data": json.dumps({"kind": "result"})},
        files=[("files", ("giay-khai-sinh.pdf", PDF, "application/pdf"))],
        headers=bearer(desk.specialist),
    )
    assert attached.status_code == 201, attached.text
    assert [d["kind"] for d in attached.json()["documents"]] == ["result"]
    document_id = attached.json()["documents"][0]["id"]
    download = await intake.get(
        f"/api/v1/dossiers/{created['code']}/documents/{document_id}", headers=bearer(desk.officer)
    )
    assert download.content == PDF
    anonymous = await intake.get(f"/api/v1/dossiers/{created['code']}/documents/{document_id}")
    assert anonymous.status_code == 401
