"""Issue 11.2: the gateway tells the services who the client is and a client cannot tell it otherwise."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.core.embedded_pg import REPO_ROOT
from services.dev.gateway import create_gateway


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"x-forwarded-for": request.headers.get("x-forwarded-for")})


@pytest.fixture
def upstream() -> Iterator[str]:
    """A stand-in service (a real HTTP server) that answers with the X-Forwarded-For it received."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


async def test_the_gateway_overwrites_what_the_client_sent(upstream: str) -> None:
    gateway = create_gateway({"intake": upstream}, dist=REPO_ROOT / "frontend" / "dist")
    async with gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            spoofed = await client.get("/intake/api/v1/procedures", headers={"x-forwarded-for": "6.6.6.6, 7.7.7.7"})
            plain = await client.get("/intake/api/v1/procedures")
    assert spoofed.json() == {"x-forwarded-for": "203.0.113.9"}
    assert plain.json() == {"x-forwarded-for": "203.0.113.9"}


def test_nginx_overwrites_the_header_too() -> None:
    conf = (REPO_ROOT / "deploy" / "nginx" / "motcua.conf").read_text()
    assert "$proxy_add_x_forwarded_for" not in conf
    assert conf.count("proxy_set_header X-Forwarded-For $remote_addr;") == 3
