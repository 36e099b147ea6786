"""Errors are types: a small hierarchy rendered by one handler as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from services.core.logging import request_id_var

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("motcua.errors")


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class Unprocessable(DomainError):
    status, code, title = 422, "validation_error", "Invalid input"


class TooManyRequests(DomainError):
    status, code, title = 429, "too_many_requests", "Too many requests"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"


class ServerBusy(ServiceUnavailable):
    """Every pooled connection stayed busy past ``MOTCUA_DB_POOL_TIMEOUT_SECONDS``: load is shed."""

    def __init__(self) -> None:
        super().__init__("The service is busy; retry in a moment.", code="server_busy", retry_after=1)


class DatabaseUnavailable(ServiceUnavailable):
    """The database dropped the request's connection (a restart, a failover): retry in a moment."""

    def __init__(self) -> None:
        super().__init__("The database does not answer; retry in a moment.", code="database_unavailable", retry_after=1)


def problem(
    request: Request | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://motcua.vn/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# every endpoint may answer with these; routers add their own in ``responses=``
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "Request body too large (problem+json)", "content": {PROBLEM_JSON: {}}},
    422: {
        "description": "Invalid input: a body that cannot be parsed, or that does not match the schema (problem+json)",
        "content": {PROBLEM_JSON: {}},
    },
    503: {
        "description": "Busy: no database connection came free in time; retry after Retry-After (problem+json)",
        "content": {PROBLEM_JSON: {}},
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the problems an endpoint declares."""
    return {status: {"description": "Problem (RFC 9457)", "content": {PROBLEM_JSON: {}}} for status in statuses}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # the offending input is deliberately not echoed: it may be a CCCD number or a phone
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]


# SQLSTATEs of a database that cannot be reached now: class 08 (connection exception), and the server
# shutting down, crashed or starting up (57P01–57P03): a restart or a failover, answered 503, not 500
_UNREACHABLE_CLASS, _UNREACHABLE_STATES = "08", frozenset({"57P01", "57P02", "57P03"})


# deadlock_detected, serialization_failure: the transaction was rolled back whole, a retry is safe
_ROLLED_BACK_STATES = frozenset({"40P01", "40001"})


def _unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database could not be reached rather than that the
    statement failed: a refused connection, a server starting up or shutting down, or no host accepting
    writes (``target_session_attrs=read-write`` while a standby is being promoted)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionError | asyncpg.TargetServerAttributeNotMatched):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and (state.startswith(_UNREACHABLE_CLASS) or state in _UNREACHABLE_STATES):
            return True
        seen = seen.__cause__
    return False


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        if exc.status == 403 or getattr(exc, "denial", False):
            from services.core.deps import audit_denial  # deps imports this module

            await audit_denial(request, exc)
        headers: dict[str, str] = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return problem(
            request, status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, headers=headers, **exc.extra
        )

    @app.exception_handler(SATimeoutError)
    async def _pool_exhausted(request: Request, exc: SATimeoutError) -> JSONResponse:
        # every pooled connection is busy for longer than MOTCUA_DB_POOL_TIMEOUT_SECONDS: shed load
        logger.warning("database pool exhausted", extra={"path": request.url.path})
        return await _domain(request, ServerBusy())

    @app.exception_handler(DBAPIError)
    async def _database_gone(request: Request, exc: DBAPIError) -> JSONResponse:
        if getattr(exc.orig, "sqlstate", None) in _ROLLED_BACK_STATES:
            # the database chose this transaction as a deadlock's or a serialization conflict's victim and
            # rolled it back whole: nothing was written, the same request may simply be sent again
            logger.warning("transaction rolled back by the database", extra={"path": request.url.path})
            return await _domain(request, ServerBusy())
        if not (exc.connection_invalidated or _unreachable(exc)):
            raise exc  # a real error: the 500 handler logs it
        # the database dropped the connection (a restart, a failover): this request fails, the pool heals;
        # answered as services.core.db.fetch answers the same failure of its own statements
        logger.warning("database connection lost", extra={"path": request.url.path})
        return await _domain(request, DatabaseUnavailable())

    @app.exception_handler(ConnectionError)
    async def _database_refused(request: Request, exc: ConnectionError) -> JSONResponse:
        # a new connection refused or reset (the server down, restarting, failing over): SQLAlchemy's asyncpg
        # dialect lets the socket's own error through unwrapped; the services' HTTP calls raise httpx's
        # errors, never this, so within a request it is the database's
        logger.warning("database unreachable", extra={"path": request.url.path, "error": type(exc).__name__})
        return await _domain(request, DatabaseUnavailable())

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            request,
            status=422,
            code="validation_error",
            title="Invalid input",
            detail="The request does not match the schema; see errors.",
            errors=_validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # only the framework raises these: a body it cannot parse (bytes that are not UTF-8 JSON,
            # broken multipart); answered like any other invalid input, as the OpenAPI documents
            return problem(
                request,
                status=422,
                code="malformed_body",
                title="Invalid input",
                detail=f"The request body cannot be parsed: {exc.detail}",
            )
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return problem(
            request,
            status=exc.status_code,
            code=codes.get(exc.status_code, "http_error"),
            title=str(exc.detail) if exc.status_code != 404 else "Not found",
            detail=str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # the client hung up before its body arrived (a closed tab, a load generator stopping): nothing went
        # wrong here and nobody will read an answer; 499 as nginx logs it, not a 500 with a traceback
        logger.info("client disconnected before its request arrived", extra={"path": request.url.path})
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem(
            request, status=500, code="internal_error", title="Internal error", detail="An unexpected error occurred."
        )
