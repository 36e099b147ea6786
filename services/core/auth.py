"""Staff authentication: argon2 password hashes and short-lived HS256 JWTs.

workflow_api issues the tokens; all three services verify them. Services call each other with a
service token (role ``service``). One master secret (``MOTCUA_JWT_SECRET``, at least 32 bytes)
yields a key per purpose (HMAC-SHA256 of the purpose's name): staff tokens, service tokens and the
tracking secrets' HMAC never share a key, and each token names its audience (``aud``), so a token
made for one use is refused for another.

A staff token carries its account's ``token_version``; logout, deactivation, a role, agency or
password change raise it, and every service refuses older tokens (services.core.revocation).
Password hashing runs in a worker thread, at most ``password_hash_concurrency`` at a time, so a
sign-in flood never stalls the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.core.config import Settings
from services.core.errors import ServiceUnavailable, Unauthorized

ALGORITHM = "HS256"
SERVICE_ROLE = "service"
STAFF_AUDIENCE = "motcua:staff"
SERVICE_AUDIENCE = "motcua:service"
_KEY_PURPOSES = {STAFF_AUDIENCE: "staff-token", SERVICE_AUDIENCE: "service-token"}


def purpose_key(settings: Settings, purpose: str) -> bytes:
    """The key for one purpose, derived from the master secret (a PRF keyed by the secret)."""
    master = settings.auth.jwt_secret.get_secret_value().encode()
    return hmac.new(master, f"motcua/key/{purpose}".encode(), hashlib.sha256).digest()


# OWASP's first argon2id configuration (m = 19 MiB, t = 2, p = 1): about 40 ms on this project's
# 2-core machine, so one core can check ~25 sign-ins a second; hashes made with other parameters
# (argon2-cffi's defaults, 64 MiB × 3 × 4 lanes, ≈ 250 ms) still verify and are re-hashed on sign-in
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# verifying against this keeps the timing of "no such user" close to "wrong password"
_DUMMY_HASH = _hasher.hash("motcua-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_hashing: anyio.CapacityLimiter | None = None


def _limiter(settings: Settings) -> anyio.CapacityLimiter:
    global _hashing  # one per process: the CPU it protects is the process's
    if _hashing is None:
        _hashing = anyio.CapacityLimiter(settings.auth.password_hash_concurrency)
    return _hashing


def _admit(settings: Settings) -> anyio.CapacityLimiter:
    """The limiter, or 503 when more than ``password_hash_queue`` hashes already wait for it."""
    limiter = _limiter(settings)
    if limiter.statistics().tasks_waiting >= settings.auth.password_hash_queue:
        raise ServiceUnavailable("Too many sign-ins at once; retry in a moment.", code="server_busy", retry_after=1)
    return limiter


async def verify_password_off_loop(settings: Settings, password_hash: str | None, password: str) -> bool:
    """``verify_password`` in a worker thread, bounded: the event loop keeps serving other requests."""
    return await anyio.to_thread.run_sync(verify_password, password_hash, password, limiter=_admit(settings))


async def hash_password_off_loop(settings: Settings, password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_admit(settings))


@dataclass(frozen=True)
class Actor:
    """Who is calling: a staff member or another service."""

    subject: str
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    agency_id: uuid.UUID | None = None
    agency_code: str | None = None
    token_version: int = 0

    @property
    def staff_id(self) -> uuid.UUID | None:
        if SERVICE_ROLE in self.roles:
            return None
        return uuid.UUID(self.subject)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def issue_token(
    settings: Settings,
    *,
    subject: str,
    username: str,
    roles: list[str],
    agency_id: uuid.UUID | None,
    agency_code: str | None,
    now: datetime | None = None,
    ttl: timedelta | None = None,
    token_version: int = 0,
    audience: str = STAFF_AUDIENCE,
) -> tuple[str, int]:
    """Return the token and its lifetime in seconds."""
    issued = now or datetime.now(UTC)
    lifetime = ttl or timedelta(minutes=settings.auth.jwt_ttl_minutes)
    claims = {
        "iss": settings.auth.jwt_issuer,
        "aud": audience,
        "ver": token_version,
        "sub": subject,
        "username": username,
        "roles": sorted(roles),
        "agency_id": str(agency_id) if agency_id else None,
        "agency_code": agency_code,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, purpose_key(settings, _KEY_PURPOSES[audience]), algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def service_token(settings: Settings, service: str) -> str:
    token, _ = issue_token(
        settings,
        subject=f"service:{service}",
        username=service,
        roles=[SERVICE_ROLE],
        agency_id=None,
        agency_code=None,
        ttl=timedelta(minutes=10),
        audience=SERVICE_AUDIENCE,
    )
    return token


def decode_token(settings: Settings, token: str) -> Actor:
    try:
        audience = jwt.decode(token, options={"verify_signature": False}).get("aud")
        if audience not in _KEY_PURPOSES:
            raise jwt.InvalidAudienceError("unknown audience")
        claims = jwt.decode(
            token,
            purpose_key(settings, _KEY_PURPOSES[audience]),
            algorithms=[ALGORITHM],
            issuer=settings.auth.jwt_issuer,
            audience=audience,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        roles = frozenset(claims.get("roles") or ())
        if (SERVICE_ROLE in roles) != (audience == SERVICE_AUDIENCE):
            raise jwt.InvalidAudienceError("a service role in a staff token, or the reverse")
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired; sign in again.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid.", code="invalid_token") from exc
    agency_id = claims.get("agency_id")
    return Actor(
        subject=str(claims["sub"]),
        username=str(claims.get("username", "")),
        roles=roles,
        agency_id=uuid.UUID(agency_id) if agency_id else None,
        agency_code=claims.get("agency_code"),
        token_version=int(claims.get("ver", 0)),
    )
