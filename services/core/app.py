"""The application factory shared by intake_api, workflow_api and notify_api."""

from __future__ import annotations

import gc
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.trace import SpanKind
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.core import tracing
from services.core.config import Settings, get_settings
from services.core.counters import CounterPool
from services.core.db import create_engine, create_sessionmaker
from services.core.deps import MetricsReader
from services.core.edge import service_headers
from services.core.errors import PROBLEM_JSON, PROBLEM_RESPONSES, ServiceUnavailable
from services.core.logging import configure_logging, request_id_var
from services.core.metrics import (
    DatabaseGauges,
    GaugeFamily,
    GaugeReader,
    metrics_router,
    observe_request,
    route_of,
    unwatch,
    watch_engine,
    watch_pool,
)
from services.core.offload import ProcessOffload
from services.core.replicas import ReplicaTransport
from services.core.revocation import TokenStates

access_logger = logging.getLogger("motcua.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes every few seconds: no trace


class RequestContextMiddleware:
    """Request id (``X-Request-ID`` in and out), the service's security headers (services.core.edge), body
    size limits, one access-log line per request. One middleware, not one per concern: each layer wraps
    every request's ``send`` once more (issue 14: a tracking request is a few hundred microseconds).

    A multipart body (files) may reach ``max_body_bytes``; any other body — JSON, or what FastAPI
    would read as JSON — ``max_json_bytes``. Larger bodies answer 413 before the app reads them."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_json_bytes: int | None = None, service: str = ""
    ) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.max_json_bytes = max_json_bytes if max_json_bytes is not None else max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        too_large = False
        multipart = headers.get("content-type", "").lower().lstrip().startswith("multipart/")
        limit = self.max_body_bytes if multipart else self.max_json_bytes

        security = service_headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                present = {name.lower() for name, _ in headers}
                headers += [header for header in security if header[0] not in present]
                message["headers"] = headers
            await send(message)

        async def send_with_id(message: Message) -> None:
            if too_large:
                return  # the app's answer to a truncated body is replaced by the 413 below
            await send_with_headers(message)

        try:
            if "\x00" in scope.get("path", "") or any(
                nul in scope.get("query_string", b"") for nul in (b"%00", b"\x00")
            ):
                # PostgreSQL text cannot hold U+0000: a path or query with it is invalid input, not a 500
                status_holder["status"] = 422
                await self._problem(
                    scope,
                    send_with_headers,
                    request_id,
                    422,
                    "malformed_request",
                    "Invalid input",
                    "The URL contains a NUL character.",
                )
                return
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                status_holder["status"] = 413
                await self._too_large(scope, send_with_headers, request_id, limit)
                return
            received = 0

            async def limited_receive() -> Message:
                nonlocal received, too_large
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        # a body without Content-Length grew past the limit: stop reading it
                        too_large = True
                        return {"type": "http.disconnect"}
                return message

            try:
                if tracing.enabled() and scope.get("path") not in _UNTRACED:
                    await self._traced(scope, limited_receive, send_with_id, headers.get("traceparent"), status_holder)
                else:
                    await self.app(scope, limited_receive, send_with_id)
            except Exception:
                if not too_large:
                    raise
            if too_large:
                status_holder["status"] = 413
                await self._too_large(scope, send_with_headers, request_id, limit)
        finally:
            elapsed = time.perf_counter() - started
            observe_request(self.service, scope, status_holder["status"], elapsed)
            access_logger.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status_holder["status"],
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, traceparent: str | None, status: dict[str, int]
    ) -> None:
        """The app under a server span named by the route template (services.core.tracing): no path, no query."""
        method = str(scope.get("method", ""))
        with tracing.span(method, parent=traceparent, kind=SpanKind.SERVER) as span:
            try:
                await self.app(scope, receive, send)
            finally:
                if span is not None:
                    route = route_of(scope)
                    span.update_name(f"{method} {route}")
                    span.set_attributes(
                        {
                            "http.request.method": method,
                            "http.route": route,
                            "http.response.status_code": status["status"],
                        }
                    )

    async def _too_large(self, scope: Scope, send: Send, request_id: str, limit: int) -> None:
        detail = f"The request body is larger than {limit} bytes."
        await self._problem(scope, send, request_id, 413, "payload_too_large", "Payload too large", detail)

    @staticmethod
    async def _problem(
        scope: Scope, send: Send, request_id: str, status: int, code: str, title: str, detail: str
    ) -> None:
        body = json.dumps(
            {
                "type": f"https://motcua.vn/problems/{code}",
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
                "request_id": request_id,
                "instance": scope.get("path"),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _freeze_startup_objects() -> None:
    """Move everything alive after start-up (modules, routes, schemas, the ORM's mappers) out of the
    garbage collector's sight: a full collection no longer walks them, which was the tail of every
    latency (issue 14: tracking 1,877 → 2,220/s and p99 124 → 58 ms under wrk; ``bench/profiles/``). Raising
    the collection thresholds as well changed nothing measurable, so they stay Python's."""
    gc.collect()
    gc.freeze()


def health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": service}

    @router.get("/readyz", responses={503: {"description": "Database unreachable", "content": {PROBLEM_JSON: {}}}})
    async def readyz(request: Request) -> dict[str, str]:
        """Readiness: the database answers."""
        engine = request.app.state.engine
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise ServiceUnavailable("The database does not answer.", code="database_unavailable") from exc
        return {"status": "ready", "service": service}

    return router


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    downstream: Sequence[str] = (),
    settings: Settings | None = None,
    extra_lifespan: Lifespan | None = None,
    schemas: Sequence[type[BaseModel]] = (),
    gauges: tuple[tuple[GaugeFamily, ...], GaugeReader] | None = None,
) -> FastAPI:
    """Build one of the three services: lifespan-owned resources, middleware, problem handlers, health."""
    from services.core.errors import install_error_handlers

    resolved = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved.refuse_unsafe_start()
        configure_logging(name, resolved.log_level)
        tracing.configure(name, resolved.observe.otlp_endpoint)
        engine = create_engine(resolved, application_name=f"motcua-{name}")
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        # the rate counters (public writes, services.core.throttle; guesses of secrets and passwords,
        # services.core.guessing) on a small pool of their own (services.core.counters): a burst answers its
        # 429s without queueing behind the requests it limits, and a request gives its counter connection
        # back before it takes its own
        counters = CounterPool(resolved, application_name=f"motcua-{name}-limits")
        await counters.open()
        app.state.counters = counters
        pools = (
            watch_engine(name, engine, size=resolved.db.pool_size + resolved.db.max_overflow),
            watch_pool(name, "counters", counters.use),
        )
        app.state.clock = resolved.clock()
        # each account's token version, dropped on the NOTIFY of a change (services.core.revocation)
        token_states = TokenStates(resolved.auth.token_check_seconds)
        token_states.start(resolved, application_name=f"motcua-{name}-tokens")
        app.state.token_states = token_states
        app.state.clients = {
            target: httpx.AsyncClient(
                base_url=resolved.urls.base(target),
                timeout=httpx.Timeout(10.0, connect=3.0),
                transport=ReplicaTransport(resolved.urls.replicas()),  # over the target's replicas
            )
            for target in downstream
        }
        try:
            if extra_lifespan is not None:
                async with extra_lifespan(app):
                    _freeze_startup_objects()
                    yield
            else:
                _freeze_startup_objects()
                yield
        finally:
            for client in app.state.clients.values():
                await client.aclose()
            app.state.offload.shutdown()
            unwatch(*pools)
            tracing.shutdown()
            await token_states.close()
            await counters.close()
            await engine.dispose()

    docs = resolved.docs_public  # outside demo mode the API documentation is not public (MOTCUA_PUBLIC_DOCS)
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # FastAPI's own spans record the query string (a phone, a secret): services.core.tracing makes ours
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = resolved
    app.state.service_name = name
    # PDFs render in worker processes, started on the first render (services.core.offload)
    app.state.offload = ProcessOffload(workers=resolved.edge.pdf_workers, queue=resolved.edge.pdf_queue)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=resolved.edge.max_request_bytes,
        max_json_bytes=resolved.edge.max_json_bytes,
        service=name,
    )
    install_error_handlers(app)
    app.include_router(health_router(name))
    app.include_router(metrics_router(MetricsReader))
    if gauges is not None:
        families, read = gauges
        app.state.database_gauges = DatabaseGauges(families, read, max_age=resolved.observe.metrics_cache_seconds)
    for router in routers:
        app.include_router(router)
    app.state.published_schemas = tuple(schemas)  # bodies parsed by hand (multipart parts): strict like the rest
    if schemas:
        _publish_schemas(app, schemas)
    return app


def _publish_schemas(app: FastAPI, schemas: Sequence[type[BaseModel]]) -> None:
    """Add models that routes parse by hand (multipart bodies) to the OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        _, definitions = models_json_schema(
            [(model, "validation") for model in schemas], ref_template="#/components/schemas/{model}"
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for key, value in definitions.get("$defs", {}).items():
            components.setdefault(key, value)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
