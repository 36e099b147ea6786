"""The routing rule: where a dossier stands in its workflow template, what its state and step allow,
and who may do it — the rule behind the engine's transitions (``services.workflow.engine``), the
desk's actions and the staff SPA's buttons (``allowed_actions``), in one place every service builds on.

``resolvable_positions`` is the "no dossier is stranded" rule the engine's docstring explains: a
``processing`` dossier only ever moves to a step from which it can still be resolved. Template
validation (``services.workflow.templates``) checks templates against the same function.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Actor
from services.core.errors import Forbidden
from services.domain.vocabulary import LEADER_ROLES, OPEN, RoleCode
from services.models import Dossier, SlaTimer, WorkflowStep

# the delegation a counter officer needs to resolve a "4 tại chỗ" procedure (services.workflow.on_the_spot):
# the role of the single step of such a template, so the routing rule below is the one that checks it
ON_THE_SPOT_ROLE = RoleCode.ON_THE_SPOT
# the step's own actions on a processing dossier; the others follow the dossier's status
WORKING_ACTIONS = frozenset(
    {"forward", "transfer", "send_back", "request_supplement", "request_payment", "resolve", "stop"}
)
Action = Literal[
    "forward",
    "send_back",
    "request_supplement",
    "request_payment",
    "transfer",
    "resolve",
    "stop",
    "return_result",
    "apologize",
    "withdraw",
]


class ActionForbidden(Forbidden):
    """The dossier's state allows the action but not for this caller (a denial, audited with the dossier)."""

    def __init__(self, detail: str, *, dossier_id: uuid.UUID, code: str = "action_forbidden") -> None:
        super().__init__(detail, code=code)
        self.dossier_id = dossier_id


@dataclass
class Position:
    """Where a dossier stands in its template."""

    steps: list[WorkflowStep]
    step: WorkflowStep | None
    timer: SlaTimer | None

    @property
    def index(self) -> int | None:
        return self.steps.index(self.step) if self.step is not None else None

    @property
    def next_step(self) -> WorkflowStep | None:
        index = self.index
        return self.steps[index + 1] if index is not None and index + 1 < len(self.steps) else None

    def resolvable(self, dossier: Dossier) -> frozenset[int]:
        """The indices of the steps ``dossier`` can still be resolved from (``resolvable_positions``)."""
        return resolvable_positions(
            [step.allowed_actions for step in self.steps], [step_unit(step, dossier) for step in self.steps]
        )

    def send_back_targets(self, dossier: Dossier) -> list[WorkflowStep]:
        """The earlier steps a send_back may go to: the resolvable ones, nearest last."""
        index = self.index
        if index is None:
            return []
        resolvable = self.resolvable(dossier)
        return [step for earlier, step in enumerate(self.steps[:index]) if earlier in resolvable]


def resolvable_positions(actions: Sequence[Collection[str]], units: Sequence[Hashable]) -> frozenset[int]:
    """The indices of the steps from which a processing dossier can still be resolved (module docstring).

    ``actions[i]`` are step i's allowed actions, ``units[i]`` its unit (``transfer`` needs another unit
    next). Pure: the engine passes the dossier's units, template validation the steps' agency codes.
    """
    found: set[int] = set()
    changed = True
    while changed:
        changed = False
        for index, listed in enumerate(actions):
            if index in found:
                continue
            moves_on = index + 1 < len(actions) and (
                "forward" in listed or ("transfer" in listed and units[index + 1] != units[index])
            )
            if (
                "resolve" in listed
                or (moves_on and index + 1 in found)
                or ("send_back" in listed and any(earlier < index for earlier in found))
            ):
                found.add(index)
                changed = True
    return frozenset(found)


def first_working_index(codes: Sequence[str]) -> int:
    """The step routing starts at: the receiving step happened at the desk (intake_api)."""
    return 1 if codes and codes[0] == "receive" and len(codes) > 1 else 0


def step_unit(step: WorkflowStep, dossier: Dossier) -> uuid.UUID:
    return step.agency_id or dossier.receiving_agency_id


# a template's steps in order, and a dossier's running step clock: built once (read at every routing and
# transition; issue 14, bench/profiles/2026-12-06-sender.md)
_STEPS = (
    select(WorkflowStep).where(WorkflowStep.template_id == bindparam("template_id")).order_by(WorkflowStep.position)
)
_OPEN_STEP_CLOCK = (
    select(SlaTimer)
    .where(SlaTimer.dossier_id == bindparam("dossier_id"), SlaTimer.kind == "step", SlaTimer.ended_at.is_(None))
    .order_by(SlaTimer.step_seq.desc())
    .limit(1)
)


async def position(session: AsyncSession, dossier: Dossier) -> Position:
    if dossier.workflow_template_id is None:
        return Position(steps=[], step=None, timer=None)
    steps = list((await session.scalars(_STEPS, {"template_id": dossier.workflow_template_id})).all())
    step = next((s for s in steps if s.position == dossier.current_step_position), None)
    timer = await session.scalar(_OPEN_STEP_CLOCK, {"dossier_id": dossier.id})
    return Position(steps=steps, step=step, timer=timer)


def may_act_on_step(dossier: Dossier, step: WorkflowStep | None, actor: Actor) -> bool:
    if step is None:
        return False
    if actor.has_any(RoleCode.ADMIN):
        return True
    return actor.agency_id == step_unit(step, dossier) and (
        actor.has_any(step.role_code) or actor.staff_id == dossier.current_assignee_id
    )


def possible_actions(dossier: Dossier, where: Position) -> list[str]:
    """What the dossier's state and step allow, whoever asks."""
    actions: list[str] = []
    step = where.step
    if dossier.status == "processing" and step is not None and where.index is not None:
        following = where.next_step
        resolvable = where.resolvable(dossier)
        for action in step.allowed_actions:
            if action in {"forward", "transfer"} and (following is None or where.index + 1 not in resolvable):
                continue  # never to a step the dossier could not be resolved from
            if (
                action == "transfer"
                and following is not None
                and step_unit(following, dossier) == step_unit(step, dossier)
            ):
                continue
            if action == "send_back" and not where.send_back_targets(dossier):
                continue
            if action not in WORKING_ACTIONS:
                continue
            actions.append(action)
        if where.index not in resolvable and "send_back" not in actions and where.send_back_targets(dossier):
            actions.append("send_back")  # stranded before the rule: the way back to a step that can resolve
    if dossier.status == "resolved" and dossier.return_method != "postal":
        actions.append("return_result")
    if dossier.status in OPEN and not dossier.apology_issued:
        actions.append("apologize")
    if dossier.status in OPEN:
        actions.append("withdraw")
    return actions


def caller_may(dossier: Dossier, where: Position, actor: Actor, action: str) -> bool:
    if actor.has_any(RoleCode.ADMIN):
        return True
    counter_here = actor.agency_id == dossier.receiving_agency_id and actor.has_any(RoleCode.COUNTER)
    if action == "return_result":
        return counter_here
    if action == "apologize":
        responsible = actor.agency_id in {dossier.current_agency_id, dossier.receiving_agency_id}
        return responsible and actor.has_any(*LEADER_ROLES, RoleCode.COUNTER)
    if action == "withdraw":
        return counter_here or (dossier.status == "processing" and may_act_on_step(dossier, where.step, actor))
    return may_act_on_step(dossier, where.step, actor)


async def allowed_actions(session: AsyncSession, dossier: Dossier, actor: Actor) -> list[str]:
    """What the caller may do now: the buttons the staff SPA shows."""
    where = await position(session, dossier)
    return [action for action in possible_actions(dossier, where) if caller_may(dossier, where, actor, action)]
