"""Notification templates: data, versioned, previewed with sample data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.core.deps import ActorDep, AdminActor, OriginDep, SessionDep
from services.core.errors import problem_responses
from services.notification import templates
from services.notification.schemas import ChannelName, Locale, PreviewIn, PreviewOut, TemplateIn, TemplateOut

router = APIRouter(prefix="/api/v1/notification-templates", tags=["notification templates"])


@router.get("", responses=problem_responses(401))
async def list_templates(
    session: SessionDep,
    _: ActorDep,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    channel: ChannelName | None = None,
    locale: Locale | None = None,
    all_versions: bool = False,
) -> list[TemplateOut]:
    """The templates in use (the newest version of each event, channel and locale), or every version."""
    return await templates.list_templates(
        session, event_type=event_type, channel=channel, locale=locale, all_versions=all_versions
    )


@router.post("", status_code=201, responses=problem_responses(401, 403))
async def create_template(data: TemplateIn, origin: OriginDep, session: SessionDep, actor: AdminActor) -> TemplateOut:
    """Publish a new template version (administrators, audited); refused if it cannot render or an SMS needs over
    2 parts."""
    return await templates.publish(session, data, actor=actor, origin=origin)


@router.post("/preview", responses=problem_responses(401, 403))
async def preview(data: PreviewIn, session: SessionDep, _: AdminActor) -> PreviewOut:
    """Render a template (the current one, or the text sent) with sample data; for SMS, the encoding and segments."""
    return await templates.preview(session, data)
