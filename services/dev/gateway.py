"""One URL for the user in development and tests: the built SPA at ``/`` and the three APIs behind it.

``make run`` serves it on http://127.0.0.1:8080. Production uses nginx with the same routing
(deploy/nginx/motcua.conf): ``/intake/…``, ``/workflow/…`` and ``/notify/…`` go to their service
with the prefix stripped (paths overlap between services, so routing is by service, not by path),
and every other GET is a file of the SPA or, for the SPA's own routes, its ``index.html``.

Bodies are streamed both ways (uploads of up to MOTCUA_MAX_REQUEST_BYTES, PDFs, exports). The
client's address goes on in ``X-Forwarded-For``, overwriting whatever the client sent; the services
believe it from trusted proxies only (``MOTCUA_TRUSTED_PROXIES``, services.core.net), so their
per-address limits see the citizen, not the gateway, and a client cannot pick its own address. Nothing is logged per
request: query strings can carry a phone number or a secret.

Every answer carries the security headers of services.core.edge (the SPA's Content-Security-Policy,
``nosniff``, no framing, Referrer-Policy, Permissions-Policy, and HSTS outside demo mode), and the
services' ``/internal/…`` routes (service-to-service, token-protected) are never forwarded.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from services.core.config import get_settings
from services.core.edge import API_CSP, SPA_CSP, edge_headers
from services.core.embedded_pg import REPO_ROOT
from services.core.errors import PROBLEM_JSON

DEFAULT_DIST = REPO_ROOT / "frontend" / "dist"
# hop-by-hop headers (RFC 9110 §7.6.1) and those httpx sets itself
_DROP_REQUEST = {
    "host", "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
    "x-forwarded-for",  # overwritten below with the peer's address: what the client sent is not believed
}  # fmt: skip
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "trailer"}


def _is_internal(path: str) -> bool:
    """``/internal/…`` or ``/metrics`` of a service, however the client spelled it (``//internal``,
    ``a/../internal``): neither is for the public (``/metrics`` is Prometheus', over the services' own ports)."""
    segments = [segment for segment in path.split("/") if segment not in {"", "."}]
    resolved: list[str] = []
    for segment in segments:
        if segment == "..":
            if resolved:
                resolved.pop()
        else:
            resolved.append(segment)
    return bool(resolved) and resolved[0].lower() in {"internal", "metrics"}


def create_gateway(upstreams: Mapping[str, str], dist: Path = DEFAULT_DIST, *, demo: bool = False) -> Starlette:
    """The gateway app: ``upstreams`` maps a prefix (intake, workflow, notify) to its service's base URL.

    ``demo``: a demo on http://127.0.0.1 (MOTCUA_DEMO): no HSTS."""
    dist = dist.resolve()
    security = edge_headers(demo=demo)
    page_headers = {**security, "Content-Security-Policy": SPA_CSP}
    data_headers = {**security, "Content-Security-Policy": API_CSP}

    def _problem(status: int, code: str, title: str, detail: str) -> JSONResponse:
        body = {"type": f"https://motcua.vn/problems/{code}", "title": title, "status": status, "detail": detail}
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=data_headers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(60.0, connect=3.0)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            app.state.client = client
            yield

    async def proxy(request: Request) -> Response:
        service = request.path_params["service"]
        base = upstreams.get(service)
        if base is None:
            return await spa(request)
        if _is_internal(request.path_params["path"]):
            return _problem(404, "not_found", "Not found", "No such resource.")
        client: httpx.AsyncClient = request.app.state.client
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
        peer = request.client.host if request.client else ""
        headers.append(("x-forwarded-for", peer))
        url = httpx.URL(base.rstrip("/") + "/" + request.path_params["path"], query=request.url.query.encode() or None)
        has_body = request.method not in {"GET", "HEAD", "OPTIONS"}
        upstream_request = client.build_request(
            request.method, url, headers=headers, content=request.stream() if has_body else None
        )
        try:
            upstream = await client.send(upstream_request, stream=True)
        except httpx.TransportError:
            return _problem(503, "unavailable", "Service unavailable", f"The {service} service does not answer.")
        response_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE}
        location = upstream.headers.get("location", "")
        if location.startswith(base.rstrip("/") + "/"):  # as nginx's proxy_redirect: never the service's own address
            response_headers["location"] = f"/{service}/" + location[len(base.rstrip("/")) + 1 :]
        response_headers.update(security)
        if "content-security-policy" not in upstream.headers:
            response_headers["Content-Security-Policy"] = API_CSP
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=response_headers,
            background=BackgroundTask(upstream.aclose),
        )

    async def spa(request: Request) -> Response:
        if request.method not in {"GET", "HEAD"}:
            return _problem(405, "method_not_allowed", "Method not allowed", "Only the APIs accept this method.")
        relative = request.url.path.lstrip("/")
        candidate = (dist / relative).resolve()
        if relative and candidate.is_file() and candidate.is_relative_to(dist):
            immutable = relative.startswith("assets/")  # hashed names: cache for a year
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache, **page_headers})
        index = dist / "index.html"
        if not index.is_file():
            detail = f"The SPA is not built: run `make spa` (looked in {dist})."
            return _problem(503, "spa_not_built", "SPA not built", detail)
        return FileResponse(index, headers={"Cache-Control": "no-cache", **page_headers})

    async def health(_: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "spa": (dist / "index.html").is_file()},
            headers=data_headers,
        )

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route("/healthz", health, methods=["GET"]),
        Route("/{service:str}/{path:path}", proxy, methods=methods),
        Route("/{path:path}", spa, methods=methods),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def upstreams_from_env(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    return {
        "intake": env.get("MOTCUA_INTAKE_URL", "http://127.0.0.1:8001"),
        "workflow": env.get("MOTCUA_WORKFLOW_URL", "http://127.0.0.1:8002"),
        "notify": env.get("MOTCUA_NOTIFY_URL", "http://127.0.0.1:8003"),
    }


def main() -> None:
    port = int(os.environ.get("MOTCUA_GATEWAY_PORT", "8080"))
    dist = Path(os.environ.get("MOTCUA_SPA_DIST", str(DEFAULT_DIST)))
    app = create_gateway(upstreams_from_env(), dist, demo=get_settings().demo)
    uvicorn.run(app, host=os.environ.get("MOTCUA_GATEWAY_HOST", "127.0.0.1"), port=port, access_log=False)


if __name__ == "__main__":
    main()
