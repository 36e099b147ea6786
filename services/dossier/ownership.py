"""The one rule for a signed-in citizen and a dossier: a citizen owns the dossiers filed in their CCCD number.

The staff have ``services.dossier.access``; a citizen signed in through the identity provider has this:
a dossier is theirs when its ``applicant_id_number`` is the CCCD the provider vouched for (whoever filed
it: online, at the counter, by post). Every citizen route asks it — "Hồ sơ của tôi", a dossier's view,
the reusable documents — and so will "download the result from my account" (issue 16 §3): ``owns`` is the
decision, ``owned_clause`` the same decision as SQL, ``owned_dossier`` the look-up with the answer for a
dossier that is not the caller's: 404 ``dossier_not_found``, the same as a code that does not exist, so a
citizen cannot probe other people's codes.

A business's tax code is not a CCCD: a business's dossiers are not listed (citizen accounts are personal).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import NotFound
from services.models import Dossier


@dataclass(frozen=True)
class Owner:
    """A signed-in citizen as the rule needs them: their account (for audit lines) and their CCCD."""

    account_id: uuid.UUID
    id_number: str

    @property
    def audit_name(self) -> str:
        """How audit lines name the citizen: the account, never the CCCD or the name."""
        return f"citizen:{self.account_id}"


def owns(owner: Owner, dossier: Dossier) -> bool:
    """Whether ``dossier`` is the citizen's: filed in their CCCD number."""
    return bool(owner.id_number) and dossier.applicant_id_number == owner.id_number


def owned_clause(owner: Owner) -> ColumnElement[bool]:
    """``owns`` as a WHERE clause on ``dossier``."""
    return Dossier.applicant_id_number == owner.id_number


async def owned_dossier(session: AsyncSession, owner: Owner, code: str, *, lock: bool = False) -> Dossier:
    """The citizen's dossier ``code``; 404 when there is none or it is someone else's (the same answer)."""
    query = select(Dossier).where(Dossier.code == code[:64], owned_clause(owner))
    dossier = await session.scalar(query.with_for_update(key_share=True) if lock else query)  # FOR NO KEY UPDATE
    if dossier is None or not owns(owner, dossier):
        raise NotFound("You have no dossier with this code.", code="dossier_not_found")
    return dossier
