"""What every printed form (Mẫu số 01 to 07) says of the issuing agency, for intake's desk forms and
workflow's apology, stop and control sheet alike: the agency, its parent and the place on the date line;
and printing a dossier's form for staff (``print_for_staff``): the one access rule, then the print as an
audited read (a form holds the applicant's personal data).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin, record_printed
from services.core.auth import Actor
from services.core.offload import ProcessOffload
from services.dossier import forms
from services.dossier.access import dossier_for
from services.models import Agency, Dossier

PLACE = "Hải Phòng"  # the demo province; a deployment sets its agencies' place in data later


async def agency_header(session: AsyncSession, agency: Agency) -> forms.AgencyHeader:
    """The header of a form the agency issues: its name under its parent's, and the place it signs at."""
    parent = await session.get(Agency, agency.parent_id) if agency.parent_id else None
    return forms.AgencyHeader(name=agency.name, place=PLACE, parent_name=parent.name if parent else None)


class Renderer(Protocol):
    """A dossier form's renderer (``supplement_pdf`` …): the PDF of the dossier as it stands."""

    def __call__(
        self, session: AsyncSession, dossier: Dossier, *, offload: ProcessOffload, now: datetime
    ) -> Awaitable[bytes]: ...


async def print_for_staff(
    session: AsyncSession, code: str, actor: Actor, *, form: str, render: Renderer, origin: Origin,
    offload: ProcessOffload, now: datetime,
) -> bytes:  # fmt: skip
    """Form ``form`` (its number: "02" …) of a dossier the caller may see, by ``render``; the print is audited."""
    dossier = await dossier_for(session, code, actor)
    pdf = await render(session, dossier, offload=offload, now=now)
    # audited once rendered: the render hands the request's connection back first (ProcessOffload.run_released), which
    # a pending audit line would prevent; a print that failed printed nothing
    record_printed(session, origin, actor, dossier.id, form)
    return pdf
