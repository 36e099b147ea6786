"""The officers' inboxes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.core.deps import ActingActor, ClockDep, SessionDep
from services.core.errors import problem_responses
from services.workflow.dossiers import DueFilter, Scope, TasksOut, tasks

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", responses=problem_responses(401, 403))
async def inbox(
    session: SessionDep,
    actor: ActingActor,
    clock: ClockDep,
    scope: Scope = "unit",
    status: Annotated[str | None, Query(max_length=32)] = None,
    procedure: Annotated[str | None, Query(max_length=64)] = None,
    due: DueFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TasksOut:
    """The caller's inbox (``mine``), their unit's, or the whole agency's for leaders, soonest due first."""
    return await tasks(
        session, actor, scope=scope, now=clock.now(), status=status, procedure=procedure, due=due, limit=limit,
        offset=offset,
    )  # fmt: skip
