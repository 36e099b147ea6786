"""The one access rule for staff and dossiers, in every service: who may see a dossier, and who may
do what to it now.

Seeing (``dossier_for``): administrators and inspectors see every dossier; other staff the dossiers
their agency received, holds now or was handed at some step. Any other code is a 404, the same
answer as a code that does not exist, so codes cannot be probed.

Acting (``authorize``): the state is checked first (409 when nobody may do it now), then the caller
(403). The routing actions are the engine's rule itself — the step's allowed actions, the step's
unit and role (or the assigned officer), the counter of the receiving desk for the return — the very
rule that computes ``allowed_actions``. The desk's own actions map onto it:

- before receipt (``submitted``, or ``awaiting_supplement`` before acceptance) the dossier is at the
  receiving desk: its counter officers accept, refuse, ask for a supplement and add documents;
- ``received`` and not yet routed: staff of the agency that holds it;
- ``processing``: asking for a supplement or a payment, and adding documents, is for whoever may
  act on the current step (the step must allow the supplement or payment request); a result is
  attached by whoever may ``resolve`` it;
- ``resolved``: a result is attached by whoever may return it (the receiving desk's counter), who
  also asks the post to deliver again a result it brought back to the desk.

Administrators pass every caller check (never a state check). Counter intake files into the
officer's own desk only (``services.dossier.filing.receiving_agency``).

Resolving on the spot ("4 tại chỗ", ``authorize_on_the_spot``) receives, decides and returns in one
visit, so it is for a counter officer of the receiving desk who holds the delegation (the
``on_the_spot`` role) — and for nobody else, administrators included: signing a result is not an
administration task. The desk is checked when the dossier is filed (``not_your_desk``), and each of
its steps then goes through the engine's rule above like any other transition.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Actor
from services.core.errors import Conflict, Forbidden, NotFound
from services.domain.vocabulary import (
    AWAITING_RECEIPT,
    BEFORE_RECEIPT,
    NOT_CLOSED,
    RUNNING,
    SEE_ALL_ROLES,
    DossierStatus,
    RoleCode,
)
from services.dossier.steps import (
    ON_THE_SPOT_ROLE,
    ActionForbidden,
    caller_may,
    may_act_on_step,
    position,
    possible_actions,
)
from services.models import Dossier, Handover

DeskAction = Literal[
    "accept", "refuse", "request_supplement", "request_payment", "attach_input", "attach_result", "request_redelivery"
]
# the states each desk action's service accepts; any other is a 409 for every caller
_STATES: dict[DeskAction, frozenset[str]] = {
    "accept": frozenset({"submitted"}),
    "refuse": AWAITING_RECEIPT,
    "request_supplement": BEFORE_RECEIPT | RUNNING,
    "request_payment": RUNNING,
    "attach_input": NOT_CLOSED,
    "attach_result": RUNNING | {DossierStatus.RESOLVED},
    "request_redelivery": frozenset({"resolved"}),
}


class HiddenDossier(NotFound):
    """Not visible to the caller (or no such code): a denial, audited by the problem handler."""

    denial = True


async def dossier_for(session: AsyncSession, code: str, actor: Actor, *, lock: bool = False) -> Dossier:
    """The dossier if the caller may see it; 404 otherwise, so codes cannot be probed."""
    query = select(Dossier).where(Dossier.code == code)
    if not actor.has_any(*SEE_ALL_ROLES):
        touched = select(Handover.dossier_id).where(
            Handover.dossier_id == Dossier.id, Handover.to_agency_id == actor.agency_id
        )
        query = query.where(
            or_(
                Dossier.receiving_agency_id == actor.agency_id,
                Dossier.current_agency_id == actor.agency_id,
                touched.exists(),
            )
        )
    if lock:
        query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE: services.workflow.engine
    dossier = await session.scalar(query)
    if dossier is None:
        raise HiddenDossier("No dossier with that code is visible to you.", code="dossier_not_found")
    return dossier


async def _desk_may(session: AsyncSession, dossier: Dossier, actor: Actor, action: DeskAction) -> bool | None:
    """True or False for the caller; None when the dossier's state (or step) allows nobody."""
    status = dossier.status
    if status in AWAITING_RECEIPT and dossier.received_at is None:
        return actor.agency_id == dossier.receiving_agency_id and actor.has_any(RoleCode.COUNTER)
    if status == "received" and dossier.workflow_template_id is None:
        return actor.agency_id == dossier.current_agency_id
    where = await position(session, dossier)
    if action in {"request_supplement", "request_payment"}:
        if action not in possible_actions(dossier, where):
            return None
        return caller_may(dossier, where, actor, action)
    if action == "request_redelivery":  # a result the post brought back waits at the desk: who may return it
        if "return_result" not in possible_actions(dossier, where):
            return None
        return caller_may(dossier, where, actor, "return_result")
    if action == "attach_result":
        doable = [a for a in ("resolve", "return_result") if a in possible_actions(dossier, where)]
        if not doable:
            return None
        return any(caller_may(dossier, where, actor, a) for a in doable)
    if action == "attach_input":
        if status == "received":  # routed but its first step not entered yet: the desk still holds it
            return actor.agency_id == dossier.current_agency_id
        return may_act_on_step(dossier, where.step, actor) or (
            actor.agency_id == dossier.receiving_agency_id and actor.has_any(RoleCode.COUNTER)
        )
    return None


async def authorize(session: AsyncSession, dossier: Dossier, actor: Actor, action: DeskAction) -> None:
    """The desk's action on a visible dossier: 409 when its state allows nobody, 403 when not this caller."""
    if dossier.status not in _STATES[action]:
        raise Conflict(
            f"Not possible while the dossier is {dossier.status}.", code="invalid_state", status_now=dossier.status
        )
    verdict = await _desk_may(session, dossier, actor, action)
    if verdict is None:
        raise Conflict(
            f"'{action}' is not possible at this step (the dossier is {dossier.status}).", code="action_not_allowed"
        )
    if not verdict and not actor.has_any(RoleCode.ADMIN):
        raise ActionForbidden("Your role or agency may not do this at this step.", dossier_id=dossier.id)


async def dossier_to_act_on(session: AsyncSession, code: str, actor: Actor, action: DeskAction) -> Dossier:
    """The dossier, locked, once the caller may see it (404) and may do ``action`` to it now (409, 403)."""
    dossier = await dossier_for(session, code, actor, lock=True)
    await authorize(session, dossier, actor, action)
    return dossier


def authorize_on_the_spot(actor: Actor) -> None:
    """403 unless the caller is a counter officer holding the delegation to resolve on the spot."""
    if not (actor.has_any(RoleCode.COUNTER) and actor.has_any(ON_THE_SPOT_ROLE)):
        raise Forbidden(
            "Resolving on the spot needs a counter officer with the delegation to sign (role on_the_spot).",
            code="delegation_required",
        )
