"""Dossiers at the intake desk: online and counter submission, the desk's decision, documents,
and what the citizen does with the secret (supplement, withdraw, rate)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, status
from fastapi.responses import FileResponse, JSONResponse

from intake_api.deps import CitizenDep
from intake_api.routers.submission import parse
from services.core.auth import Actor
from services.core.deps import (
    ActingActor,
    ClockDep,
    CounterActor,
    OriginDep,
    SessionDep,
    SettingsDep,
    StaffActor,
    optional_actor,
    require_roles,
)
from services.core.errors import problem_responses
from services.core.idempotency import Answer
from services.core.throttle import PublicWrite, per_address
from services.dossier.schemas import CounterSubmissionIn, DossierOut, SubmissionIn
from services.dossier.steps import ON_THE_SPOT_ROLE
from services.intake import applicant, desk, documents
from services.intake.schemas import (
    DecisionIn,
    FeedbackIn,
    RefusalIn,
    ResultDownloadIn,
    SecretIn,
    StaffUploadIn,
    SupplementRequestIn,
    WithdrawIn,
)
from services.intake.submission import submit
from services.workflow.on_the_spot import RESULT_FIELD, OnTheSpotIn, OnTheSpotOut, file_on_the_spot

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
Delegated = Annotated[Actor, Depends(require_roles(ON_THE_SPOT_ROLE))]
Code = Annotated[str, Path(max_length=64)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def _body(model: str, files: dict[str, str] | None = None) -> dict[str, Any]:
    """The OpenAPI request body of a creation: the model as JSON, or (``files``: field → description) as
    multipart with a ``data`` part holding that JSON and the files."""
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}}
    if files is not None:
        binary = {field: {"type": "string", "format": "binary", "description": text} for field, text in files.items()}
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "properties": {"data": {"type": "string", "description": f"the {model} JSON"}, **binary},
                "required": ["data"],
            }
        }
    return {"requestBody": {"content": content}}


def _answered(answer: Answer) -> JSONResponse:
    """The creation's answer; a replay of an earlier one says so in ``Idempotent-Replayed``."""
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


@router.post(
    "/dossiers",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    responses=problem_responses(404, 409, 413, 422, 429),
    openapi_extra=_body("SubmissionIn", {"D01": "a file per required document code"}),
    dependencies=[per_address(PublicWrite.SUBMISSIONS)],
)
async def submit_online(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, origin: OriginDep,
    key: IdempotencyKey = None,
) -> Any:  # fmt: skip
    """Submit a dossier online (JSON, or multipart with the documents); answers the code and the secret."""
    parsed = await parse(request, SubmissionIn)
    return _answered(await submit(session, settings, parsed, actor=None, origin=origin, key=key, now=clock.now()))


@router.post(
    "/counter/dossiers",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    openapi_extra=_body("CounterSubmissionIn"),
)
async def submit_at_counter(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: CounterActor,
    origin: OriginDep,
    key: IdempotencyKey = None,
) -> Any:
    """The counter officer files the dossier for the citizen: received at once, with its due time and secret."""
    parsed = await parse(request, CounterSubmissionIn)
    return _answered(await submit(session, settings, parsed, actor=actor, origin=origin, key=key, now=clock.now()))


@router.post(
    "/counter/dossiers/on-the-spot",
    status_code=status.HTTP_201_CREATED,
    response_model=OnTheSpotOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra=_body("OnTheSpotIn", {"D01": "a file per document code", RESULT_FIELD: "a result file"}),
)
async def resolve_at_counter(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Delegated,
    origin: OriginDep,
    key: IdempotencyKey = None,
) -> Any:
    """4 tại chỗ: a delegated counter officer files, decides and returns a simple procedure's dossier in one visit."""
    parsed = await parse(request, OnTheSpotIn)
    answer = await file_on_the_spot(
        session, settings, parsed, actor=actor, origin=origin, key=key, now=clock.now(),
        offload=request.app.state.offload,
    )  # fmt: skip
    return _answered(answer)


@router.post("/dossiers/{code}/accept", responses=problem_responses(401, 403, 404, 409))
async def accept(
    code: Code, body: DecisionIn, session: SessionDep, settings: SettingsDep, clock: ClockDep, actor: CounterActor
) -> DossierOut:
    """Accept an online submission: it is received and its clock starts by the receipt rules."""
    return await desk.accept(session, settings, code, actor, body, now=clock.now())


@router.post("/dossiers/{code}/postal-redelivery", responses=problem_responses(401, 403, 404, 409, 422))
async def postal_redelivery(
    code: Code, body: DecisionIn, session: SessionDep, clock: ClockDep, actor: CounterActor
) -> DossierOut:
    """Ask the post to deliver again a result it brought back to the desk (a new delivery is booked)."""
    return await desk.postal_redelivery(session, code, actor, body, now=clock.now())


@router.post("/dossiers/{code}/refuse", responses=problem_responses(401, 403, 404, 409, 422))
async def refuse(code: Code, body: RefusalIn, session: SessionDep, clock: ClockDep, actor: CounterActor) -> DossierOut:
    """Refuse an online submission, with reasons (form 03)."""
    return await desk.refuse(session, code, actor, body, now=clock.now())


@router.post("/dossiers/{code}/supplement-requests", responses=problem_responses(401, 403, 404, 409, 422))
async def request_supplement(
    code: Code, body: SupplementRequestIn, session: SessionDep, clock: ClockDep, actor: ActingActor
) -> DossierOut:
    """Ask the citizen for missing or corrected documents (form 02); a running clock pauses."""
    return await desk.request_supplement(session, code, actor, body, now=clock.now())


@router.post(
    "/dossiers/{code}/supplements",
    responses=problem_responses(404, 409, 413, 422, 429),
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}},
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def supplement(code: Code, request: Request, citizen: CitizenDep) -> DossierOut:
    """The citizen answers a supplement request with the secret and the files; the clock resumes."""
    parsed = await parse(request, SecretIn)
    return await applicant.supplement(citizen, code, parsed.data.secret, parsed.uploads)


@router.post(
    "/dossiers/{code}/documents",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 429),
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}},
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES, anonymous_only=True)],
)
async def upload_documents(
    code: Code, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, citizen: CitizenDep,
    actor: Annotated[Actor | None, Depends(optional_actor)],
) -> DossierOut:  # fmt: skip
    """Add documents after submission: the citizen (``data`` = {"secret": ...}) while it is submitted or
    awaiting a supplement, or staff (bearer token, ``data`` = {"kind": "input" | "result"}) who may act on it
    now: the desk before receipt, whoever may act on the current step, a result by whoever may resolve it."""
    if actor is None:
        parsed = await parse(request, SecretIn)
        return await documents.add_by_citizen(citizen, code, parsed.data.secret, parsed.uploads)
    documents.authorize_staff_upload(actor)  # before the files are read
    staff_upload = await parse(request, StaffUploadIn)
    return await documents.add_by_staff(
        session, settings, code, actor, staff_upload.uploads, kind=staff_upload.data.kind,
        offload=request.app.state.offload, now=clock.now(),
    )  # fmt: skip


@router.get("/dossiers/{code}/documents/{document_id}", responses=problem_responses(401, 403, 404))
async def download_document(
    code: Code, document_id: str, session: SessionDep, settings: SettingsDep, actor: StaffActor, origin: OriginDep
) -> FileResponse:
    """A document's file, for staff who may see the dossier (audited)."""
    found = await documents.document_file(session, settings, code, document_id, actor, origin=origin)
    return FileResponse(found.path, media_type=found.content_type, filename=found.filename)


@router.post(
    "/dossiers/{code}/withdraw",
    responses=problem_responses(404, 409, 422, 429),
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def withdraw(code: Code, body: WithdrawIn, citizen: CitizenDep) -> DossierOut:
    """The applicant withdraws the dossier (from any open state), with the secret."""
    return await applicant.withdraw(citizen, code, body)


@router.post(
    "/dossiers/{code}/result",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the result file"},
        **problem_responses(404, 409, 422, 429),
    },
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def download_result(code: Code, body: ResultDownloadIn, citizen: CitizenDep, origin: OriginDep) -> FileResponse:
    """An electronic result (return method ``online``), with the secret in the body; the first download returns
    the dossier (đã trả kết quả)."""
    found = await applicant.download_result(citizen, code, body, origin=origin)
    return found.response()


@router.post(
    "/dossiers/{code}/feedback",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 422, 429),
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def feedback(code: Code, body: FeedbackIn, citizen: CitizenDep) -> dict[str, str]:
    """Rate the service once the result is returned: satisfied, acceptable or dissatisfied."""
    return await applicant.rate(citizen, code, body)
