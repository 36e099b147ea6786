"""Complaints and suggestions (phản ánh, kiến nghị — hòm phiếu góp ý) sent by citizens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import NotFound
from services.core.validation import normalise_vn_phone
from services.models import Agency, Complaint, Dossier
from services.outbox import emit

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ComplaintContact(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    email: EmailStr | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_vn_phone(value) if value else None


class ComplaintIn(BaseModel):
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


async def submit_complaint(session: AsyncSession, data: ComplaintIn, *, now: datetime | None = None) -> Complaint:
    """Store the complaint and tell notify_api, in one transaction."""
    received_at = now or datetime.now(UTC)
    agency = await session.scalar(select(Agency).where(Agency.code == data.agency_code))
    if agency is None:
        raise NotFound(f"No agency with code {data.agency_code!r}.", code="agency_not_found")
    dossier_id = None
    if data.dossier_code:
        dossier_id = await session.scalar(select(Dossier.id).where(Dossier.code == data.dossier_code))
        if dossier_id is None:
            raise NotFound("No dossier with that code.", code="dossier_not_found")
    contact = data.contact or ComplaintContact()
    complaint = Complaint(
        code=_new_code(received_at),
        kind=data.kind,
        agency_id=agency.id,
        dossier_id=dossier_id,
        subject=data.subject,
        content=data.content,
        contact_name=contact.name,
        contact_phone=contact.phone,
        contact_email=str(contact.email) if contact.email else None,
        received_at=received_at,
    )
    session.add(complaint)
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
    return complaint
