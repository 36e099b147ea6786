"""What every printed form (Mẫu số 01 to 07) says of the issuing agency, for intake's desk forms and
workflow's apology, stop and control sheet alike: the agency, its parent and the place on the date line.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.dossier import forms
from services.models import Agency

PLACE = "Hải Phòng"  # the demo province; a deployment sets its agencies' place in data later


async def agency_header(session: AsyncSession, agency: Agency) -> forms.AgencyHeader:
    """The header of a form the agency issues: its name under its parent's, and the place it signs at."""
    parent = await session.get(Agency, agency.parent_id) if agency.parent_id else None
    return forms.AgencyHeader(name=agency.name, place=PLACE, parent_name=parent.name if parent else None)
