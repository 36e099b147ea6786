"""The client's real address: ``X-Forwarded-For`` is believed only from a configured trusted proxy.

uvicorn runs with ``--no-proxy-headers`` so ``request.client`` is the TCP peer. When that peer is
one of ``MOTCUA_TRUSTED_PROXIES`` (nginx, the gateway), the header is read from the right, skipping
further trusted proxies: the first untrusted address is the client. A client that is not a trusted
proxy cannot choose its address by sending the header, and the gateway and nginx overwrite (never
append to) what the client sent, so neither can a client behind them.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; an empty spec trusts nobody."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


@lru_cache(maxsize=256)
def is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` is in one of ``networks`` (cached: the peers are the few proxies in front)."""
    ip = _ip(address) if address else None
    return ip is not None and any(ip in network for network in networks)


def resolve_client(peer: str | None, forwarded_for: str | None, networks: tuple[Network, ...]) -> str | None:
    """The client's address from the TCP peer and the ``X-Forwarded-For`` header it sent."""
    if not forwarded_for or not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return peer  # a malformed hop: do not guess, count the proxy itself
        if not any(ip in network for network in networks):
            return str(ip)
    return str(_ip(hops[0])) if hops else peer


def client_address(request: Request) -> str | None:
    """The real client of ``request`` under the app's ``trusted_proxies`` setting."""
    peer = request.client.host if request.client else None
    networks = parse_networks(request.app.state.settings.edge.trusted_proxies)
    return resolve_client(peer, request.headers.get("x-forwarded-for"), networks)
