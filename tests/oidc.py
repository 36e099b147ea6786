"""The local OpenID Connect provider (services/dev/oidc_provider.py) as a real server in the test process, and a
citizen going through its login and consent pages over real HTTP."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlsplit

import httpx
import uvicorn

from services.dev.oidc_provider import DEMO_PASSWORD, Client, LocalProvider
from tests.notify.fakes import free_port

CLIENT_ID = "motcua-test"
CLIENT_SECRET = "motcua-test-secret-at-least-long-enough"
AN = "031090001234"  # Nguyễn Văn An, a demo citizen of the provider
BINH = "031195005678"  # Trần Thị Bình


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[LocalProvider]:
    """The provider on a free port of 127.0.0.1, our client registered with ``redirect_uri``."""
    port = free_port()
    provider = LocalProvider(
        issuer=f"http://127.0.0.1:{port}", clients={CLIENT_ID: Client(CLIENT_SECRET, (redirect_uri,))}
    )
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("the local OIDC provider did not start")
        time.sleep(0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def oidc_settings(provider: LocalProvider, redirect_uri: str) -> dict[str, object]:
    """``Settings.with_changes(citizen_oidc=…)`` for ``provider``."""
    return {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": redirect_uri,
        "metadata_seconds": 0,  # every test reads the documents afresh (a test may rotate the key)
    }


async def consent_at_provider(authorize_url: str, citizen: str, *, decision: str = "allow") -> str:
    """A citizen signs in at the provider and answers its consent page: where the provider sends them back."""
    params = dict(parse_qsl(urlsplit(authorize_url).query))
    base = authorize_url.split("/authorize", 1)[0]
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(authorize_url)
        assert page.status_code == 200, page.text
        login = await http.post(f"{base}/login", data={**params, "username": citizen, "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        ticket = re.search(r'name="ticket" value="([^"]+)"', login.text)
        assert ticket is not None
        back = await http.post(f"{base}/consent", data={"ticket": ticket.group(1), "decision": decision})
        assert back.status_code == 303
        return back.headers["location"]
