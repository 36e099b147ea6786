"""Dossiers at the intake desk: online and counter submission, the desk's decision, documents,
and what the citizen does with the secret (supplement, withdraw, rate)."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, status
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.routers.submission import Upload, parse
from services.calendar.receipt import Channel
from services.core import idempotency
from services.core.audit import audit_entry, record
from services.core.auth import Actor
from services.core.clock import Clock
from services.core.config import Settings
from services.core.deps import (
    ActingActor,
    ClockDep,
    CounterActor,
    CountersDep,
    SessionDep,
    SettingsDep,
    StaffActor,
    optional_actor,
    require_roles,
)
from services.core.errors import Conflict, Forbidden, NotFound, problem_responses
from services.core.net import client_address
from services.core.throttle import PublicWrite, per_address
from services.domain.vocabulary import ACTING_ROLES, AWAITING_RECEIPT
from services.dossier import filing, lifecycle
from services.dossier.access import dossier_for, dossier_to_act_on
from services.dossier.schemas import CounterSubmissionIn, DossierOut, SubmissionIn
from services.dossier.steps import ON_THE_SPOT_ROLE
from services.dossier.views import documents, dossier_out
from services.intake import dossiers as intake
from services.intake import postal
from services.intake.citizen import citizen_dossier
from services.intake.files import store
from services.intake.schemas import (
    DecisionIn,
    FeedbackIn,
    RefusalIn,
    SecretIn,
    StaffUploadIn,
    SupplementRequestIn,
    WithdrawIn,
)
from services.models import Document, Dossier
from services.sla.clocks import WarningPolicy
from services.workflow.on_the_spot import RESULT_FIELD, OnTheSpotIn, OnTheSpotOut, resolve_on_the_spot

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
Delegated = Annotated[Actor, Depends(require_roles(ON_THE_SPOT_ROLE))]
Code = Annotated[str, Path(max_length=64)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]

_MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SubmissionIn"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "string", "description": "the SubmissionIn JSON"},
                        "D01": {
                            "type": "string",
                            "format": "binary",
                            "description": "a file per required document code",
                        },
                    },
                    "required": ["data"],
                }
            },
        }
    }
}


def _policy(settings: Settings) -> WarningPolicy:
    return WarningPolicy(settings.sla.warning_seconds)


def _client_ip(request: Request) -> str | None:
    return client_address(request)


def _attach(
    session: AsyncSession, settings: Settings, dossier: Dossier, uploads: list[Upload], *, kind: str, clock: Clock,
    staff_id: Any = None,
) -> None:  # fmt: skip
    now = clock.now()
    for upload in uploads:
        stored = store(settings.files_dir, filename=upload.filename, content=upload.content, now=now)
        session.add(
            Document(
                dossier_id=dossier.id,
                kind=kind,
                required_code=upload.field if upload.field not in {"files", "documents", "file"} else None,
                filename=stored.filename,
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                storage_path=stored.storage_path,
                uploaded_by_staff_id=staff_id,
            )
        )
    if uploads:
        dossier.digitised = True


async def _submit(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    key: str | None,
    *,
    actor: Actor | None,
) -> Any:
    model: type[SubmissionIn] = CounterSubmissionIn if actor else SubmissionIn
    parsed = await parse(request, model)
    scope = f"POST {request.url.path}"
    keyed = idempotency.scope_for(
        settings, scope, staff_id=actor.staff_id if actor else None, client_address=client_address(request)
    )
    if key is not None:
        replay = await idempotency.claim(
            session,
            settings,
            scope=keyed,
            key=key,
            request_hash=idempotency.fingerprint(parsed.fingerprint_source),
            now=clock.now(),
        )
        if replay is not None:
            return JSONResponse(replay.body, status_code=replay.status, headers={"Idempotent-Replayed": "true"})
    now = clock.now()
    channel = Channel.COUNTER if actor else (Channel.POSTAL if parsed.data.pickup_by_post else Channel.ONLINE)
    created = await filing.create(
        session, settings, parsed.data, channel=channel, now=now, actor=actor, source="intake"
    )
    _attach(
        session,
        settings,
        created.dossier,
        parsed.uploads,
        kind="input",
        clock=clock,
        staff_id=actor.staff_id if actor else None,
    )
    if actor is not None:
        await lifecycle.receive(
            session, created.dossier, at=now, channel=Channel.COUNTER, policy=_policy(settings), actor=actor,
            source="intake",
        )  # fmt: skip
        record(
            session,
            audit_entry(
                service="intake", action="create", resource=scope, request=request, actor=actor,
                dossier_id=created.dossier.id,
            ),
        )  # fmt: skip
    await session.flush()
    body = (await dossier_out(session, created.dossier, secret=created.secret)).model_dump(mode="json")
    if key is not None:
        await idempotency.remember(session, settings, scope=keyed, key=key, status=201, body=body, sealed=("secret",))
    return JSONResponse(body, status_code=status.HTTP_201_CREATED)


@router.post(
    "/dossiers",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    responses=problem_responses(404, 409, 413, 422, 429),
    openapi_extra=_MULTIPART_DOC,
    dependencies=[per_address(PublicWrite.SUBMISSIONS)],
)
async def submit_online(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, key: IdempotencyKey = None
) -> Any:
    """Submit a dossier online (JSON, or multipart with the documents); answers the code and the secret."""
    return await _submit(request, session, settings, clock, key, actor=None)


@router.post(
    "/counter/dossiers",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CounterSubmissionIn"}}}
        }
    },
)
async def submit_at_counter(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: CounterActor,
    key: IdempotencyKey = None,
) -> Any:
    """The counter officer files the dossier for the citizen: received at once, with its due time and secret."""
    return await _submit(request, session, settings, clock, key, actor=actor)


@router.post(
    "/counter/dossiers/on-the-spot",
    status_code=status.HTTP_201_CREATED,
    response_model=OnTheSpotOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/OnTheSpotIn"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "data": {"type": "string", "description": "the OnTheSpotIn JSON"},
                            "D01": {"type": "string", "format": "binary", "description": "a file per document code"},
                            RESULT_FIELD: {"type": "string", "format": "binary", "description": "a result file"},
                        },
                        "required": ["data"],
                    }
                },
            }
        }
    },
)
async def resolve_at_counter(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Delegated,
    key: IdempotencyKey = None,
) -> Any:
    """4 tại chỗ: a delegated counter officer files, decides and returns a simple procedure's dossier in one visit."""
    parsed = await parse(request, OnTheSpotIn)
    scope = f"POST {request.url.path}"
    keyed = idempotency.scope_for(settings, scope, staff_id=actor.staff_id, client_address=client_address(request))
    if key is not None:
        replay = await idempotency.claim(
            session, settings, scope=keyed, key=key,
            request_hash=idempotency.fingerprint(parsed.fingerprint_source), now=clock.now(),
        )  # fmt: skip
        if replay is not None:
            return JSONResponse(replay.body, status_code=replay.status, headers={"Idempotent-Replayed": "true"})
    now = clock.now()
    done = await resolve_on_the_spot(session, settings, parsed.data, actor=actor, now=now, policy=_policy(settings))
    dossier = done.created.dossier
    inputs = [upload for upload in parsed.uploads if upload.field != RESULT_FIELD]
    results = [upload for upload in parsed.uploads if upload.field == RESULT_FIELD]
    _attach(session, settings, dossier, inputs, kind="input", clock=clock, staff_id=actor.staff_id)
    _attach(session, settings, dossier, results, kind="result", clock=clock, staff_id=actor.staff_id)
    record(
        session,
        audit_entry(
            service="intake", action="create", resource=scope, request=request, actor=actor, dossier_id=dossier.id
        ),
    )
    await session.flush()
    base = (await dossier_out(session, dossier, secret=done.created.secret)).model_dump()
    body = OnTheSpotOut(
        **base, decision=done.decision, outcome=dossier.outcome, resolved_at=dossier.resolved_at,
        returned_at=dossier.returned_at,
    ).model_dump(mode="json")  # fmt: skip
    if key is not None:
        await idempotency.remember(session, settings, scope=keyed, key=key, status=201, body=body, sealed=("secret",))
    return JSONResponse(body, status_code=status.HTTP_201_CREATED)


@router.post("/dossiers/{code}/accept", responses=problem_responses(401, 403, 404, 409))
async def accept(
    code: Code, body: DecisionIn, session: SessionDep, settings: SettingsDep, clock: ClockDep, actor: CounterActor
) -> DossierOut:
    """Accept an online submission: it is received and its clock starts by the receipt rules."""
    dossier = await dossier_to_act_on(session, code, actor, "accept")
    await lifecycle.accept(
        session, dossier, actor=actor, now=clock.now(), policy=_policy(settings), comment=body.comment, source="intake"
    )
    return await dossier_out(session, dossier)


@router.post("/dossiers/{code}/postal-redelivery", responses=problem_responses(401, 403, 404, 409, 422))
async def postal_redelivery(
    code: Code, body: DecisionIn, session: SessionDep, clock: ClockDep, actor: CounterActor
) -> DossierOut:
    """Ask the post to deliver again a result it brought back to the desk (a new delivery is booked)."""
    dossier = await dossier_to_act_on(session, code, actor, "request_redelivery")
    await postal.request_redelivery(session, dossier, actor=actor, now=clock.now(), comment=body.comment)
    return await dossier_out(session, dossier)


@router.post("/dossiers/{code}/refuse", responses=problem_responses(401, 403, 404, 409, 422))
async def refuse(code: Code, body: RefusalIn, session: SessionDep, clock: ClockDep, actor: CounterActor) -> DossierOut:
    """Refuse an online submission, with reasons (form 03)."""
    dossier = await dossier_to_act_on(session, code, actor, "refuse")
    await lifecycle.refuse(session, dossier, actor=actor, now=clock.now(), reasons=body.reasons, source="intake")
    return await dossier_out(session, dossier)


@router.post("/dossiers/{code}/supplement-requests", responses=problem_responses(401, 403, 404, 409, 422))
async def request_supplement(
    code: Code, body: SupplementRequestIn, session: SessionDep, clock: ClockDep, actor: ActingActor
) -> DossierOut:
    """Ask the citizen for missing or corrected documents (form 02); a running clock pauses."""
    dossier = await dossier_to_act_on(session, code, actor, "request_supplement")
    await lifecycle.request_supplement(
        session, dossier, actor=actor, now=clock.now(), items=[item.model_dump() for item in body.items],
        source="intake",
    )  # fmt: skip
    return await dossier_out(session, dossier)


@router.post(
    "/dossiers/{code}/supplements",
    responses=problem_responses(404, 409, 413, 422, 429),
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}},
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def supplement(
    code: Code,
    request: Request,
    session: SessionDep,
    counters: CountersDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> DossierOut:
    """The citizen answers a supplement request with the secret and the files; the clock resumes."""
    parsed = await parse(request, SecretIn)
    now = clock.now()
    dossier = await citizen_dossier(
        session, counters, settings, code=code, secret=parsed.data.secret, client_ip=_client_ip(request), now=now,
        lock=True,
    )  # fmt: skip
    _attach(session, settings, dossier, parsed.uploads, kind="supplement", clock=clock)
    await lifecycle.answer_supplement(
        session, dossier, now=now, policy=_policy(settings), note=None, files=len(parsed.uploads), source="intake"
    )
    return await dossier_out(session, dossier)


@router.post(
    "/dossiers/{code}/documents",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 429),
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}},
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES, anonymous_only=True)],
)
async def upload_documents(
    code: Code, request: Request, session: SessionDep, counters: CountersDep, settings: SettingsDep,
    clock: ClockDep, actor: Annotated[Actor | None, Depends(optional_actor)],
) -> DossierOut:  # fmt: skip
    """Add documents after submission: the citizen (``data`` = {"secret": ...}) while it is submitted or
    awaiting a supplement, or staff (bearer token, ``data`` = {"kind": "input" | "result"}) who may act on it
    now: the desk before receipt, whoever may act on the current step, a result by whoever may resolve it."""
    if actor is not None:
        if not actor.has_any(*ACTING_ROLES):
            raise Forbidden(f"This needs one of the roles: {', '.join(sorted(ACTING_ROLES))}.", code="role_required")
        staff_upload = await parse(request, StaffUploadIn)
        uploads, kind = staff_upload.uploads, staff_upload.data.kind
        dossier = await dossier_to_act_on(session, code, actor, "attach_result" if kind == "result" else "attach_input")
        allowed = frozenset({dossier.status})  # the access rule checked the state
    else:
        parsed = await parse(request, SecretIn)
        dossier = await citizen_dossier(
            session, counters, settings, code=code, secret=parsed.data.secret,
            client_ip=_client_ip(request), now=clock.now(), lock=True,
        )  # fmt: skip
        uploads, allowed, kind = parsed.uploads, AWAITING_RECEIPT, "input"
    if dossier.status not in allowed:
        raise Conflict(f"Documents cannot be added while the dossier is {dossier.status}.", code="invalid_state")
    _attach(session, settings, dossier, uploads, kind=kind, clock=clock, staff_id=actor.staff_id if actor else None)
    await session.flush()
    return await dossier_out(session, dossier)


@router.get("/dossiers/{code}/documents/{document_id}", responses=problem_responses(401, 403, 404))
async def download_document(
    code: Code, document_id: str, session: SessionDep, settings: SettingsDep, actor: StaffActor, request: Request
) -> FileResponse:
    """A document's file, for staff who may see the dossier (audited)."""
    dossier = await dossier_for(session, code, actor)
    document = next((d for d in await documents(session, dossier) if str(d.id) == document_id), None)
    if document is None:
        raise NotFound("No such document in this dossier.", code="document_not_found")
    record(
        session,
        audit_entry(
            service="intake", action="read", resource=f"GET /api/v1/dossiers/{code}/documents/{document_id}",
            request=request, actor=actor, dossier_id=dossier.id,
        ),
    )  # fmt: skip
    path = FilePath(settings.files_dir) / document.storage_path
    return FileResponse(path, media_type=document.content_type, filename=document.filename)


@router.post(
    "/dossiers/{code}/withdraw",
    responses=problem_responses(404, 409, 422, 429),
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def withdraw(
    code: Code, body: WithdrawIn, request: Request, session: SessionDep, counters: CountersDep,
    settings: SettingsDep, clock: ClockDep,
) -> DossierOut:  # fmt: skip
    """The applicant withdraws the dossier (from any open state), with the secret."""
    now = clock.now()
    dossier = await citizen_dossier(
        session,
        counters,
        settings,
        code=code,
        secret=body.secret,
        client_ip=_client_ip(request),
        now=now,
        lock=True,
    )
    await lifecycle.withdraw(session, dossier, now=now, reason=body.reason, source="intake")
    return await dossier_out(session, dossier)


@router.post(
    "/dossiers/{code}/feedback",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 422, 429),
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def feedback(
    code: Code, body: FeedbackIn, request: Request, session: SessionDep, counters: CountersDep,
    settings: SettingsDep, clock: ClockDep,
) -> dict[str, str]:  # fmt: skip
    """Rate the service once the result is returned: satisfied, acceptable or dissatisfied."""
    now = clock.now()
    dossier = await citizen_dossier(
        session,
        counters,
        settings,
        code=code,
        secret=body.secret,
        client_ip=_client_ip(request),
        now=now,
        lock=True,
    )
    await intake.give_feedback(session, dossier, rating=body.rating, comment=body.comment, now=now)
    return {"code": dossier.code, "rating": body.rating}
