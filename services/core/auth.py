"""Staff authentication: argon2 password hashes and short-lived HS256 JWTs.

workflow_api issues the tokens; all three services verify them with the shared secret.
Services call each other with a service token (role ``service``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.core.config import Settings
from services.core.errors import Unauthorized

ALGORITHM = "HS256"
SERVICE_ROLE = "service"

_hasher = PasswordHasher()
# verifying against this keeps the timing of "no such user" close to "wrong password"
_DUMMY_HASH = _hasher.hash("motcua-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Actor:
    """Who is calling: a staff member or another service."""

    subject: str
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    agency_id: uuid.UUID | None = None
    agency_code: str | None = None

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
) -> tuple[str, int]:
    """Return the token and its lifetime in seconds."""
    issued = now or datetime.now(UTC)
    lifetime = ttl or timedelta(minutes=settings.jwt_ttl_minutes)
    claims = {
        "iss": settings.jwt_issuer,
        "sub": subject,
        "username": username,
        "roles": sorted(roles),
        "agency_id": str(agency_id) if agency_id else None,
        "agency_code": agency_code,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)
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
    )
    return token


def decode_token(settings: Settings, token: str) -> Actor:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired; sign in again.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid.", code="invalid_token") from exc
    agency_id = claims.get("agency_id")
    return Actor(
        subject=str(claims["sub"]),
        username=str(claims.get("username", "")),
        roles=frozenset(claims.get("roles") or ()),
        agency_id=uuid.UUID(agency_id) if agency_id else None,
        agency_code=claims.get("agency_code"),
    )
