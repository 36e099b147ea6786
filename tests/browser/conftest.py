"""Browser tests: the real stack (three APIs, their workers, the gateway serving frontend/dist) on free
ports with its own fresh database and the demo data, driven by Debian's Chromium through Playwright.

Replicas: the stack runs ``MOTCUA_BROWSER_REPLICAS`` (default 2) uvicorn processes of each API and as many
workers of each kind, the gateway spreading the SPA's requests over them round robin (issue 15 §1: every
browser test is also a test that two replicas behave as one); ``MOTCUA_BROWSER_REPLICAS=1`` for one.

Fixtures
- ``stack`` (session): the running stack; ``stack.base_url`` is the gateway, ``stack.url("intake")`` an
  API directly, ``stack.mail`` / ``stack.sms`` the SMTP sink and SMS gateway the notifications go to,
  ``stack.portal`` the fake national portal (services/dev/fake_portal.py) the state changes are synced to,
  ``stack.clock`` moves "now" for every process (``stack.clock.set(datetime)``, ``.reset()``).
  Shared by every browser test of the run: tests must not depend on each other's data (make your own
  dossier, complaint, … and compare counts before/after rather than absolute numbers).
- ``browser`` (session), ``context`` / ``page`` (per test: vi-VN, Asia/Ho_Chi_Minh, 1280x900, base URL =
  the gateway, so ``await page.goto("/thu-tuc")`` works), ``phone_page`` (390x844, touch, mobile).
Helpers
- ``await axe_check(page, "name")``: axe-core (wcag2a, wcag2aa); fails on serious/critical violations.
- ``await screenshot(page, "name")``: full-page PNG at test-artifacts/screenshots/<name>.png; a failed test
  leaves FAILED-<test>.png of its ``page`` / ``phone_page`` there too.
- ``await sign_in(page, "tiepnhan")``: signs in through /dang-nhap with the demo password.
- ``await new_page(browser, stack)``: one more independent page (e.g. a second user) — close its context.
Checked after every test: no page showed a CCCD or phone number in its address or logged one.

Run one file: ``MOTCUA_TEST_DB_NAME=<you> .venv/bin/python -m pytest tests/browser/test_x.py -x -q``
(build the SPA first: ``make spa`` or ``npm run build`` in frontend/). Logs of the processes are in
test-artifacts/browser-logs/<db name>/.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from services.core.embedded_pg import REPO_ROOT, EmbeddedPostgres
from services.dev import oidc_provider
from services.dev.fake_portal import FakePortal
from services.dev.processes import ManagedProcess, gateway_process, replica_apis, service_env, worker_process
from tests.clock import write_clock
from tests.db import TEST_DATABASE, migrate, recreate_database, test_database_url
from tests.notify.fakes import FakeGateway, SmtpSink, free_port

ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DIST = REPO_ROOT / "frontend" / "dist"
AXE_JS = REPO_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "demo"
# the public post's secret for its signed webhooks to intake_api (tests/browser/test_postal.py signs with it)
POSTAL_WEBHOOK_SECRET = "whsec_" + "cG9zdGFsLW9wZXJhdG9yLWJyb3dzZXItc2VjcmV0MDE="
SERVICES = ("intake", "workflow", "notify")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether the test itself failed, for the page fixtures to keep a screenshot of it."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = bool(report.failed)
    return report


async def _keep_failure(page: Page, request: pytest.FixtureRequest, suffix: str = "") -> None:
    if request.node.stash.get(FAILED, False) and not page.is_closed():
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        with contextlib.suppress(Exception):  # a picture of a broken page is a bonus, never a second failure
            await screenshot(page, f"FAILED-{name}{suffix}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test starts real processes: mark them e2e."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


class Clock:
    """The file every process reads "now" from (MOTCUA_CLOCK_FILE); empty means the real time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reset()

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("give the instant with its time zone")
        write_clock(self.path, instant)
        return instant

    def reset(self) -> None:
        write_clock(self.path, None)


class BrowserStack:
    def __init__(self, database_url: str, log_dir: Path, *, replicas: int = 2) -> None:
        self.log_dir = log_dir
        self.replicas = replicas
        self.replica_ports = {service: [free_port() for _ in range(replicas)] for service in SERVICES}
        self.ports = {service: ports[0] for service, ports in self.replica_ports.items()}
        self.gateway_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.gateway_port}"
        self.database_url = database_url
        self.mail = SmtpSink()
        self.sms = FakeGateway()
        self.portal = FakePortal()  # the national portal (DVCQG) the notify workers sync to
        self.clock = Clock(log_dir / "clock.txt")
        self.env = service_env(os.environ, ports=self.replica_ports)
        self.env.update(
            {
                "MOTCUA_DATABASE_URL": database_url,
                "MOTCUA_DEMO": "1",
                "MOTCUA_CLOCK_FILE": str(self.clock.path),
                "MOTCUA_SMTP_HOST": "127.0.0.1",
                "MOTCUA_SMTP_PORT": str(self.mail.port),
                "MOTCUA_SMS_GATEWAY_URL": self.sms.url + "/sms",
                "MOTCUA_NATIONAL_PORTAL_URL": self.portal.url,
                "MOTCUA_NATIONAL_PORTAL_MAX_ATTEMPTS": "2",
                "MOTCUA_NATIONAL_PORTAL_BACKOFF_BASE_SECONDS": "0.1",
                "MOTCUA_NATIONAL_PORTAL_BACKOFF_MAX_SECONDS": "0.5",
                "MOTCUA_NATIONAL_PORTAL_POLL_SECONDS": "0.2",
                "MOTCUA_POSTAL_WEBHOOK_SECRET": POSTAL_WEBHOOK_SECRET,
                "MOTCUA_RELAY_BACKOFF_BASE_SECONDS": "0.2",
                "MOTCUA_RELAY_BACKOFF_MAX_SECONDS": "1.0",
                "MOTCUA_RELAY_POLL_SECONDS": "0.2",
                "MOTCUA_RELAY_LEASE_SECONDS": "5",
                "MOTCUA_RELAY_MAX_ATTEMPTS": "100",
                "MOTCUA_NOTIFY_POLL_SECONDS": "0.2",
                "MOTCUA_NOTIFY_BACKOFF_BASE_SECONDS": "0.1",
                "MOTCUA_NOTIFY_BACKOFF_MAX_SECONDS": "0.5",
                "MOTCUA_NOTIFY_LEASE_SECONDS": "4",
                "MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS": "2",
                "MOTCUA_NOTIFY_EMAIL_PER_SECOND": "1000",
                "MOTCUA_NOTIFY_SMS_PER_SECOND": "1000",
                # every test of the session writes from 127.0.0.1 and the clock moves between windows:
                # the per-address limits of public writes would end the session, not guard it
                "MOTCUA_PUBLIC_SUBMISSIONS_PER_WINDOW": "10000",
                "MOTCUA_PUBLIC_COMPLAINTS_PER_WINDOW": "10000",
                "MOTCUA_PUBLIC_CITIZEN_WRITES_PER_WINDOW": "10000",
                "MOTCUA_PUBLIC_TRACKING_PER_WINDOW": "10000",
            }
        )
        # citizens sign in at the demo's local OIDC provider, a process of its own as in `make run`
        self.env.pop("MOTCUA_CITIZEN_OIDC_ISSUER", None)
        oidc_provider.demo_environment(
            self.env, port=free_port(), redirect_uri=f"{self.base_url}/intake/api/v1/citizen/callback"
        )
        self.processes: list[ManagedProcess] = []

    def url(self, service: str, replica: int = 0) -> str:
        """An API directly (not through the gateway), e.g. for setting data up with httpx."""
        return f"http://127.0.0.1:{self.replica_ports[service][replica]}"

    def start(self) -> BrowserStack:
        self.mail.start()
        self.sms.start()
        self.portal.start()
        several = self.replicas > 1
        self.processes.append(oidc_provider.demo_process(self.env, log_dir=self.log_dir).start())
        for service in SERVICES:
            apis = replica_apis(service, ports=self.replica_ports[service], env=self.env, log_dir=self.log_dir)
            self.processes += [api.start() for api in apis]
            for n in range(1, self.replicas + 1):
                worker = worker_process(service, env=self.env, log_dir=self.log_dir, suffix=f"-{n}" if several else "")
                self.processes.append(worker.start())
        gateway = gateway_process(port=self.gateway_port, env=self.env, log_dir=self.log_dir, dist=DIST)
        self.processes.append(gateway.start())
        for process in self.processes:
            process.wait_healthy(timeout=60)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.sms.stop()
        self.mail.stop()
        self.portal.stop()

    def token(self, username: str) -> str:
        """A bearer token for a demo account (for setting data up through the APIs)."""
        answer = httpx.post(
            self.url("workflow") + "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("*.log")))


def _seed(env: dict[str, str], log_dir: Path) -> None:
    import subprocess
    import sys

    with open(log_dir / "seed.log", "wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "services.demo.seed"], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise RuntimeError(f"the demo seed failed; see {log_dir / 'seed.log'}")


@pytest.fixture(scope="session")
def database_url() -> str:
    """The server of the suite-wide fixture, but never stopped at the end: several test runs share the
    embedded PostgreSQL on this machine, and stopping it would break the others' stacks mid-test."""
    if not (os.environ.get("MOTCUA_TEST_DATABASE_URL") or os.environ.get("MOTCUA_DATABASE_URL")):
        EmbeddedPostgres.from_env().start()
    return test_database_url()


@pytest.fixture(scope="session")
def stack(database_url: str) -> Iterator[BrowserStack]:
    if not (DIST / "index.html").is_file():
        pytest.fail(f"The SPA is not built ({DIST / 'index.html'} is missing): run `make spa` first.", pytrace=False)
    name = f"{TEST_DATABASE}_browser"
    url = recreate_database(database_url, name)
    migrate(url)
    log_dir = ARTIFACTS / "browser-logs" / name
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    running = BrowserStack(url, log_dir, replicas=int(os.environ.get("MOTCUA_BROWSER_REPLICAS", "2") or 2))
    _seed(running.env, log_dir)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("Chromium is missing: `make browser` installs Debian's chromium (apt-get install chromium).")
    return found


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    launched = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
    yield launched
    await launched.close()


# personal data that must never show in a page's address or the console (DESIGN: privacy): a CCCD
# number (12 digits) or a mobile number (10 digits from 0, maybe grouped by spaces or dots), standing as
# a number of its own — not digits inside a word such as a payment reference's random hex
# ("MC-F625316470714CF7" once failed a run: twelve digits in a row, one reference in a few hundred)
PERSONAL = re.compile(r"(?<![\w.])(\d{12}|0\d{2,3}[ .]?\d{3}[ .]?\d{3,4})(?![\w.])")
LEAKS: list[str] = []  # what the pages of the running test leaked; checked after each test


def _watch_page(page: Page) -> None:
    def navigated(frame: Any) -> None:
        if frame == page.main_frame:
            address = unquote_plus(frame.url)
            if PERSONAL.search(address):
                LEAKS.append(f"personal data in the address: {address}")

    def console(message: Any) -> None:
        if PERSONAL.search(message.text):
            LEAKS.append(f"personal data in console.{message.type}: {message.text[:200]}")

    page.on("framenavigated", navigated)
    page.on("console", console)


async def new_context(browser: Browser, stack: BrowserStack, **options: Any) -> BrowserContext:
    settings: dict[str, Any] = {
        "base_url": stack.base_url,
        "locale": "vi-VN",
        "timezone_id": "Asia/Ho_Chi_Minh",
        **DESKTOP,
        **options,
    }
    context = await browser.new_context(**settings)
    context.set_default_timeout(20_000)  # the machine is shared: be patient
    context.on("page", _watch_page)
    return context


async def new_page(browser: Browser, stack: BrowserStack, **options: Any) -> Page:
    """A page in a context of its own (another user); close it with ``await page.context.close()``."""
    context = await new_context(browser, stack, **options)
    return await context.new_page()


class ConsoleErrors(list[str]):
    pass


def _watch(page: Page, errors: ConsoleErrors) -> None:
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

    def refused(message: Any) -> None:  # the gateway's Content-Security-Policy blocked something the SPA needs
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(f"CSP: {message.text[:300]}")

    page.on("console", refused)


@pytest.fixture(autouse=True)
def no_personal_data_leaks() -> Iterator[None]:
    """No page of the test shows a CCCD or phone number in its address, nor logs one to the console."""
    LEAKS.clear()
    yield
    found, LEAKS[:] = list(LEAKS), []
    assert not found, "personal data leaked:\n" + "\n".join(found)


@pytest.fixture
async def context(browser: Browser, stack: BrowserStack) -> AsyncIterator[BrowserContext]:
    context = await new_context(browser, stack)
    yield context
    await context.close()


@pytest.fixture
async def page(context: BrowserContext, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    page = await context.new_page()
    errors = ConsoleErrors()
    _watch(page, errors)
    yield page
    await _keep_failure(page, request)
    assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)


@pytest.fixture
async def phone_page(browser: Browser, stack: BrowserStack, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await new_context(browser, stack, **PHONE)
    page = await context.new_page()
    errors = ConsoleErrors()
    _watch(page, errors)
    yield page
    await _keep_failure(page, request, "-phone")
    await context.close()
    assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)


# --- helpers ------------------------------------------------------------------------------------------


async def axe_check(page: Page, name: str = "", *, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2 A and AA) on the page; fail on serious or critical violations.

    Returns every violation (minor/moderate included) for the caller to look at if it wants."""
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `make spa` (npm ci in frontend/).")
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol: the page's CSP (no inline script) would refuse a <script> tag
        await page.evaluate(AXE_JS.read_text() + "\n;undefined")
    options: dict[str, Any] = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    result = await page.evaluate("async (options) => await window.axe.run(document, options)", options)
    violations: list[dict[str, Any]] = result["violations"]
    serious = [v for v in violations if v.get("impact") in {"serious", "critical"}]
    if serious:
        lines = []
        for violation in serious:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:8]
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
        where = name or page.url
        pytest.fail(f"axe: serious/critical accessibility violations on {where}:\n" + "\n".join(lines), pytrace=False)
    return violations


async def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG at test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the UI at /dang-nhap and wait until the app has moved on to the user's home page."""
    await page.goto("/dang-nhap")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()
    try:
        await page.wait_for_url(lambda url: "/dang-nhap" not in url, wait_until="commit")
    except PlaywrightTimeout:
        alerts = await page.get_by_role("alert").all_inner_texts()
        pytest.fail(f"signing in as {username} did not leave /dang-nhap; alerts: {alerts}", pytrace=False)


async def staff_session(page: Page) -> dict[str, Any] | None:
    """The signed-in staff session the SPA keeps in sessionStorage (or None)."""
    raw = await page.evaluate("() => sessionStorage.getItem('motcua.session')")
    return json.loads(raw) if raw else None


async def wait_until(check: Any, *, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll an async ``check`` until it is truthy (for work the background workers do)."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
