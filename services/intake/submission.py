"""Filing a dossier: online (the citizen, answered with the code and the secret) or at the counter
(received at once, its legal clock started by the receipt rules).

One request is one effect: with an ``Idempotency-Key`` the first answer is stored (the secret sealed)
and replayed to a repeat (``services.core.idempotency.once``). A counter filing is an audited change
(the officer typed the applicant's personal data). The uploaded files become the dossier's input
documents (``services.intake.documents``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.core import idempotency
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.config import Settings
from services.intake import dossiers as intake
from services.intake.documents import Upload, attach
from services.intake.schemas import SubmissionIn
from services.intake.views import dossier_out
from services.models import Dossier
from services.sla.clocks import WarningPolicy

Model = TypeVar("Model", bound=BaseModel, covariant=True)  # a counter submission is a submission
SEALED = ("secret",)  # the tracking secret is never stored in clear with an idempotent answer


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
    return WarningPolicy(settings.sla_warning_seconds)


async def submit(
    session: AsyncSession,
    settings: Settings,
    parsed: Parsed[SubmissionIn],
    *,
    actor: Actor | None,
    origin: Origin,
    key: str | None,
    now: datetime,
) -> idempotency.Answer:
    """File the dossier: online (``actor`` None: by post when it asks for a pickup) or at the counter."""

    async def work() -> dict[str, Any]:
        channel = Channel.COUNTER if actor else (Channel.POSTAL if parsed.data.pickup_by_post else Channel.ONLINE)
        created = await intake.create(session, settings, parsed.data, channel=channel, now=now, actor=actor)
        dossier = created.dossier
        attach(
            session, settings, dossier, parsed.uploads, kind="input", now=now,
            staff_id=actor.staff_id if actor else None,
        )  # fmt: skip
        if actor is not None:
            await intake.receive(
                session, dossier, at=now, channel=Channel.COUNTER, policy=policy(settings), actor=actor
            )
            record_filing(session, origin, actor, dossier)
        await session.flush()
        return (await dossier_out(session, dossier, secret=created.secret)).model_dump(mode="json")

    return await idempotency.once(
        session, settings, route=origin.route, key=key, staff_id=actor.staff_id if actor else None,
        client_address=origin.client_ip, payload=parsed.fingerprint_source, now=now, work=work, sealed=SEALED,
    )  # fmt: skip
