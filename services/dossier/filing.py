"""Filing a dossier (nộp hồ sơ): online, at the desk, or at the desk to be resolved on the spot. The
dossier gets its code, its secret and the version in force, and its first hand-over line and event.

Intake's routes and workflow's "4 tại chỗ" (``services.workflow.on_the_spot``) both file through
``create``; the receipt itself is ``services.dossier.lifecycle.receive``. Both take the request's body as
``Parsed`` (the data, the files, the idempotency fingerprint), answer idempotently with the secret sealed
(``SEALED``) and audit a filing by staff (``record_filing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.calendar.working import VN_TZ
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.config import Settings
from services.core.errors import Forbidden, Unprocessable
from services.domain.vocabulary import RoleCode
from services.dossier.catalogued import Catalogued, in_force_with_desks, information_only_ids, receiving_desk
from services.dossier.documents import Upload
from services.dossier.notes import fixed
from services.dossier.record import Source, announce, handover
from services.dossier.schemas import SubmissionIn
from services.dossier.secrets import new_secret, secret_hash
from services.models import Agency, Dossier, DossierSequence, Procedure, ProcedureVersion
from services.models.dossier import dossier_code
from services.sla.clocks import WarningPolicy

Model = TypeVar("Model", bound=BaseModel, covariant=True)  # a counter submission is a submission
SEALED = ("secret",)  # the tracking secret is never stored in clear with an idempotent answer


async def next_code(session: AsyncSession, agency: Agency, day: date) -> str:
    """``<agency code>-<yymmdd>-<nnnn>``: the row lock of the day's counter makes codes unique."""
    value = await session.scalar(
        insert(DossierSequence)
        .values(agency_id=agency.id, day=day, last_value=1)
        .on_conflict_do_update(index_elements=["agency_id", "day"], set_={"last_value": DossierSequence.last_value + 1})
        .returning(DossierSequence.last_value)
    )
    return dossier_code(agency.code, day, int(value or 0))


@dataclass(frozen=True)
class Created:
    dossier: Dossier
    procedure: Procedure
    version: ProcedureVersion
    agency: Agency
    secret: str

    @property
    def catalogued(self) -> Catalogued:
        return Catalogued(self.version, self.procedure, self.agency)


async def create(
    session: AsyncSession,
    settings: Settings,
    data: SubmissionIn,
    *,
    channel: Channel,
    now: datetime,
    actor: Actor | None = None,
    source: Source,
) -> Created:
    today = now.astimezone(VN_TZ).date()
    procedure, version, desks = await in_force_with_desks(session, data.procedure_code, today)
    if await information_only_ids(session, [version]):
        raise Unprocessable(
            "This procedure is listed for information only: no workflow is configured for it here, "
            "so it is not received online; see where to go on its page.",
            code="procedure_information_only",
        )
    if actor is None and version.online_mode == "none":
        raise Unprocessable("This procedure is only received at the counter.", code="procedure_not_online")
    if data.return_method == "postal" and not version.postal_return:
        raise Unprocessable("This procedure's result cannot be returned by post.", code="postal_return_not_allowed")
    if data.pickup_by_post and not version.postal_submission:
        raise Unprocessable("This procedure cannot be filed by post.", code="postal_submission_not_allowed")
    agency = receiving_desk(desks, data.agency_code, fallback=actor.agency_id if actor else None)
    if actor is not None and not actor.has_any(RoleCode.ADMIN) and agency.id != actor.agency_id:
        # counter intake files into the officer's own desk only (services.dossier.access)
        raise Forbidden("A counter officer files dossiers at their own desk only.", code="not_your_desk")
    code = await next_code(session, agency, today)
    secret = new_secret()
    dossier = Dossier(
        code=code,
        procedure_version_id=version.id,
        receiving_agency_id=agency.id,
        current_agency_id=agency.id,
        status="submitted",
        channel=int(channel),
        applicant_kind=data.applicant.kind,
        applicant_name=data.applicant.full_name,
        applicant_id_number=data.applicant.id_number,
        applicant_phone=data.applicant.phone,
        applicant_email=str(data.applicant.email) if data.applicant.email else None,
        applicant_address=data.applicant.address,
        applicant_locale=data.language,
        return_method=data.return_method,
        postal_address=data.postal_address,
        secret_hash=secret_hash(settings, code, secret),
        submitted_at=now,
    )
    session.add(dossier)
    await session.flush()  # first: the rows naming it follow in the next flush, one INSERT per table
    handover(
        session,
        dossier,
        action="submit",
        at=now,
        actor=actor,
        public_note=fixed("submitted_online" if actor is None else "submitted_at_desk"),
    )
    await announce(session, dossier, "dossier.submitted", source=source)
    return Created(dossier=dossier, procedure=procedure, version=version, agency=agency, secret=secret)


@dataclass(frozen=True)
class Parsed(Generic[Model]):
    """A request's body as parsed by the API: the validated data, the files, and what its idempotency
    fingerprint is taken of (the data as JSON and each file's field, name and SHA-256)."""

    data: Model
    uploads: list[Upload]
    fingerprint_source: dict[str, Any]


def record_filing(session: AsyncSession, origin: Origin, actor: Actor, dossier: Dossier) -> None:
    """Staff filed a dossier for the citizen: an audited change (they typed the applicant's personal data)."""
    entry = audit_entry(
        service="intake", action="create", resource=origin.route, origin=origin, actor=actor, dossier_id=dossier.id
    )
    record(session, entry)


def policy(settings: Settings) -> WarningPolicy:
    """The clocks' warning window, from the settings."""
    return WarningPolicy(settings.sla.warning_seconds)
