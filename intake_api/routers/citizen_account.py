"""Citizen accounts: sign-in through the identity provider (VNeID), "Hồ sơ của tôi", the citizen's stored
documents, and filing with the identity from the session (services/intake/accounts.py, citizen_filing.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from intake_api.deps import SignedInDep
from intake_api.routers.submission import parse
from services.core.audit import record_now
from services.core.citizen_session import (
    FLOW_COOKIE,
    clear_flow,
    clear_session,
    issue_session,
    open_flow,
    seal_flow,
    set_flow,
    set_session,
)
from services.core.deps import ClockDep, OriginDep, SessionDep, SessionmakerDep, SettingsDep
from services.core.errors import NotFound, problem_responses
from services.core.throttle import PublicWrite, per_address
from services.dossier.schemas import DossierOut
from services.intake import accounts, oidc
from services.intake.accounts import CitizenProfileOut, MyDossierOut, MyDossiersOut, MyResultIn, StoredDocumentOut
from services.intake.citizen_filing import CitizenSubmissionIn, submit_as_citizen
from services.intake.oidc import SignInRefused

router = APIRouter(prefix="/api/v1/citizen", tags=["citizen account"])
HOME = "/ho-so-cua-toi"  # the SPA's "Hồ sơ của tôi", where a sign-in ends (or says why it did not)


def _safe_next(value: str | None) -> str:
    """Where to go back in the SPA: a path of ours only (``/…``, never ``//host`` or a URL): no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME


def _spa(path: str, **query: str) -> str:
    """A page of the SPA, as a path: the browser resolves it against the callback's own origin (the gateway or
    nginx that serves both), so no public URL has to be configured or trusted for it."""
    return path + (("?" + urlencode(query)) if query else "")


@router.get(
    "/sign-in",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=problem_responses(404, 422),
)
async def sign_in(
    settings: SettingsDep, next_path: Annotated[str | None, Query(alias="next", max_length=200)] = None
) -> Response:
    """Sign in with the identity provider: a redirect to it, with state, nonce and PKCE (a sealed cookie keeps them)."""
    config = settings.citizen_oidc
    if not config.enabled:
        raise NotFound("Citizen accounts are not enabled here.", code="citizen_accounts_off")
    try:
        started = await oidc.start(config)
    except SignInRefused as refused:
        return RedirectResponse(_spa(HOME, loi=refused.code), status_code=status.HTTP_302_FOUND)
    response = RedirectResponse(started.url, status_code=status.HTTP_302_FOUND)
    flow = {"state": started.state, "nonce": started.nonce, "verifier": started.verifier, "next": _safe_next(next_path)}
    set_flow(response, settings, seal_flow(settings, flow))
    return response


@router.get(
    "/callback",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=problem_responses(404, 422, 429),
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def callback(
    request: Request,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    clock: ClockDep,
    origin: OriginDep,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The provider sends the citizen back here: the code is exchanged, the ID token checked, a session begins.

    Every refusal (state not this browser's, the citizen declined, a forged, expired or foreign ID token)
    goes back to the SPA with ``?loi=<code>``, no session, and an audit line."""
    config = settings.citizen_oidc
    if not config.enabled:
        raise NotFound("Citizen accounts are not enabled here.", code="citizen_accounts_off")
    try:
        try:
            flow = open_flow(settings, request.cookies.get(FLOW_COOKIE))
        except ValueError as exc:
            raise SignInRefused("oidc_flow_missing", "no sign-in of this browser is in progress") from exc
        # the provider is called before the request's session takes a connection (no network inside a transaction)
        identity = await oidc.complete(config, flow, code=code, state=state, error=error)
    except SignInRefused as refused:
        await record_now(sessionmaker, accounts.refused_entry(origin, refused.code))
        response = RedirectResponse(_spa(HOME, loi=refused.code), status_code=status.HTTP_302_FOUND)
        clear_flow(response, settings)
        return response
    account = await accounts.sign_in(session, identity, origin=origin, now=clock.now())
    response = RedirectResponse(_spa(_safe_next(flow.get("next"))), status_code=status.HTTP_302_FOUND)
    # the token's lifetime is checked against the real time, as the staff's (never the demo's moved clock)
    token = issue_session(settings, account.id, account.token_version, now=datetime.now(UTC))
    set_session(response, settings, token)
    clear_flow(response, settings)
    return response


@router.post("/sign-out", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401))
async def sign_out(session: SessionDep, settings: SettingsDep, account: SignedInDep, origin: OriginDep) -> Response:
    """Sign out everywhere: every session of this account ends, on every device and replica."""
    await accounts.sign_out(session, account, origin=origin)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session(response, settings)
    return response


@router.get("/me", responses=problem_responses(401))
async def me(account: SignedInDep) -> CitizenProfileOut:
    """Who is signed in, as the provider vouched: the identity the submission form shows, not typed."""
    return accounts.profile(account)


@router.get("/dossiers", responses=problem_responses(401))
async def my_dossiers(session: SessionDep, account: SignedInDep) -> MyDossiersOut:
    """Hồ sơ của tôi: every dossier filed in the citizen's CCCD number, newest first, with state and due date."""
    return await accounts.my_dossiers(session, accounts.owner_of(account))


@router.get("/dossiers/{code}", responses=problem_responses(401, 404))
async def my_dossier(
    code: Annotated[str, Path(max_length=64)], session: SessionDep, account: SignedInDep, clock: ClockDep
) -> MyDossierOut:
    """One of the citizen's dossiers: the tracking view and its files, no secret needed; 404 for anyone else's."""
    return await accounts.my_dossier(session, accounts.owner_of(account), code, now=clock.now())


@router.post(
    "/dossiers/{code}/result",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the result file"},
        **problem_responses(401, 404, 409, 422, 429),
    },
    dependencies=[per_address(PublicWrite.CITIZEN_WRITES)],
)
async def my_result(
    code: Annotated[str, Path(max_length=64)],
    body: MyResultIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    origin: OriginDep,
    account: SignedInDep,
) -> FileResponse:
    """The electronic result of one of the citizen's dossiers, no secret needed; the first download returns the
    dossier (đã trả kết quả). A POST: it may change the dossier's state."""
    found = await accounts.download_result(
        session, settings, accounts.owner_of(account), code, body, now=clock.now(), origin=origin
    )
    return found.response()


@router.get("/documents", responses=problem_responses(401))
async def my_documents(session: SessionDep, account: SignedInDep) -> list[StoredDocumentOut]:
    """Kho dữ liệu: the files of the citizen's dossiers, which a new submission may reuse with their consent."""
    return await accounts.stored_documents(session, accounts.owner_of(account))


@router.post(
    "/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    responses=problem_responses(401, 404, 409, 413, 422, 429),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CitizenSubmissionIn"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "data": {"type": "string", "description": "the CitizenSubmissionIn JSON"},
                            "D01": {"type": "string", "format": "binary", "description": "a file per document code"},
                        },
                        "required": ["data"],
                    }
                },
            }
        }
    },
    dependencies=[per_address(PublicWrite.SUBMISSIONS)],
)
async def submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    origin: OriginDep,
    account: SignedInDep,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Any:
    """File a dossier as the signed-in citizen: name and CCCD from the session; documents uploaded or reused
    from earlier dossiers (with ``reuse_consent``, recorded in the audit log)."""
    parsed = await parse(request, CitizenSubmissionIn)
    answer = await submit_as_citizen(
        session, settings, parsed, owner=accounts.owner_of(account), full_name=account.full_name, origin=origin,
        key=key, now=clock.now(),
    )  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)
