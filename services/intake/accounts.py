"""Citizen accounts (tài khoản công dân): the account behind a session, sign-in and sign-out, "Hồ sơ của tôi",
one dossier's view without its secret, and the citizen's stored documents (kho dữ liệu của công dân).

The account is found, or made, by the provider's ``issuer`` + ``sub`` at each sign-in and refreshed from the
ID token (a citizen's name may change; the CCCD is the provider's word). Every read goes through
``services.dossier.ownership`` (the dossiers filed in the citizen's CCCD number). Audit lines name the
citizen by their account (``citizen:<uuid>``), never by CCCD or name; sign-ins, refused sign-ins and
sign-outs are audited like the staff's.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin, audit_entry, record
from services.core.citizen_session import SessionClaims
from services.core.config import Settings
from services.core.db import fetch_row
from services.core.errors import NotFound, Unauthorized
from services.core.validation import StrictModel
from services.domain.vocabulary import DossierStatus
from services.dossier import eresult
from services.dossier.ownership import Owner, owned_clause, owned_dossier
from services.dossier.views import held_appointment, state_fields
from services.intake.oidc import Identity
from services.intake.schemas import TrackingOut
from services.intake.tracking import OWNED_VIEW, view_out
from services.models import CitizenAccount, Document, Dossier, Procedure, ProcedureVersion
from services.models.audit import AuditLog

LIST_LIMIT = 200  # a citizen's dossiers over a lifetime: a few dozen; the page lists the newest 200


class CitizenProfileOut(BaseModel):
    """Who is signed in, as the provider vouched: what the submission form shows and does not let them type."""

    full_name: str
    id_number: str = Field(description="the CCCD number from the provider")
    birthdate: str | None = None
    phone: str | None = Field(default=None, description="as the provider gave it; the form lets the citizen change it")
    email: str | None = None
    address: str | None = None


class MyDossierItem(BaseModel):
    code: str
    status: DossierStatus
    status_code: int
    status_label: str
    procedure_code: str
    procedure_name: str
    submitted_at: datetime | None
    due_at: datetime | None = Field(description="the appointment the citizen holds")


class MyDossiersOut(BaseModel):
    items: list[MyDossierItem]
    total: int


class StoredDocumentOut(BaseModel):
    """A file of one of the citizen's dossiers, which a new submission may reuse (with their consent)."""

    id: uuid.UUID
    dossier_code: str
    kind: str = Field(description="input, supplement or result")
    required_code: str | None
    filename: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime


class MyDossierOut(TrackingOut):
    documents: list[StoredDocumentOut] = Field(default_factory=list)


class MyResultIn(StrictModel):
    document_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{36}$",
        description="which result file (an id from the dossier view's `results`); none: the first",
    )


def owner_of(account: CitizenAccount) -> Owner:
    return Owner(account_id=account.id, id_number=account.id_number)


async def signed_in(session: AsyncSession, claims: SessionClaims) -> CitizenAccount:
    """The account of a valid session cookie; 401 when the account is gone or signed out since (its version)."""
    account = await session.get(CitizenAccount, claims.account_id)
    if account is None or account.token_version != claims.token_version:
        raise Unauthorized("Your session has ended; sign in again.", code="citizen_session_required")
    return account


async def sign_in(session: AsyncSession, identity: Identity, *, origin: Origin, now: datetime) -> CitizenAccount:
    """The citizen's account, made at the first sign-in and refreshed from the ID token at every later one."""
    account = await session.scalar(
        select(CitizenAccount)
        .where(CitizenAccount.issuer == identity.issuer, CitizenAccount.subject == identity.subject)
        .with_for_update()
    )
    if account is None:
        account = CitizenAccount(id=uuid.uuid4(), issuer=identity.issuer, subject=identity.subject, token_version=0)
        session.add(account)
    account.id_number = identity.id_number
    account.full_name = identity.full_name
    account.profile = dict(identity.profile)
    account.signed_in_at = now
    await session.flush()
    record(session, _entry(origin, "citizen_login", owner_of(account)))
    return account


async def sign_out(session: AsyncSession, account: CitizenAccount, *, origin: Origin) -> None:
    """Sign out everywhere: the version every session of the account carries is raised."""
    await session.execute(
        update(CitizenAccount)
        .where(CitizenAccount.id == account.id)
        .values(token_version=CitizenAccount.token_version + 1)
    )
    record(session, _entry(origin, "citizen_logout", owner_of(account)))


def refused_entry(origin: Origin, code: str) -> AuditLog:
    """A refused sign-in (written on its own connection by the router: nothing else of the request stays)."""
    return audit_entry(
        service=origin.service, action="citizen_login_failed", resource=origin.route, origin=origin,
        username="citizen:unknown", detail={"code": code},
    )  # fmt: skip


def _entry(origin: Origin, action: str, owner: Owner, **more: object) -> AuditLog:
    return audit_entry(
        service=origin.service, action=action, resource=origin.route, origin=origin, username=owner.audit_name,
        **more,  # type: ignore[arg-type]
    )  # fmt: skip


def profile(account: CitizenAccount) -> CitizenProfileOut:
    given = account.profile or {}
    return CitizenProfileOut(
        full_name=account.full_name, id_number=account.id_number, birthdate=given.get("birthdate"),
        phone=given.get("phone_number"), email=given.get("email"), address=given.get("address"),
    )  # fmt: skip


async def my_dossiers(session: AsyncSession, owner: Owner) -> MyDossiersOut:
    """Every dossier filed in the citizen's CCCD number, newest first (at most ``LIST_LIMIT``)."""
    query = (
        select(Dossier, Procedure.code, Procedure.name)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(owned_clause(owner))
        .order_by(Dossier.submitted_at.desc().nulls_last(), Dossier.code.desc())
        .limit(LIST_LIMIT)
    )
    rows = (await session.execute(query)).all()
    total = await session.scalar(select(func.count()).select_from(Dossier).where(owned_clause(owner)))
    items = [
        MyDossierItem(
            **state_fields(dossier.code, dossier.status),
            procedure_code=code,
            procedure_name=name,
            submitted_at=dossier.submitted_at,
            due_at=held_appointment(dossier.appointment_at, dossier.due_at),
        )
        for dossier, code, name in rows
    ]
    return MyDossiersOut(items=items, total=int(total or 0))


async def my_dossier(session: AsyncSession, owner: Owner, code: str, *, now: datetime) -> MyDossierOut:
    """The tracking view of one of the citizen's dossiers, with its files; 404 for anyone else's."""
    row = await fetch_row(session, OWNED_VIEW, code[:64], owner.id_number)
    if row is None:
        raise NotFound("You have no dossier with this code.", code="dossier_not_found")
    view = view_out(row, now)
    return MyDossierOut(**view.model_dump(), documents=await stored_documents(session, owner, code=code))


async def stored_documents(session: AsyncSession, owner: Owner, *, code: str | None = None) -> list[StoredDocumentOut]:
    """The files of the citizen's dossiers (of one, with ``code``), newest first: kho dữ liệu của công dân."""
    query = (
        select(Document, Dossier.code)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(owned_clause(owner))
        .order_by(Document.created_at.desc(), Document.id)
        .limit(LIST_LIMIT)
    )
    if code is not None:
        query = query.where(Dossier.code == code)
    return [
        StoredDocumentOut(
            id=document.id,
            dossier_code=dossier_code,
            kind=document.kind,
            required_code=document.required_code,
            filename=document.filename,
            content_type=document.content_type,
            size_bytes=document.size_bytes,
            uploaded_at=document.created_at,
        )
        for document, dossier_code in (await session.execute(query)).all()
    ]


async def download_result(
    session: AsyncSession, settings: Settings, owner: Owner, code: str, body: MyResultIn, *, now: datetime,
    origin: Origin,
) -> eresult.ResultFile:  # fmt: skip
    """An electronic result from "Hồ sơ của tôi": the ownership rule stands in for the secret, the rest is the
    secret holder's download (services.dossier.eresult: decided, audited under the account, and the first
    download returns the dossier). Someone else's dossier is 404, as for every citizen route."""
    dossier = await owned_dossier(session, owner, code, lock=True)
    return await eresult.deliver(
        session, settings, dossier, body.document_id, now=now, origin=origin, source="intake",
        username=owner.audit_name,
    )  # fmt: skip
