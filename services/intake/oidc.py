"""Citizens' sign-in through an OpenID Connect provider (VNeID in production): the relying party, on authlib.

The authorization code flow with PKCE (S256), ``state`` and ``nonce`` — authlib prepares the request
(``prepare_grant_uri``, ``create_s256_code_challenge``); the code is exchanged with ``client_secret_basic``
over httpx (authlib's own httpx client is deprecated in 1.9 in favour of httpx2, which we do not carry: a
form POST is all it would do); the ID token's signature is checked
against the provider's JWKS (joserfc, which authlib itself uses; RS256 or ES256, never ``none`` or HS*) and
its claims by authlib's ``CodeIDToken``: ``iss`` is the configured issuer, ``aud`` our client id (``azp``
when there are several), ``exp``/``iat`` present with 60 s of leeway for the clocks, ``nonce`` the one this
browser's flow sent. Any failure is a refused sign-in with a stable code (``SignInRefused``), never a 500.

**The identity.** The citizen is the CCCD number in the claim ``citizen_oidc.id_number_claim`` (``cccd`` by
default), their name in ``name_claim`` (``name``); the standard claims ``birthdate``, ``phone_number``,
``email`` and ``address`` (its ``formatted`` text), when given, prefill the submission form. VNeID's exact
claim names are confirmed with the provider at onboarding and set there, without a code change. A token
without a valid 12-digit CCCD is refused (``oidc_identity_missing``).

**The provider's documents** (discovery, JWKS) are fetched outside any transaction and kept per process
for ``metadata_seconds`` (one hour); a token signed with a key id we do not know refetches the keys once
at once (the provider rotated them). The discovery's ``issuer`` must equal the configured one (OIDC
Discovery §4.3), so a document served from the wrong place is refused.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from services.core.config import CitizenOidcSettings

ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
_CCCD = re.compile(r"^\d{12}$")
_PROFILE_CLAIMS = ("birthdate", "phone_number", "email", "gender")


class SignInRefused(Exception):
    """The sign-in did not complete: ``code`` is what the citizen is shown (translated by the SPA)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Identity:
    """Who the provider vouched for: the stable subject, the CCCD, the name and what else it gave."""

    issuer: str
    subject: str
    id_number: str
    full_name: str
    profile: dict[str, str] = field(default_factory=dict)


@dataclass
class _Documents:
    metadata: dict[str, Any]
    jwks: dict[str, Any]
    fetched_at: float


_cache: dict[str, _Documents] = {}


def _http(config: CitizenOidcSettings) -> httpx.AsyncClient:
    """A client for one sign-in's calls (a few a minute at the busiest): explicit timeouts, no redirects."""
    return httpx.AsyncClient(timeout=httpx.Timeout(config.timeout_seconds), follow_redirects=False)


async def _get_json(url: str, config: CitizenOidcSettings) -> dict[str, Any]:
    async with _http(config) as http:
        response = await http.get(url)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


async def documents(config: CitizenOidcSettings, *, refresh_keys: bool = False) -> _Documents:
    """The provider's discovery document and keys, from this process's cache when fresh."""
    issuer = str(config.issuer).rstrip("/")
    cached = _cache.get(issuer)
    if cached is not None and not refresh_keys and time.monotonic() - cached.fetched_at < config.metadata_seconds:
        return cached
    try:
        metadata = cached.metadata if cached is not None and refresh_keys else None
        if metadata is None:
            metadata = await _get_json(f"{issuer}/.well-known/openid-configuration", config)
            if str(metadata.get("issuer", "")).rstrip("/") != issuer:
                raise SignInRefused("oidc_unavailable", "the discovery document names another issuer")
        jwks = await _get_json(str(metadata["jwks_uri"]), config)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SignInRefused(
            "oidc_unavailable", f"the provider's documents could not be read: {type(exc).__name__}"
        ) from exc
    fresh = _Documents(metadata=metadata, jwks=jwks, fetched_at=time.monotonic())
    _cache[issuer] = fresh
    return fresh


@dataclass(frozen=True)
class Start:
    """The redirect to the provider, and what the callback must check (kept sealed in the browser)."""

    url: str
    state: str
    nonce: str
    verifier: str


async def start(config: CitizenOidcSettings) -> Start:
    """A new sign-in: fresh ``state``, ``nonce`` and PKCE verifier (48 random characters each)."""
    docs = await documents(config)
    state, nonce, verifier = generate_token(48), generate_token(48), generate_token(48)
    url = prepare_grant_uri(
        str(docs.metadata["authorization_endpoint"]), client_id=config.client_id, response_type="code",
        redirect_uri=config.redirect_uri, scope=config.scopes, state=state, nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
    )  # fmt: skip
    return Start(url=url, state=state, nonce=nonce, verifier=verifier)


async def complete(
    config: CitizenOidcSettings, flow: dict[str, Any], *, code: str | None, state: str | None, error: str | None
) -> Identity:
    """The provider's answer at the callback, against this browser's ``flow`` (from its sealed cookie): the
    state must be the flow's (else an attacker's code could be pushed into a victim's browser), the citizen
    must have signed in (``error`` absent), then the code is exchanged with the flow's verifier and nonce."""
    if not state or not hmac.compare_digest(state.encode(), str(flow.get("state", "")).encode()):
        raise SignInRefused("oidc_state_mismatch", "the state is not this browser's")
    if error or not code:
        raise SignInRefused("oidc_denied", "the provider did not sign the citizen in")
    return await finish(config, code=code, nonce=str(flow["nonce"]), verifier=str(flow["verifier"]))


async def finish(config: CitizenOidcSettings, *, code: str, nonce: str, verifier: str) -> Identity:
    """Exchange ``code`` (with the PKCE verifier) and validate the ID token: the citizen's identity."""
    docs = await documents(config)
    secret = config.client_secret.get_secret_value() if config.client_secret else ""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": str(config.redirect_uri),
            "code_verifier": verifier}  # fmt: skip
    try:
        async with _http(config) as http:
            answer = await http.post(
                str(docs.metadata["token_endpoint"]), data=form, auth=httpx.BasicAuth(str(config.client_id), secret),
                headers={"Accept": "application/json"},
            )  # fmt: skip
        answer.raise_for_status()
        token = answer.json()
    except (httpx.HTTPError, ValueError) as exc:  # refused (a 400 invalid_grant), unreachable, not JSON
        raise SignInRefused("oidc_exchange_failed", f"the code was not exchanged: {type(exc).__name__}") from exc
    raw = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(raw, str):
        raise SignInRefused("oidc_exchange_failed", "the provider answered without an ID token")
    claims = await validate_id_token(config, raw, nonce=nonce, access_token=token.get("access_token"))
    return identity_of(config, claims)


async def validate_id_token(
    config: CitizenOidcSettings, raw: str, *, nonce: str, access_token: str | None = None
) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS) and claims (iss, aud, exp, nonce) hold."""
    docs = await documents(config)
    registry = JWSRegistry(algorithms=list(ID_TOKEN_ALGORITHMS))
    try:
        try:
            decoded = jwt.decode(raw, KeySet.import_key_set(docs.jwks), registry=registry)  # type: ignore[arg-type]
        except InvalidKeyIdError:  # the provider may have rotated its keys since we fetched them
            docs = await documents(config, refresh_keys=True)
            decoded = jwt.decode(raw, KeySet.import_key_set(docs.jwks), registry=registry)  # type: ignore[arg-type]
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": str(docs.metadata["issuer"])},
            "aud": {"essential": True, "value": config.client_id},
        }
        params = {"nonce": nonce, "client_id": config.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        claims.validate(now=int(time.time()), leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, TypeError) as exc:
        raise SignInRefused("oidc_id_token_invalid", f"the ID token was refused: {type(exc).__name__}") from exc
    return dict(claims)


def identity_of(config: CitizenOidcSettings, claims: dict[str, Any]) -> Identity:
    """The identity in validated claims, by the configured mapping; a token without a CCCD is refused."""
    id_number = str(claims.get(config.id_number_claim) or "").strip()
    name = " ".join(str(claims.get(config.name_claim) or "").split())
    if not _CCCD.match(id_number) or not name:
        raise SignInRefused("oidc_identity_missing", "the ID token carries no CCCD number or no name")
    profile = {key: str(claims[key]) for key in _PROFILE_CLAIMS if isinstance(claims.get(key), str | int)}
    address = claims.get("address")
    if isinstance(address, dict) and isinstance(address.get("formatted"), str):
        profile["address"] = address["formatted"][:500]
    return Identity(
        issuer=str(claims["iss"]), subject=str(claims["sub"])[:255], id_number=id_number, full_name=name[:200],
        profile=profile,
    )  # fmt: skip
