"""What a workflow template must satisfy (quy trình nội bộ): the rules, checked without a database.

``template_problems`` takes the steps as plain data (``StepSpec``) with the roles and agencies known to
exist; ``services.workflow.templates`` looks those up and stores templates. Pure, so the property tests
(tests/workflow/test_engine_model.py) can run the rules over thousands of generated templates.

Validation rules — a refusal is a 422 problem whose ``code`` names the first rule broken, with ``field``
(``steps[2].actions``) and, for a step, ``step`` (its 0-based index in the submitted list); ``errors`` lists
every problem found, so an editor can mark them all at once:

1. ``no_steps``: a template has at least one step.
2. ``duplicate_step_code``: step codes are unique within the template (the timeline and the engine name
   steps by them). ``duplicate_action``: a step lists an action once.
3. ``unknown_role``: a step's role is a row of the ``role`` table.
4. ``unknown_agency``: a step's ``agency_code`` names an agency; null means the receiving agency.
5. ``unknown_action``: actions come from the vocabulary ``ACTIONS`` (the transitions of the engine).
6. ``shares_mismatch``: the shares add up EXACTLY to the procedure version's time limit, compared in
   working minutes (1 working day = 8 working hours = 480 working minutes; days and hours may be mixed).
   The problem carries the expected and given totals in minutes and in the limit's unit.
7. The template can be completed:

   a. ``no_resolve_step``: some step allows ``resolve``, else the result can never be ready;
   b. ``last_step_cannot_finish``: the last step allows ``return_result`` or ``resolve`` (the single step of
      a "4 tại chỗ" procedure, resolved and returned at the desk, allows both);
   c. ``dead_end_step``: every step but the last allows ``forward`` or ``transfer``, else a dossier stops there;
   d. a step at another agency than the previous one (liên thông) is entered from it by ``transfer`` or
      ``forward``: either is fine, so rule c already covers it;
   e. a 0-day ("trong ngày") procedure has every share 0: rule 6 with shares that are never negative;
   f. ``unresolvable_step``: no dossier can be stranded. The step routing starts at (the one after
      ``receive``, else the first) and every step listing a working action (``WORKING_ACTIONS`` of the
      engine: forward, transfer, send_back, request_supplement, request_payment, resolve, stop) can still
      lead a ``processing`` dossier to ``resolve`` through ``forward``/``transfer``/``send_back`` —
      the engine's ``resolvable_positions``, which is also what it offers ``forward`` by. Only a last
      "return" step listing just ``return_result``/``apologize`` is exempt: a dossier never stands there
      while processing (``resolve`` hands it to the desk). ``transfer`` counts as a way on when the next
      step names another agency than this one (null: the receiving agency) — a fixed agency that turns
      out to be the receiving one at run time is not detected here.

8. A "4 tại chỗ" template (``on_the_spot: true``, see ``services.workflow.on_the_spot``) is received, decided
   and returned at the desk in one visit, so it has exactly one step (``on_the_spot_steps``), at the receiving
   agency (``on_the_spot_unit``: ``agency_code`` null), for the delegation role ``on_the_spot`` — a counter
   officer the agency delegated signing authority to, never any counter officer (``on_the_spot_role``) — and
   that step allows both ``resolve`` and ``return_result`` (``on_the_spot_actions``). The rules are checked
   on the template as submitted; the flag on a template that breaks them would let a dossier be "resolved
   on the spot" by someone without the delegation, or stand at a step the desk does not hold.

Not checked here, on purpose: that someone at the step's agency holds the role (staff change every day; the
engine reports an unstaffed unit when a dossier reaches it), and ``agency_level_code`` (a stored column the
engine does not route by yet, so the API neither accepts nor requires it; it is shown when present).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any, get_args

from services.core.errors import Unprocessable
from services.dossier.steps import (
    ON_THE_SPOT_ROLE,
    WORKING_ACTIONS,
    Action,
    first_working_index,
    resolvable_positions,
)

ACTIONS: tuple[str, ...] = get_args(Action)  # the engine's transitions are the vocabulary
MOVE_ON_ACTIONS = frozenset({"forward", "transfer"})
FINISH_ACTIONS = frozenset({"return_result", "resolve"})
MINUTES_PER_UNIT = {"working_days": Decimal(8 * 60), "working_hours": Decimal(60)}


@dataclass(frozen=True, kw_only=True, slots=True)
class StepSpec:
    """What the rules look at in one step, from the API body or from stored rows."""

    code: str
    role: str
    agency_code: str | None
    share_value: Decimal
    share_unit: str
    actions: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class TemplateProblem:
    code: str
    detail: str
    field: str
    step: int | None = None
    extra: dict[str, Any] = dataclass_field(default_factory=dict)


def working_minutes(value: Decimal, unit: str) -> Decimal:
    return value * MINUTES_PER_UNIT[unit]


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def template_problems(
    steps: Sequence[StepSpec],
    *,
    limit_value: Decimal | int,
    limit_unit: str,
    known_roles: Collection[str],
    known_agencies: Collection[str],
    on_the_spot: bool = False,
) -> list[TemplateProblem]:
    """Every rule of the module docstring that ``steps`` break, in rule order (empty: valid)."""
    if not steps:
        return [TemplateProblem(code="no_steps", detail="A workflow template needs at least one step.", field="steps")]
    problems: list[TemplateProblem] = []
    seen: dict[str, int] = {}
    for index, step in enumerate(steps):
        at = f"steps[{index}]"
        if step.code in seen:
            problems.append(
                TemplateProblem(
                    code="duplicate_step_code",
                    detail=f"Step {index} repeats the code {step.code!r} of step {seen[step.code]}.",
                    field=f"{at}.code",
                    step=index,
                )
            )
        seen.setdefault(step.code, index)
        if step.role not in known_roles:
            problems.append(
                TemplateProblem(code="unknown_role", detail=f"No role {step.role!r}.", field=f"{at}.role", step=index)
            )
        if step.agency_code is not None and step.agency_code not in known_agencies:
            problems.append(
                TemplateProblem(
                    code="unknown_agency",
                    detail=f"No agency with code {step.agency_code!r}.",
                    field=f"{at}.agency_code",
                    step=index,
                )
            )
        unknown = [action for action in step.actions if action not in ACTIONS]
        if unknown:
            problems.append(
                TemplateProblem(
                    code="unknown_action",
                    detail=f"Unknown action(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(ACTIONS)}.",
                    field=f"{at}.actions",
                    step=index,
                    extra={"allowed_actions": list(ACTIONS)},
                )
            )
        if len(set(step.actions)) != len(step.actions):
            problems.append(
                TemplateProblem(
                    code="duplicate_action", detail="An action is listed twice.", field=f"{at}.actions", step=index
                )
            )
        if step.share_unit not in MINUTES_PER_UNIT:
            problems.append(
                TemplateProblem(
                    code="unknown_share_unit",
                    detail=f"Share unit {step.share_unit!r} is neither working_days nor working_hours.",
                    field=f"{at}.share.unit",
                    step=index,
                )
            )
        elif step.share_value < 0:
            problems.append(
                TemplateProblem(
                    code="negative_share", detail="A share cannot be negative.", field=f"{at}.share.value", step=index
                )
            )
    problems += _share_problems(steps, Decimal(limit_value), limit_unit)
    problems += _completion_problems(steps)
    if on_the_spot:
        problems += _on_the_spot_problems(steps)
    return problems


def _share_problems(steps: Sequence[StepSpec], limit_value: Decimal, limit_unit: str) -> list[TemplateProblem]:
    if any(step.share_unit not in MINUTES_PER_UNIT for step in steps):
        return []  # already reported; a sum over unknown units means nothing
    expected = working_minutes(limit_value, limit_unit)
    given = sum((working_minutes(step.share_value, step.share_unit) for step in steps), Decimal(0))
    if given == expected:
        return []
    per_unit = MINUTES_PER_UNIT[limit_unit]
    return [
        TemplateProblem(
            code="shares_mismatch",
            detail=(
                f"The shares add up to {_number(given)} working minutes; the time limit is "
                f"{_number(limit_value)} {limit_unit.replace('_', ' ')} = {_number(expected)} working minutes."
            ),
            field="steps",
            extra={
                "expected_working_minutes": _number(expected),
                "given_working_minutes": _number(given),
                "expected": {"value": _number(limit_value), "unit": limit_unit},
                "given": {"value": _number(given / per_unit), "unit": limit_unit},
            },
        )
    ]


def _completion_problems(steps: Sequence[StepSpec]) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    if not any("resolve" in step.actions for step in steps):
        problems.append(
            TemplateProblem(
                code="no_resolve_step",
                detail="No step allows 'resolve': the result could never be ready.",
                field="steps",
            )
        )
    last = len(steps) - 1
    if not FINISH_ACTIONS.intersection(steps[last].actions):
        problems.append(
            TemplateProblem(
                code="last_step_cannot_finish",
                detail="The last step must allow 'return_result' or 'resolve'.",
                field=f"steps[{last}].actions",
                step=last,
            )
        )
    for index, step in enumerate(steps[:last]):
        if not MOVE_ON_ACTIONS.intersection(step.actions):
            following = steps[index + 1]
            hint = " (the next step is at another agency)" if following.agency_code != step.agency_code else ""
            problems.append(
                TemplateProblem(
                    code="dead_end_step",
                    detail=f"Step {index} ({step.code!r}) allows neither 'forward' nor 'transfer'{hint}: "
                    "a dossier would be stuck there.",
                    field=f"steps[{index}].actions",
                    step=index,
                )
            )
    if problems:
        return problems  # rule f only means something once a and b hold
    resolvable = resolvable_positions([step.actions for step in steps], [step.agency_code for step in steps])
    start = first_working_index([step.code for step in steps])
    for index, step in enumerate(steps):
        working = WORKING_ACTIONS.intersection(step.actions)
        if index in resolvable or (index != start and not working):
            continue
        where = "routing starts at" if index == start else "lists working actions"
        problems.append(
            TemplateProblem(
                code="unresolvable_step",
                detail=f"Step {index} ({step.code!r}) {where} but a dossier there could never be resolved: "
                "no 'resolve' is reachable from it through 'forward', 'transfer' or 'send_back'.",
                field=f"steps[{index}].actions",
                step=index,
            )
        )
    return problems


def _on_the_spot_problems(steps: Sequence[StepSpec]) -> list[TemplateProblem]:
    """Rule 8: one step, at the receiving desk, for the delegation role, resolving and returning."""
    if len(steps) != 1:
        return [
            TemplateProblem(
                code="on_the_spot_steps",
                detail=f"A '4 tại chỗ' template has exactly one step (resolved and returned at the desk), "
                f"not {len(steps)}.",
                field="steps",
            )
        ]
    step, problems = steps[0], []
    if step.agency_code is not None:
        problems.append(
            TemplateProblem(
                code="on_the_spot_unit",
                detail="The step of a '4 tại chỗ' template is at the receiving desk: agency_code must be null.",
                field="steps[0].agency_code",
                step=0,
            )
        )
    if step.role != ON_THE_SPOT_ROLE:
        problems.append(
            TemplateProblem(
                code="on_the_spot_role",
                detail=f"The step of a '4 tại chỗ' template is for the delegated counter officers (role "
                f"{ON_THE_SPOT_ROLE!r}), not {step.role!r}.",
                field="steps[0].role",
                step=0,
                extra={"expected_role": ON_THE_SPOT_ROLE},
            )
        )
    missing = [action for action in ("resolve", "return_result") if action not in step.actions]
    if missing:
        problems.append(
            TemplateProblem(
                code="on_the_spot_actions",
                detail=f"The step of a '4 tại chỗ' template allows 'resolve' and 'return_result'; missing: "
                f"{', '.join(map(repr, missing))}.",
                field="steps[0].actions",
                step=0,
            )
        )
    return problems


def refusal(problems: Sequence[TemplateProblem]) -> Unprocessable:
    """The 422 problem for ``problems``: the first one on top, all of them in ``errors``."""
    first = problems[0]
    extra: dict[str, Any] = {"field": first.field, **first.extra}
    if first.step is not None:
        extra["step"] = first.step
    errors = [
        {
            "loc": ["body", *_loc(problem.field)],
            "msg": problem.detail,
            "type": problem.code,
            **({"step": problem.step} if problem.step is not None else {}),
        }
        for problem in problems
    ]
    return Unprocessable(first.detail, code=first.code, errors=errors, **extra)


def _loc(path: str) -> list[str]:
    """``steps[2].share.value`` → ``["steps", "2", "share", "value"]``, like the schema errors' ``loc``."""
    loc: list[str] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        loc.append(name)
        if index:
            loc.append(index.rstrip("]"))
    return loc
