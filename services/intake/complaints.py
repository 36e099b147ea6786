"""Complaints and suggestions (phản ánh, kiến nghị — hòm phiếu góp ý) sent by citizens, answered by staff.

The public sees a complaint's state by its code, and its answer once published; the staff of the agency
it is about (every agency for an administrator) list them with the contacts — an audited read — and
answer or refuse them."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.calendar.working import WORKING_DAY
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import Conflict, NotFound
from services.core.validation import StrictModel, normalise_vn_phone
from services.domain.vocabulary import RoleCode
from services.models import Agency, Complaint, Dossier
from services.outbox import emit

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
UNMATCHED_CODE_NOTE = "Mã hồ sơ người gửi ghi, không khớp hồ sơ nào"


class ComplaintContact(StrictModel):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    email: EmailStr | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_vn_phone(value) if value else None


class ComplaintIn(StrictModel):
    kind: Literal["complaint", "suggestion"] = "suggestion"
    agency_code: str = Field(min_length=1, max_length=64, description="the agency the complaint is about")
    dossier_code: str | None = Field(default=None, max_length=64)
    subject: str = Field(min_length=3, max_length=300)
    content: str = Field(min_length=10, max_length=5000)
    contact: ComplaintContact | None = None


class ComplaintOut(BaseModel):
    code: str
    kind: str
    status: str
    received_at: datetime


def _new_code(now: datetime) -> str:
    return f"PAKN-{now:%y%m%d}-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


async def submit_complaint(session: AsyncSession, data: ComplaintIn, *, now: datetime | None = None) -> ComplaintOut:
    """Store the complaint and tell notify_api, in one transaction.

    A dossier code that matches no dossier is kept in the content, unlinked: the answer is the same
    whether or not the code exists."""
    received_at = now or datetime.now(UTC)
    agency = await session.scalar(select(Agency).where(Agency.code == data.agency_code))
    if agency is None:
        raise NotFound(f"No agency with code {data.agency_code!r}.", code="agency_not_found")
    dossier_id = None
    content = data.content
    if data.dossier_code:
        dossier_id = await session.scalar(select(Dossier.id).where(Dossier.code == data.dossier_code))
        if dossier_id is None:
            # the same answer as for a real code (the form must not tell who has a dossier); the
            # staff still read what the citizen wrote
            content += f"\n\n[{UNMATCHED_CODE_NOTE}: {data.dossier_code}]"
    contact = data.contact or ComplaintContact()
    complaint = Complaint(
        code=_new_code(received_at),
        kind=data.kind,
        agency_id=agency.id,
        dossier_id=dossier_id,
        subject=data.subject,
        content=content,
        contact_name=contact.name,
        contact_phone=contact.phone,
        contact_email=str(contact.email) if contact.email else None,
        received_at=received_at,
    )
    session.add(complaint)
    await set_deadline(session, complaint)
    await session.flush()
    await emit(
        session,
        event_type="complaint.received",
        source="intake",
        destination="notify",
        dossier_id=dossier_id,
        # ids and codes only: the receiver reads what it needs, personal data stays in its row
        payload={
            "complaint_id": str(complaint.id),
            "complaint_code": complaint.code,
            "kind": complaint.kind,
            "agency_id": str(agency.id),
            "subject": complaint.subject,
        },
    )
    return ComplaintOut(
        code=complaint.code, kind=complaint.kind, status=complaint.status, received_at=complaint.received_at
    )


async def public_view(session: AsyncSession, code: str) -> ComplaintPublicOut:
    """A complaint's state by its code; the answer only once it is published (no personal data)."""
    complaint = await session.scalar(select(Complaint).where(Complaint.code == code))
    if complaint is None:
        raise NotFound("No complaint with that code.", code="complaint_not_found")
    published = complaint.status == "published"
    return ComplaintPublicOut(
        code=complaint.code,
        kind=complaint.kind,
        status=complaint.status,
        subject=complaint.subject,
        received_at=complaint.received_at,
        answer_due_at=complaint.answer_due_at,
        answer=complaint.answer if published else None,
        answered_at=complaint.answered_at if published else None,
    )


# --- staff side: deadlines and answers (DESIGN "Indicators": refuse within 2 working days,
# ask for information within 5, answer within 15, publish within 2) ---------------------------

REFUSE_DAYS, INFO_DAYS, ANSWER_DAYS, PUBLISH_DAYS = 2, 5, 15, 2


class ComplaintStaffOut(BaseModel):
    code: str
    kind: str
    status: str
    subject: str
    content: str
    dossier_code: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    received_at: datetime
    refuse_by: datetime
    answer_due_at: datetime | None
    answered_at: datetime | None
    answer: str | None
    overdue: bool


class ComplaintPublicOut(BaseModel):
    code: str
    kind: str
    status: str
    subject: str
    received_at: datetime
    answer_due_at: datetime | None
    answer: str | None = None
    answered_at: datetime | None = None


class AnswerIn(StrictModel):
    answer: str = Field(min_length=10, max_length=10000)
    publish: bool = Field(default=True, strict=True)


class ComplaintRefusalIn(StrictModel):
    reason: str = Field(min_length=10, max_length=2000)


async def set_deadline(session: AsyncSession, complaint: Complaint) -> None:
    calendar = await calendar_for(session, complaint.agency_id)
    start = calendar.next_working_instant(complaint.received_at)
    complaint.answer_due_at = calendar.add_working_seconds(start, ANSWER_DAYS * WORKING_DAY)


async def staff_view(session: AsyncSession, complaint: Complaint, now: datetime) -> ComplaintStaffOut:
    calendar = await calendar_for(session, complaint.agency_id)
    refuse_by = calendar.add_working_seconds(
        calendar.next_working_instant(complaint.received_at), REFUSE_DAYS * WORKING_DAY
    )
    dossier_code = (
        await session.scalar(select(Dossier.code).where(Dossier.id == complaint.dossier_id))
        if complaint.dossier_id
        else None
    )
    open_now = complaint.status == "received"
    return ComplaintStaffOut(
        code=complaint.code,
        kind=complaint.kind,
        status=complaint.status,
        subject=complaint.subject,
        content=complaint.content,
        dossier_code=dossier_code,
        contact_name=complaint.contact_name,
        contact_phone=complaint.contact_phone,
        contact_email=complaint.contact_email,
        received_at=complaint.received_at,
        refuse_by=refuse_by,
        answer_due_at=complaint.answer_due_at,
        answered_at=complaint.answered_at,
        answer=complaint.answer,
        overdue=bool(open_now and complaint.answer_due_at is not None and complaint.answer_due_at < now),
    )


async def agency_complaint(session: AsyncSession, code: str, actor: Actor) -> Complaint:
    """The complaint, locked, if it is about the caller's agency (any agency for an administrator)."""
    query = select(Complaint).where(Complaint.code == code)
    if not actor.has_any(RoleCode.ADMIN):
        query = query.where(Complaint.agency_id == actor.agency_id)
    complaint = await session.scalar(query.with_for_update())
    if complaint is None:
        raise NotFound("No complaint with that code for your agency.", code="complaint_not_found")
    return complaint


async def agency_complaints(
    session: AsyncSession, actor: Actor, *, state: str | None, limit: int, origin: Origin, now: datetime
) -> list[ComplaintStaffOut]:
    """The agency's complaints, oldest deadline first, with their contacts: an audited read."""
    query = select(Complaint).order_by(Complaint.answer_due_at, Complaint.received_at).limit(limit)
    if not actor.has_any(RoleCode.ADMIN):
        query = query.where(Complaint.agency_id == actor.agency_id)
    if state is not None:
        query = query.where(Complaint.status == state)
    rows = (await session.scalars(query)).all()
    entry = audit_entry(
        service="intake", action="read", resource=origin.route, origin=origin, actor=actor,
        detail={"count": len(rows)},
    )  # fmt: skip
    record(session, entry)
    return [await staff_view(session, row, now) for row in rows]


async def _close(
    session: AsyncSession,
    complaint: Complaint,
    *,
    status: str,
    text: str,
    event_type: str,
    staff_id: uuid.UUID | None,
    now: datetime,
) -> None:
    if complaint.status != "received":
        raise Conflict(f"This complaint is already {complaint.status}.", code="complaint_closed")
    complaint.status = status
    complaint.answer = text
    complaint.answered_at = now
    complaint.answered_by_staff_id = staff_id
    await emit(
        session,
        event_type=event_type,
        source="intake",
        destination="notify",
        dossier_id=complaint.dossier_id,
        payload={
            "complaint_id": str(complaint.id),
            "complaint_code": complaint.code,
            "agency_id": str(complaint.agency_id),
        },
    )
    await session.flush()


async def answer_complaint(
    session: AsyncSession, code: str, data: AnswerIn, *, actor: Actor, now: datetime
) -> ComplaintStaffOut:
    """Answer (and publish, unless told not to)."""
    complaint = await agency_complaint(session, code, actor)
    await _close(
        session,
        complaint,
        status="published" if data.publish else "answered",
        text=data.answer,
        event_type="complaint.answered",
        staff_id=actor.staff_id,
        now=now,
    )
    return await staff_view(session, complaint, now)


async def refuse_complaint(
    session: AsyncSession, code: str, data: ComplaintRefusalIn, *, actor: Actor, now: datetime
) -> ComplaintStaffOut:
    """Decline to handle it, with the reason (which the citizen is told)."""
    complaint = await agency_complaint(session, code, actor)
    await _close(
        session,
        complaint,
        status="refused",
        text=data.reason,
        event_type="complaint.refused",
        staff_id=actor.staff_id,
        now=now,
    )
    return await staff_view(session, complaint, now)
