"""Round robin over a service's replicas (services/core/replicas.py): the gateway for the browsers, the
relays' client for service-to-service events. Real HTTP servers stand in for the replicas; a port
nobody listens on stands in for a replica that is down."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.core.embedded_pg import REPO_ROOT
from services.core.replicas import ReplicaTransport, replica_urls
from services.dev.gateway import create_gateway
from services.dev.processes import replica_ports, replicas_from_env, service_env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    """A stand-in replica that answers its own name and counts what it received."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = _free_port()
        self.seen: list[tuple[str, bytes]] = []
        self.cookies: list[str | None] = []

        async def answer(request: Request) -> JSONResponse:
            self.seen.append((request.method, await request.body()))
            self.cookies.append(request.headers.get("cookie"))
            answer = JSONResponse({"replica": self.name})
            if request.url.path.endswith("/sign-in"):
                answer.set_cookie("session", f"for-{request.headers.get('x-user', '')}", httponly=True)
            return answer

        app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture
def two() -> Iterator[tuple[Replica, Replica]]:
    a, b = Replica("a").start(), Replica("b").start()
    yield a, b
    a.stop()
    b.stop()


async def test_the_gateway_takes_the_replicas_in_turn_and_skips_one_that_refuses(two: tuple[Replica, Replica]) -> None:
    a, b = two
    down = f"http://127.0.0.1:{_free_port()}"  # nobody listens: the connection is refused
    gateway = create_gateway({"intake": f"{a.url},{down},{b.url}"}, dist=REPO_ROOT / "frontend" / "dist")
    async with gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            reads = [(await client.get("/intake/api/v1/procedures")).json()["replica"] for _ in range(8)]
            # a POST whose connection was refused was never sent: it goes to the next replica, once
            writes = [await client.post("/intake/api/v1/complaints", content=f"body-{n}".encode()) for n in range(4)]
    assert len(reads) == 8
    assert set(reads) == {"a", "b"}  # the stopped replica's turns go to the next one; nothing fails
    assert {answer.status_code for answer in writes} == {200}
    bodies = [body for _, body in a.seen + b.seen if body]
    assert sorted(bodies) == [f"body-{n}".encode() for n in range(4)]  # each exactly once, whole


async def test_one_browsers_cookie_never_goes_out_with_another_browsers_request(
    two: tuple[Replica, Replica],
) -> None:
    """The gateway's one upstream client keeps no cookie jar: a session set for one browser is passed back to
    that browser only, and the next browser's request reaches the replica without it."""
    a, _ = two
    gateway = create_gateway({"intake": a.url}, dist=REPO_ROOT / "frontend" / "dist")
    async with gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway, client=("203.0.113.9", 50000))
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://gateway") as an,
            httpx.AsyncClient(transport=transport, base_url="http://gateway") as stranger,
        ):
            signed_in = await an.get("/intake/api/v1/citizen/sign-in", headers={"x-user": "an"})
            assert "session=for-an" in signed_in.headers["set-cookie"]
            await stranger.get("/intake/api/v1/citizen/me")
            await an.get("/intake/api/v1/citizen/me")
    assert a.cookies == [None, None, "session=for-an"]


async def test_every_replica_down_is_a_503_problem() -> None:
    gateway = create_gateway({"intake": [f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"]})
    async with gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            answer = await client.post("/intake/api/v1/complaints", content=b"{}")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_the_relays_client_spreads_events_over_the_replicas_and_skips_a_stopped_one(
    two: tuple[Replica, Replica],
) -> None:
    a, b = two
    transport = ReplicaTransport({"notify": (a.url, b.url)})
    async with httpx.AsyncClient(transport=transport) as client:
        spread = [(await client.post(f"{a.url}/internal/v1/events", content=b"e")).json()["replica"] for _ in range(6)]
        a.stop()
        after = [(await client.post(f"{a.url}/internal/v1/events", content=b"e")).json()["replica"] for _ in range(4)]
    assert Counter(spread) == {"a": 3, "b": 3}
    assert after == ["b"] * 4


def test_replicas_are_configured_by_a_list_of_urls_and_make_run_counts_them() -> None:
    assert replica_urls(" http://127.0.0.1:8001/ , http://127.0.0.1:8101") == (
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8101",
    )
    assert replica_ports(8001, 3) == [8001, 8101, 8201]
    env = service_env({}, ports={"intake": [8001, 8101], "workflow": 8002, "notify": [8003]})
    assert env["MOTCUA_INTAKE_URL"] == "http://127.0.0.1:8001,http://127.0.0.1:8101"
    assert env["MOTCUA_WORKFLOW_URL"] == "http://127.0.0.1:8002"
    assert replicas_from_env({}) == 1
    assert replicas_from_env({"MOTCUA_REPLICAS": "2"}) == 2
    with pytest.raises(ValueError, match="MOTCUA_REPLICAS"):
        replicas_from_env({"MOTCUA_REPLICAS": "0"})
