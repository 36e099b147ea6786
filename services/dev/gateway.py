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

**Replicas.** A service may have several (``MOTCUA_<SERVICE>_URL`` lists their URLs comma-separated,
as ``make run REPLICAS=2`` sets): each request goes to the next in turn (round robin,
services.core.replicas). A replica that refuses the connection is skipped and tried last for two
seconds: nothing was sent, so any request, a POST included, goes on to the next one. A safe method
(GET, HEAD, OPTIONS: no body, no effect) whose connection broke before an answer (a replica killed
mid-request) is also sent to the next replica; any other request that broke after it was sent answers
503 ``unavailable`` — it may or may not have been applied, and the client knows best whether to repeat
it (the SPA's submissions carry an ``Idempotency-Key``, so repeating them is safe). Timeouts are not
retried: a slow replica would make the next one slow too.

Every answer carries the security headers of services.core.edge (the SPA's Content-Security-Policy,
``nosniff``, no framing, Referrer-Policy, Permissions-Policy, and HSTS outside demo mode), and the
services' ``/internal/…`` routes (service-to-service, token-protected) are never forwarded.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
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
from services.core.replicas import NOTHING_SENT, Rotation, replica_urls

DEFAULT_DIST = REPO_ROOT / "frontend" / "dist"
# hop-by-hop headers (RFC 9110 §7.6.1) and those httpx sets itself
_DROP_REQUEST = {
    "host", "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
    "x-forwarded-for",  # overwritten below with the peer's address: what the client sent is not believed
}  # fmt: skip
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "trailer"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}  # no body and no effect: sent again to the next replica if one broke
# the connection broke (reset, closed without an answer): not a timeout, which the next replica would repeat
_BROKEN = (httpx.NetworkError, httpx.RemoteProtocolError)


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


def create_gateway(
    upstreams: Mapping[str, str | Sequence[str]], dist: Path = DEFAULT_DIST, *, demo: bool = False
) -> Starlette:
    """The gateway app: ``upstreams`` maps a prefix (intake, workflow, notify) to its service's base URL,
    or to its replicas' (a list, or one string of comma-separated URLs).

    ``demo``: a demo on http://127.0.0.1 (MOTCUA_DEMO): no HSTS."""
    dist = dist.resolve()
    rotations = {
        service: Rotation(replica_urls(urls) if isinstance(urls, str) else [url.rstrip("/") for url in urls])
        for service, urls in upstreams.items()
    }
    security = edge_headers(demo=demo)
    page_headers = {**security, "Content-Security-Policy": SPA_CSP}
    data_headers = {**security, "Content-Security-Policy": API_CSP}

    def _problem(status: int, code: str, title: str, detail: str) -> JSONResponse:
        body = {"type": f"https://motcua.vn/problems/{code}", "title": title, "status": status, "detail": detail}
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=data_headers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(60.0, connect=3.0)
        # One client for every browser, so it must keep no cookies: httpx stores each Set-Cookie it sees in the
        # client's jar and adds the jar to every later request, so one citizen's session cookie went out with
        # every other browser's requests (everyone was signed in as the last citizen). A jar whose policy
        # accepts no domain stores nothing; each browser's own Cookie header passes through as it came.
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, cookies=jar) as client:
            app.state.client = client
            yield

    async def send(request: Request, rotation: Rotation) -> tuple[str, httpx.Response] | None:
        """The first replica's answer, in turn; None when no replica answered (see the module's rules)."""
        client: httpx.AsyncClient = request.app.state.client
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
        peer = request.client.host if request.client else ""
        headers.append(("x-forwarded-for", peer))
        safe = request.method in SAFE_METHODS
        query = request.url.query.encode() or None
        for base in rotation.order():
            url = httpx.URL(base + "/" + request.path_params["path"], query=query)
            # a fresh view of the body per attempt: after a refused connection nothing of it was read
            upstream_request = client.build_request(
                request.method, url, headers=headers, content=None if safe else request.stream()
            )
            try:
                upstream = await client.send(upstream_request, stream=True)
            except NOTHING_SENT:
                rotation.refused(base)
                continue
            except _BROKEN:
                if not safe:
                    return None
                rotation.refused(base)
                continue
            except httpx.TransportError:
                return None
            rotation.answered(base)
            return base, upstream
        return None

    async def proxy(request: Request) -> Response:
        service = request.path_params["service"]
        rotation = rotations.get(service)
        if rotation is None:
            return await spa(request)
        if _is_internal(request.path_params["path"]):
            return _problem(404, "not_found", "Not found", "No such resource.")
        answered = await send(request, rotation)
        if answered is None:
            return _problem(503, "unavailable", "Service unavailable", f"The {service} service does not answer.")
        base, upstream = answered
        # every header but Set-Cookie, which may come several times (a sign-in sets one cookie and clears
        # another) and is added below one by one, as nginx passes them
        response_headers = {
            k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE and k.lower() != "set-cookie"
        }
        location = upstream.headers.get("location", "")
        if location.startswith(base + "/"):  # as nginx's proxy_redirect: never the service's own address
            response_headers["location"] = f"/{service}/" + location[len(base) + 1 :]
        response_headers.update(security)
        if "content-security-policy" not in upstream.headers:
            response_headers["Content-Security-Policy"] = API_CSP
        response = StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=response_headers,
            background=BackgroundTask(upstream.aclose),
        )
        response.raw_headers.extend(
            (b"set-cookie", value.encode("latin-1")) for value in upstream.headers.get_list("set-cookie")
        )
        return response

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
