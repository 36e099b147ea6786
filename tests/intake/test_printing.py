"""The forms served by intake_api render with the dossier's own data."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from tests.intake.setup import create_desk, filed_at_the_counter, submission
from tests.pdf import pdf_text


async def test_receipt_supplement_refusal_and_record_book(
    intake: httpx.AsyncClient, session: AsyncSession, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    desk, officer, code, secret = await filed_at_the_counter(intake, session, bearer, travel)

    wrong = await intake.post(
        f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={"secret": "ABCD-EFGH"}, headers=officer
    )
    assert wrong.status_code == 422
    receipt = await intake.post(f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={"secret": secret}, headers=officer)
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/pdf"
    content = pdf_text(receipt.content)
    assert code in content
    assert "Nguyễn Thị Thu Hà" in content
    assert "ngày 27 tháng 11 năm 2026" in content  # the appointment: Fri 27 Nov 09:00
    assert secret in content

    await intake.post(
        f"/api/v1/dossiers/{code}/supplement-requests",
        json={"items": [{"document": "Giấy chứng sinh", "reason": "Bản chụp bị mờ"}]},
        headers=officer,
    )
    supplement = pdf_text((await intake.get(f"/api/v1/dossiers/{code}/forms/supplement.pdf", headers=officer)).content)
    assert "Giấy chứng sinh" in supplement
    assert "Bản chụp bị mờ" in supplement

    online = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()["code"]
    await intake.post(
        f"/api/v1/dossiers/{online}/refuse", json={"reasons": ["Không thuộc thẩm quyền của phường"]}, headers=officer
    )
    refusal = pdf_text((await intake.get(f"/api/v1/dossiers/{online}/forms/refusal.pdf", headers=officer)).content)
    assert online in refusal
    assert "Không thuộc thẩm quyền" in refusal
    not_refused = await intake.get(f"/api/v1/dossiers/{code}/forms/refusal.pdf", headers=officer)
    assert not_refused.status_code == 409

    head = bearer(desk.officer, ["head"])  # the record book is for the desk's heads and leaders
    book = await intake.get("/api/v1/record-book.pdf", params={"from": "2026-11-23", "to": "2026-11-23"}, headers=head)
    assert book.status_code == 200
    assert code in pdf_text(book.content)
    bad = await intake.get("/api/v1/record-book.pdf", params={"from": "2026-11-23", "to": "2026-11-01"}, headers=head)
    assert bad.status_code == 422


async def test_an_online_dossiers_receipt_is_printed_without_its_secret_a_counter_one_never(
    intake: httpx.AsyncClient, session: AsyncSession, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    officer = bearer(desk.officer)
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    online = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
    code, secret = online["code"], online["secret"]
    early = await intake.post(f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={}, headers=officer)
    assert early.status_code == 409  # not received yet
    assert (await intake.post(f"/api/v1/dossiers/{code}/accept", json={}, headers=officer)).status_code == 200

    receipt = await intake.post(f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={}, headers=officer)
    assert receipt.status_code == 200, receipt.text
    content = pdf_text(receipt.content)
    assert code in content
    assert "đã cấp cho người nộp khi nộp hồ sơ trực tuyến" in content
    assert secret not in content

    counter = (await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)).json()
    refused = await intake.post(f"/api/v1/dossiers/{counter['code']}/forms/receipt.pdf", json={}, headers=officer)
    assert refused.status_code == 422
    assert refused.json()["code"] == "secret_required"
