"""Where our outbound webhooks may go: an address policy, checked after DNS resolution, and an HTTP client
that connects only to the address it checked.

A subscriber's URL is chosen by an administrator, so without a policy a webhook is a way into the
inside: the cloud metadata service (169.254.169.254), the database, the other services, anything on
the private network — with the target's answer shown back in the delivery log. The policy, from the
settings:

- outside demo mode only ``https`` URLs;
- every address the name resolves to must be allowed, or the request is refused (a name that answers
  one public and one private address is refused: no betting on which one the connection takes);
- denied unless listed in ``MOTCUA_WEBHOOK_ALLOWED_NETWORKS``: loopback, link-local, private (RFC 1918,
  unique local), shared (100.64/10), multicast, unspecified, reserved and anything else not globally
  routable, also when wrapped in IPv6 (IPv4-mapped, 6to4, NAT64);
- always denied: the database's address (where loopback is allowed — demo and tests, whose fake
  receivers listen on 127.0.0.1 — its port);
- ``MOTCUA_WEBHOOK_ALLOW_LOOPBACK`` (demo and tests only; refused at start otherwise) lets 127.0.0.0/8 and
  ::1 through.

The check runs when a subscription is saved (a fast 422) and again at every send, inside the
connection itself: ``GuardedBackend`` resolves the name, checks every address and opens the TCP
connection to the checked address, while TLS still verifies (and sends SNI for) the name in the URL
and the ``Host`` header stays the URL's — so a name that resolves to a public address at the check
and to 127.0.0.1 a moment later (DNS rebinding) reaches nothing it should not. The client never uses
proxies from the environment and never follows redirects.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from sqlalchemy.engine import make_url

from services.core.config import Settings
from services.core.net import Network, parse_networks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
RESOLVE_TIMEOUT_SECONDS = 5.0


class TargetRefused(httpcore.ConnectError):
    """The target is not allowed by the policy; ``reason`` is a short, stable classification."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"webhook target refused: {reason}")
        self.reason = reason


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """Any IPv4 address ``ip`` wraps (mapped, 6to4, NAT64), then the address itself."""
    found: list[IPAddress] = []
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in (ip.ipv4_mapped, ip.sixtofour):
            if inner is not None:
                found.append(inner)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [*found, ip]


def _category(ip: IPAddress) -> str | None:
    """Why an address is denied by default, or None for a globally routable unicast address."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link_local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not_global", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class EgressPolicy:
    allowed: tuple[Network, ...]
    allow_loopback: bool
    require_https: bool
    database_host: str | None
    database_port: int | None

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        try:
            url = make_url(settings.db.resolved_url())
            host, port = url.host, url.port or 5432
        except Exception:  # no database configured: nothing to single out
            host, port = None, None
        return cls(
            allowed=parse_networks(settings.webhooks.allowed_networks),
            allow_loopback=settings.webhooks.allow_loopback and settings.demo,
            require_https=not settings.demo,
            database_host=host,
            database_port=port,
        )

    def refusal(self, ip: IPAddress, port: int, database: Iterable[IPAddress] = ()) -> str | None:
        """Why a connection to ``ip``:``port`` is refused, or None."""
        addresses = _embedded(ip)
        for candidate in addresses:
            if candidate in database and (port == self.database_port or not candidate.is_loopback):
                return "database"
        for candidate in addresses:
            if any(candidate in network for network in self.allowed):
                continue
            category = _category(candidate)
            if category == "loopback" and self.allow_loopback:
                continue
            if category is not None:
                return category
        return None

    def scheme_refusal(self, scheme: str) -> str | None:
        if scheme == "https" or (scheme == "http" and not self.require_https):
            return None
        return "insecure_scheme"

    async def _database_addresses(self) -> set[IPAddress]:
        if not self.database_host:
            return set()
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                return set(await _resolve(self.database_host, self.database_port or 5432))
        except (OSError, TimeoutError):
            return set()

    async def checked_addresses(self, host: str, port: int) -> list[IPAddress]:
        """Resolve ``host`` and return its addresses if every one is allowed; else ``TargetRefused``."""
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                addresses = await _resolve(host, port)
        except (OSError, TimeoutError) as exc:
            raise TargetRefused("dns_error") from exc
        if not addresses:
            raise TargetRefused("dns_error")
        database = await self._database_addresses()
        for ip in addresses:
            reason = self.refusal(ip, port, database)
            if reason is not None:
                raise TargetRefused(reason)
        return addresses

    async def check_url(self, url: str) -> None:
        """The whole check for a URL (scheme, then every address of its host); ``TargetRefused`` if not allowed."""
        parsed = httpx.URL(url)
        reason = self.scheme_refusal(parsed.scheme)
        if reason is not None:
            raise TargetRefused(reason)
        await self.checked_addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


async def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    unique: dict[str, IPAddress] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        unique.setdefault(address, ipaddress.ip_address(address))
    return list(unique.values())


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows, pinned after the check."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.policy.checked_addresses(host, port)
        failure: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("unix_socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over ``GuardedBackend``, refusing a scheme the policy does not allow."""

    def __init__(self, policy: EgressPolicy, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        self.policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reason = self.policy.scheme_refusal(request.url.scheme)
        if reason is not None:
            raise httpx.ConnectError(f"webhook target refused: {reason}", request=request) from TargetRefused(reason)
        return await super().handle_async_request(request)


def guarded_client(
    settings: Settings, *, timeout: float, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """An HTTP client for targets chosen by users (webhook subscribers): the policy above, on every connection."""
    return httpx.AsyncClient(
        transport=GuardedTransport(EgressPolicy.from_settings(settings), ssl_context=ssl_context),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
    )


def classify(exc: BaseException) -> str:
    """A short classification of a failed send, for the delivery log: never the target's own words."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TargetRefused):
            return f"refused: {seen.reason}"
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "protocol_error"
    if isinstance(exc, httpx.HTTPError):
        return "transport_error"
    return "error"
