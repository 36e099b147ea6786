"""A local OpenID Connect provider standing in for VNeID — FOR DEMO MODE AND TESTS ONLY.

``make run`` starts it as its own process in demo mode (``python -m services.dev.oidc_provider``, port
``MOTCUA_DEMO_OIDC_PORT``, 8090) and points intake's ``MOTCUA_CITIZEN_OIDC_*`` settings at it; the tests
start it in their own process (``LocalProvider.app()`` under uvicorn on a free port). In production the
settings point at VNeID and this module is never started.

What it does, as a real provider would: a discovery document, its JWKS (an RSA key made at start), an
authorization endpoint with a login form (the demo citizens below, password ``demo``) and a consent page,
and a token endpoint that checks the client (``client_secret_basic`` or ``_post``), the redirect URI, the
code (single use, 60 s) and PKCE (S256 only), and answers an RS256 ID token carrying ``nonce``, the
citizen's name (``name``), CCCD (``cccd``) and the standard ``birthdate``, ``phone_number``, ``email``,
``address``, ``gender``. ``LocalProvider.tamper`` makes it misbehave for the relying party's tests: an ID
token signed by another key (``forged``), already expired (``expired``), from another issuer
(``issuer``), for another client (``audience``), with another nonce (``nonce``) or without a CCCD
(``no_cccd``), or a discovery document naming another issuer (``discovery``).
"""

from __future__ import annotations

import base64
import hmac
import html
import os
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from services.dev.processes import ManagedProcess

DEMO_PASSWORD = "demo"  # noqa: S105 - the demo citizens' password, shown on the login page
CODE_SECONDS = 60
ID_TOKEN_SECONDS = 300

# made-up citizens: CCCD numbers of the right shape (031: Hải Phòng), names and contacts of nobody
DEMO_CITIZENS: dict[str, dict[str, Any]] = {
    "031090001234": {
        "sub": "vneid-demo-0001", "name": "Nguyễn Văn An", "birthdate": "1990-04-12", "gender": "male",
        "phone_number": "0912345678", "email": "an.nguyen@example.vn",
        "address": {"formatted": "12 Điện Biên Phủ, phường Hồng Bàng, thành phố Hải Phòng"},
    },
    "031195005678": {
        "sub": "vneid-demo-0002", "name": "Trần Thị Bình", "birthdate": "1995-09-02", "gender": "female",
        "phone_number": "0987654321", "email": "binh.tran@example.vn",
        "address": {"formatted": "45 Lạch Tray, phường Lê Chân, thành phố Hải Phòng"},
    },
    "031288009012": {
        "sub": "vneid-demo-0003", "name": "Lê Minh Châu", "birthdate": "1988-01-30", "gender": "female",
        "phone_number": "0905111222",
    },
}  # fmt: skip
_AUTH_PARAMS = ("client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method")


@dataclass(frozen=True)
class Client:
    secret: str
    redirect_uris: tuple[str, ...]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    citizen: str
    nonce: str | None
    challenge: str
    expires: float


@dataclass
class LocalProvider:
    """The provider's state: its clients, its key, codes in flight, and how it should misbehave."""

    issuer: str
    clients: dict[str, Client]
    tamper: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "demo-1", "use": "sig"}))
    codes: dict[str, _Grant] = field(default_factory=dict)
    pending: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    exchanged: list[str] = field(default_factory=list)  # the outcome of each token request, for the tests
    keys_served: int = 0  # JWKS answered, for the tests of the relying party's cache

    def rotate(self) -> None:
        """A new signing key under a new key id, the old one withdrawn (as a provider's rotation does)."""
        number = int(str(self.key.kid).rsplit("-", 1)[-1]) + 1
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"demo-{number}", "use": "sig"})

    # --- the documents ------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email", "phone", "address"],
            "claims_supported": ["sub", "name", "cccd", "birthdate", "gender", "phone_number", "email", "address"],
        }

    def id_token(self, client_id: str, citizen: str, nonce: str | None) -> str:
        now = int(time.time())
        person = DEMO_CITIZENS[citizen]
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": person["sub"], "aud": client_id, "iat": now, "exp": now + ID_TOKEN_SECONDS,
            "auth_time": now, "cccd": citizen, **{k: v for k, v in person.items() if k != "sub"},
        }  # fmt: skip
        if nonce:
            claims["nonce"] = nonce
        key = self.key
        if self.tamper == "forged":  # same key id, another key: the signature cannot verify
            key = RSAKey.generate_key(2048, parameters={"kid": str(self.key.kid)})
        elif self.tamper == "expired":
            claims.update(iat=now - 3600, exp=now - 1800, auth_time=now - 3600)
        elif self.tamper == "issuer":
            claims["iss"] = "https://not-the-provider.example"
        elif self.tamper == "audience":
            claims["aud"] = "another-client"
        elif self.tamper == "nonce":
            claims["nonce"] = "not-the-nonce-sent"
        elif self.tamper == "no_cccd":
            claims.pop("cccd")
        return jwt.encode({"alg": "RS256", "kid": str(key.kid)}, claims, key)

    # --- the endpoints ------------------------------------------------------------------------------

    async def _discovery(self, _request: Request) -> Response:
        document = self.discovery()
        if self.tamper == "discovery":  # a document that speaks for another issuer
            document["issuer"] = "https://not-the-provider.example"
        return JSONResponse(document)

    async def _jwks(self, _request: Request) -> Response:
        self.keys_served += 1
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    def _check_request(self, params: dict[str, str]) -> str | None:
        client = self.clients.get(params.get("client_id", ""))
        if client is None or params.get("redirect_uri") not in client.redirect_uris:
            return "unknown client or redirect URI"
        if "openid" not in params.get("scope", "").split():
            return "the scope must include openid"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE with S256 is required"
        return None

    async def _authorize(self, request: Request) -> Response:
        params = {name: request.query_params.get(name, "") for name in _AUTH_PARAMS}
        problem = self._check_request(params)
        if problem is not None or request.query_params.get("response_type") != "code":
            return PlainTextResponse(problem or "response_type must be code", status_code=400)
        return HTMLResponse(_login_page(params, error=None))

    async def _login(self, request: Request) -> Response:
        form = await request.form()
        params = {name: str(form.get(name, "")) for name in _AUTH_PARAMS}
        if self._check_request(params) is not None:
            return PlainTextResponse("invalid authorization request", status_code=400)
        citizen = str(form.get("username", "")).strip()
        if citizen not in DEMO_CITIZENS or not hmac.compare_digest(str(form.get("password", "")), DEMO_PASSWORD):
            return HTMLResponse(_login_page(params, error="Số định danh hoặc mật khẩu không đúng."), status_code=401)
        ticket = secrets.token_urlsafe(24)
        self.pending[ticket] = (citizen, params)
        return HTMLResponse(_consent_page(ticket, DEMO_CITIZENS[citizen]["name"]))

    async def _consent(self, request: Request) -> Response:
        form = await request.form()
        found = self.pending.pop(str(form.get("ticket", "")), None)
        if found is None:
            return PlainTextResponse("unknown or used ticket", status_code=400)
        citizen, params = found
        back: dict[str, str] = {"state": params["state"]} if params["state"] else {}
        if form.get("decision") != "allow":
            back["error"] = "access_denied"
            return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", status_code=303)
        code = secrets.token_urlsafe(32)
        self.codes[code] = _Grant(
            client_id=params["client_id"], redirect_uri=params["redirect_uri"], citizen=citizen,
            nonce=params["nonce"] or None, challenge=params["code_challenge"], expires=time.monotonic() + CODE_SECONDS,
        )  # fmt: skip
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode({'code': code, **back})}", status_code=303)

    def _client_of(self, request: Request, form: dict[str, str]) -> str | None:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            return None
        return client_id

    async def _token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        client_id = self._client_of(request, form)
        if client_id is None:
            self.exchanged.append("invalid_client")
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(form.get("code", ""), None)  # single use, whatever happens next
        outcome = "ok"
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.expires < time.monotonic()
            or grant.client_id != client_id
            or grant.redirect_uri != form.get("redirect_uri")
        ):
            outcome = "invalid_grant"
        elif not hmac.compare_digest(create_s256_code_challenge(form.get("code_verifier", "")), grant.challenge):
            outcome = "pkce_failed"
        self.exchanged.append(outcome)
        if outcome != "ok" or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        body = {
            "access_token": secrets.token_urlsafe(32), "token_type": "Bearer", "expires_in": ID_TOKEN_SECONDS,
            "id_token": self.id_token(client_id, grant.citizen, grant.nonce),
        }  # fmt: skip
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def _health(self, _request: Request) -> Response:
        return PlainTextResponse("ok")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/login", self._login, methods=["POST"]),
                Route("/consent", self._consent, methods=["POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/healthz", self._health),
            ]
        )


# --- the pages (Vietnamese: the demo's citizens are) -----------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "label{display:block;margin:.75rem 0 .25rem}input,select{font-size:1rem;padding:.4rem;width:100%}"
    "button{font-size:1rem;padding:.5rem 1rem;margin:1rem .5rem 0 0}.demo{background:#fff4d6;padding:.5rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'
        for name, value in params.items()
    )


def _login_page(params: dict[str, str], *, error: str | None) -> str:
    options = "".join(
        f'<option value="{cccd}">{html.escape(person["name"])} — {cccd}</option>'
        for cccd, person in DEMO_CITIZENS.items()
    )
    alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return _page(
        "Đăng nhập định danh điện tử (demo)",
        '<p class="demo">Nhà cung cấp định danh thử nghiệm, chỉ dùng cho bản demo — không phải VNeID. '
        f"Mật khẩu của mọi công dân demo: <strong>{DEMO_PASSWORD}</strong>.</p>{alert}"
        f'<form method="post" action="login">{_hidden(params)}'
        f'<label for="username">Công dân (số định danh)</label><select id="username" name="username">{options}</select>'
        '<label for="password">Mật khẩu</label><input id="password" name="password" type="password" '
        'autocomplete="current-password" required><button type="submit">Đăng nhập</button></form>',
    )


def _consent_page(ticket: str, name: str) -> str:
    return _page(
        "Chia sẻ thông tin định danh",
        f"<p>Xin chào {html.escape(name)}. Cổng <strong>Một Cửa</strong> đề nghị được nhận: họ và tên, số định "
        "danh cá nhân (CCCD), ngày sinh, giới tính, số điện thoại, thư điện tử và địa chỉ của bạn.</p>"
        f'<form method="post" action="consent"><input type="hidden" name="ticket" value="{html.escape(ticket)}">'
        '<button type="submit" name="decision" value="allow">Đồng ý</button>'
        '<button type="submit" name="decision" value="deny">Từ chối</button></form>',
    )


DEMO_CLIENT_ID = "motcua-demo"
DEMO_CLIENT_SECRET = "motcua-demo-oidc-secret-not-for-production"  # noqa: S105 - the demo's client, demo only


def demo_environment(env: dict[str, str], *, port: int, redirect_uri: str) -> None:
    """Point intake's ``MOTCUA_CITIZEN_OIDC_*`` at the local provider on ``port`` (unless already set)."""
    env.setdefault("MOTCUA_CITIZEN_OIDC_ISSUER", f"http://127.0.0.1:{port}")
    env.setdefault("MOTCUA_CITIZEN_OIDC_CLIENT_ID", DEMO_CLIENT_ID)
    env.setdefault("MOTCUA_CITIZEN_OIDC_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    env.setdefault("MOTCUA_CITIZEN_OIDC_REDIRECT_URI", redirect_uri)
    env["MOTCUA_DEMO_OIDC_PORT"] = str(port)


def demo_process(env: Mapping[str, str], *, log_dir: Path | None) -> ManagedProcess:
    """The provider as its own process (``make run`` in demo mode, the end-to-end and browser tests)."""
    port = env.get("MOTCUA_DEMO_OIDC_PORT", "8090")
    return ManagedProcess(
        name="oidc_provider",
        args=[sys.executable, "-m", "services.dev.oidc_provider"],
        env=dict(env),
        log_path=log_dir / "oidc_provider.log" if log_dir else None,
        health_url=f"http://127.0.0.1:{port}/healthz",
    )


def main() -> None:
    """``python -m services.dev.oidc_provider``: one client, ours, from the same settings intake reads."""
    port = int(os.environ.get("MOTCUA_DEMO_OIDC_PORT", "8090"))
    issuer = os.environ.get("MOTCUA_CITIZEN_OIDC_ISSUER", f"http://127.0.0.1:{port}").rstrip("/")
    client = Client(
        secret=os.environ.get("MOTCUA_CITIZEN_OIDC_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        redirect_uris=tuple(os.environ.get("MOTCUA_CITIZEN_OIDC_REDIRECT_URI", "").split(",")),
    )
    client_id = os.environ.get("MOTCUA_CITIZEN_OIDC_CLIENT_ID", DEMO_CLIENT_ID)
    provider = LocalProvider(issuer=issuer, clients={client_id: client})
    uvicorn.run(provider.app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
