"""Issue 11, point 13: the edge — security headers from the gateway, nginx and the services; no public API
docs or internal routes outside demo mode; the receipt's QR code leads to the configured public URL."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.core.edge import HSTS, PERMISSIONS_POLICY, SPA_CSP
from services.core.embedded_pg import REPO_ROOT
from services.dev.gateway import create_gateway
from services.dev.openapi_dump import render
from tests.apps import new_client
from tests.intake.setup import create_desk, submission
from tests.pdf import pdf_text
from workflow_api.main import create_app as create_workflow

FRONTEND = REPO_ROOT / "frontend"
INTERNAL = ["/intake/internal/v1/events", "/workflow//internal/v1/events", "/notify/api/../internal/v1/events"]
INTERNAL += ["/intake/metrics", "/workflow/./metrics", "/notify/api/../METRICS"]  # Prometheus' (docs/operations)


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><div id="root"></div><script type="module" src="/assets/a.js">'
    )
    (tmp_path / "assets" / "a.js").write_text("console.log('hi')")
    return tmp_path


class Upstream:
    """A stand-in for the services behind the gateway: a real HTTP server that records every request line."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                upstream.paths.append(self.path)
                if self.path.endswith("/"):  # as FastAPI's trailing-slash redirect: to its own absolute address
                    self.send_response(307)
                    self.send_header("Location", upstream.url + self.path.rstrip("/"))
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    running = Upstream()
    yield running
    running.server.shutdown()
    running.server.server_close()


async def running(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 4000)), base_url="http://t")


@pytest.fixture
async def gateway(dist: Path, upstream: Upstream) -> AsyncIterator[httpx.AsyncClient]:
    app = create_gateway({"intake": upstream.url, "workflow": upstream.url, "notify": upstream.url}, dist)
    async with app.router.lifespan_context(app), await running(app) as client:
        yield client


# --- the gateway -----------------------------------------------------------------------------------------------


async def test_the_gateway_serves_the_spa_with_a_strict_policy_and_hsts(gateway: httpx.AsyncClient) -> None:
    for path in ("/", "/tra-cuu/ABC", "/assets/a.js"):
        page = await gateway.get(path)
        assert page.status_code == 200
        policy = directives(page.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
        assert policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert all(source in {"'self'", "'none'"} for values in policy.values() for source in values)
        assert page.headers["strict-transport-security"] == HSTS
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        assert "camera=()" in page.headers["permissions-policy"]


async def test_the_gateway_sends_no_hsts_in_demo_mode(dist: Path) -> None:
    app = create_gateway({}, dist, demo=True)
    async with app.router.lifespan_context(app), await running(app) as client:
        page = await client.get("/")
    assert "strict-transport-security" not in page.headers
    assert page.headers["content-security-policy"] == SPA_CSP


async def test_api_answers_through_the_gateway_carry_the_headers_too(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    answer = await gateway.get("/intake/api/v1/ping")
    assert answer.status_code == 200
    assert upstream.paths == ["/api/v1/ping"]
    assert directives(answer.headers["content-security-policy"])["default-src"] == ["'none'"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["strict-transport-security"] == HSTS


async def test_a_services_redirect_never_sends_the_browser_to_the_services_own_address(
    gateway: httpx.AsyncClient,
) -> None:
    answer = await gateway.get("/intake/api/v1/procedures/")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/intake/api/v1/procedures"


@pytest.mark.parametrize("path", INTERNAL)
async def test_the_gateway_never_forwards_internal_routes(
    gateway: httpx.AsyncClient, upstream: Upstream, path: str
) -> None:
    for answer in (await gateway.post(path, json={"id": "x"}), await gateway.get(path)):
        assert answer.status_code == 404
    assert upstream.paths == []


# --- nginx -----------------------------------------------------------------------------------------------------


def test_nginx_sends_the_same_headers_and_refuses_internal_routes() -> None:
    conf = (REPO_ROOT / "deploy" / "nginx" / "motcua.conf").read_text()
    headers = dict(re.findall(r'add_header\s+([\w-]+)\s+"?(.*?)"?\s+always;', conf))
    assert headers["Content-Security-Policy"] == SPA_CSP
    assert headers["Strict-Transport-Security"] == HSTS
    assert headers["Permissions-Policy"] == PERMISSIONS_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    blocked = re.search(r"location ~ (\S+) \{ return 404; \}", conf)
    assert blocked is not None
    pattern = re.compile(blocked.group(1))
    assert all(
        pattern.match(path)
        for path in ("/intake/internal/v1/events", "/notify/internal", "/workflow/internal/", "/intake/metrics")
    )
    assert not pattern.match("/intake/api/v1/internal-notes")
    assert "add_header" not in conf.split("\n    location", 1)[1]  # a location's own add_header drops the server's


# --- the SPA needs nothing inline ------------------------------------------------------------------------------


class InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.inline.append("an inline <script>")
        if tag == "style":
            self.inline.append("a <style> element")
        self.inline += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        sources = [value or "" for name, value in attrs if name in {"src", "href"}]
        self.inline += [f"{tag} from {value}" for value in sources if re.match(r"^(https?:)?//|^data:", value)]


@pytest.mark.parametrize("index", ["index.html", "dist/index.html"])
def test_the_spa_page_has_no_inline_script_or_style_and_loads_only_from_its_origin(index: str) -> None:
    page = FRONTEND / index
    if not page.is_file():
        pytest.skip(f"frontend/{index} is not built")
    finder = InlineFinder()
    finder.feed(page.read_text())
    assert finder.inline == []


# --- the services ----------------------------------------------------------------------------------------------


@pytest.fixture
def production(settings: Settings) -> Settings:
    return settings.with_changes(demo=False, clock_file=None, auth={"jwt_secret": SecretStr("x" * 48)})


@pytest.mark.parametrize("factory", [create_intake, create_workflow, create_notify])
async def test_api_docs_are_not_public_outside_demo_mode(production: Settings, factory) -> None:  # type: ignore[no-untyped-def]
    app: FastAPI = factory(production)
    async with new_client(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert (await client.get(path)).status_code == 404, path
        health = await client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"
    assert directives(health.headers["content-security-policy"])["frame-ancestors"] == ["'none'"]
    # make api-client still renders the document from the code
    assert "/healthz" in render(app.openapi())

    opened: FastAPI = factory(production.with_changes(edge={"public_docs": True}))
    async with new_client(opened) as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"  # Swagger UI's scripts still run


async def test_every_service_answer_is_marked_nosniff_and_unframeable(
    intake: httpx.AsyncClient, workflow: httpx.AsyncClient, notify: httpx.AsyncClient
) -> None:
    for answer in (
        await intake.get("/api/v1/procedures"),
        await workflow.get("/api/v1/no-such-thing"),
        await notify.post("/internal/v1/events", json={}),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert directives(answer.headers["content-security-policy"]) == {
            "default-src": ["'none'"],
            "frame-ancestors": ["'none'"],
        }


async def test_internal_routes_of_the_services_need_a_service_token(
    intake: httpx.AsyncClient, workflow: httpx.AsyncClient, notify: httpx.AsyncClient
) -> None:
    for client in (intake, workflow, notify):
        assert (await client.post("/internal/v1/events", json={})).status_code == 401


# --- the receipt -----------------------------------------------------------------------------------------------


async def test_the_receipts_qr_code_leads_to_the_public_url_whatever_host_the_request_named(
    intake_app: FastAPI, session: AsyncSession, settings: Settings, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    desk = await create_desk(session)
    await session.commit()
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    officer = bearer(desk.officer)
    async with new_client(intake_app) as counter:
        created = (await counter.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)).json()
        receipt = await counter.post(
            f"/api/v1/dossiers/{created['code']}/forms/receipt.pdf",
            json={"secret": created["secret"]},
            headers={**officer, "Host": "phishing.example"},
        )
    assert receipt.status_code == 200
    text = pdf_text(receipt.content)
    assert "phishing.example" not in text
    assert f"{settings.urls.public}/tra-cuu/{created['code']}" in re.sub(r"\s+", "", text)
