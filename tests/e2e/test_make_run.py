"""`make run`'s program on an empty database: migrates, loads demo data, brings up healthy services, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import httpx
import pytest

from services.calendar.working import VN_TZ
from services.core.embedded_pg import REPO_ROOT
from tests.db import TEST_DATABASE, recreate_database
from tests.e2e.conftest import ARTIFACTS
from tests.notify.fakes import free_port

pytestmark = pytest.mark.e2e


def test_devrun_brings_everything_up_and_down(database_url: str) -> None:
    """As ``make run REPLICAS=2``: two of each API and worker (issue 15 §1), on ports given in the URLs."""
    # ports free now, not fixed ones: another checkout's tests on the same machine may hold those
    replicas = {name: [free_port(), free_port()] for name in ("intake", "workflow", "notify")}
    ports = {name: listed[0] for name, listed in replicas.items()}
    gateway = free_port()
    url = recreate_database(database_url, f"{TEST_DATABASE}_devrun")
    env = dict(os.environ)
    env.update(
        {
            f"MOTCUA_{name.upper()}_URL": ",".join(f"http://127.0.0.1:{port}" for port in listed)
            for name, listed in replicas.items()
        }
    )
    env["MOTCUA_REPLICAS"] = "2"
    env.update({"MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO": "1", "MOTCUA_LOG_DIR": str(ARTIFACTS / "devrun-logs")})
    env.update({"MOTCUA_GATEWAY_PORT": str(gateway), "MOTCUA_SMTP_PORT": str(free_port())})
    env["MOTCUA_DEMO_OIDC_PORT"] = str(free_port())  # the demo's citizen identity provider
    env.pop("MOTCUA_CITIZEN_OIDC_ISSUER", None)
    portal = free_port()  # the demo's fake national portal (docs/integrations/national-portal.md)
    env.pop("MOTCUA_NATIONAL_PORTAL_URL", None)
    env["MOTCUA_FAKE_PORTAL_PORT"] = str(portal)
    process = subprocess.Popen(
        [sys.executable, "-m", "services.dev.devrun"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # started with SIGINT ignored, as a background job of a non-interactive shell is (CI's loop): Ctrl-C
        # must stop the stack all the same
        preexec_fn=_ignore_sigint,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "Một Cửa is running" in output, output
        for name, listed in replicas.items():
            for port in listed:
                assert f"http://127.0.0.1:{port}" in output
                health = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                assert health.json() == {"status": "ready", "service": name}
        assert "2 of each API and each worker" in output
        # citizens sign in at the demo's own OIDC provider, behind the one URL
        sign_in = httpx.get(f"http://127.0.0.1:{gateway}/intake/api/v1/citizen/sign-in", timeout=10)
        assert sign_in.status_code == 302, sign_in.text
        assert sign_in.headers["location"].startswith(f"http://127.0.0.1:{env['MOTCUA_DEMO_OIDC_PORT']}/authorize?")
        assert f"http://127.0.0.1:{portal}/dvcqg/hoso/" in output
        assert httpx.get(f"http://127.0.0.1:{portal}/healthz", timeout=5).status_code == 200
        # the demo accounts work against the running workflow_api
        token = httpx.post(
            f"http://127.0.0.1:{ports['workflow']}/api/v1/auth/token",
            data={"username": "tiepnhan", "password": "demo"},
            timeout=10,
        )
        assert token.status_code == 200, token.text
        assert "counter" in token.json()["roles"]
        _one_url_for_the_user(f"http://127.0.0.1:{gateway}")
        # the demo history gives the leader's dashboard a year of figures from the start
        admin = httpx.post(
            f"http://127.0.0.1:{ports['workflow']}/api/v1/auth/token",
            data={"username": "admin", "password": "demo"},
            timeout=10,
        ).json()["access_token"]
        today = datetime.now(VN_TZ).date()
        year = httpx.get(
            f"http://127.0.0.1:{ports['workflow']}/api/v1/stats",
            params={"from": (today - timedelta(days=366)).isoformat(), "to": today.isoformat()},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        ).json()
        assert year["received"] >= 1000
        assert 85 < year["on_time_rate"] < 99  # per cent, a well-run province
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the stack it started goes with it
            raise
    assert process.returncode == 0, rest
    assert "stopping" in rest
    for port in [*(port for listed in replicas.values() for port in listed), gateway, portal]:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _one_url_for_the_user(web: str) -> None:
    """The gateway: the built SPA at / (its own routes too), each API under its prefix."""
    assert (REPO_ROOT / "frontend" / "dist" / "index.html").is_file(), "make test builds the SPA first"
    home = httpx.get(web + "/", timeout=10)
    assert home.status_code == 200
    assert '<div id="root"></div>' in home.text
    assert home.headers["cache-control"] == "no-cache"
    deep = httpx.get(web + "/tra-cuu/000.00.31.H26-261123-0001", timeout=10)
    assert deep.text == home.text  # a route of the SPA's: its index.html, the SPA routes it
    script = next(part.split('"')[0] for part in home.text.split('src="')[1:] if part.startswith("/assets/"))
    asset = httpx.get(web + script, timeout=10)
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]

    token = httpx.post(
        web + "/workflow/api/v1/auth/token", data={"username": "tiepnhan", "password": "demo"}, timeout=10
    )
    assert token.status_code == 200, token.text
    me = httpx.get(
        web + "/workflow/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["username"] == "tiepnhan"
    catalogue = httpx.get(web + "/intake/api/v1/procedures", params={"q": "khai sinh"}, timeout=10)
    assert catalogue.status_code == 200
    # the whole national catalogue is loaded: the portal finds every procedure, not only the demo's
    everything = httpx.get(web + "/intake/api/v1/procedures", params={"limit": 1}, timeout=10).json()
    assert everything["total"] >= 5000
    curated = httpx.get(web + "/intake/api/v1/procedures/1.001193", timeout=10).json()
    assert curated["information_only"] is False
    assert curated["steps"]
    missing = httpx.get(web + "/intake/api/v1/procedures/NO-SUCH-CODE", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
