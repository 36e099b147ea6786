"""Public tracking of a dossier by its code and the secret (or the phone number)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from intake_api.deps import ReaderDep
from services.core.errors import Unprocessable, problem_responses
from services.core.throttle import PublicWrite, per_address
from services.intake import tracking
from services.intake.schemas import TrackingBriefOut, TrackingOut
from services.intake.tracking import TrackByPhoneIn

router = APIRouter(prefix="/api/v1/track", tags=["tracking"])


@router.post("", responses=problem_responses(404, 422, 429), dependencies=[per_address(PublicWrite.TRACKING)])
async def track_by_phone(body: TrackByPhoneIn, citizen: ReaderDep) -> TrackingBriefOut:
    """The state and due time of a dossier, for its applicant's phone number (in the body, never a URL).

    The phone alone proves little (a neighbour may know it), so this shows no procedure, note,
    history or tracking number: the full view needs the secret. Guesses are limited like the secret's."""
    return await tracking.brief(citizen, body)


@router.get("/{code}", responses=problem_responses(404, 422, 429))
async def track(
    code: Annotated[str, Path(max_length=64)],
    citizen: ReaderDep,
    secret: Annotated[str | None, Query(max_length=64)] = None,
    phone: Annotated[
        str | None, Query(max_length=20, deprecated=True, description="refused: use POST /api/v1/track")
    ] = None,
) -> TrackingOut:
    """Where the dossier is: state, due time, pauses and history — never the applicant's personal data.

    Needs the secret printed on the receipt. With only the phone number, use ``POST /api/v1/track``
    (the number stays out of URLs and logs), which shows the state and the due time only."""
    if phone is not None:
        raise Unprocessable(
            "A phone number does not belong in a URL: use POST /api/v1/track with the code and the phone.",
            code="phone_in_url",
        )
    if not secret:
        raise Unprocessable("Give the secret printed on the receipt.", code="secret_required")
    return await tracking.full(citizen, code, secret)
