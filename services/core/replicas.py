"""Several replicas of a service behind one name: round robin, and a replica that refuses is skipped.

Where each caller balances (docs/operations/replicas.md):

- **Browsers** reach the APIs through the gateway (services/dev/gateway.py) in development and tests,
  nginx or the Ingress in production: the edge balances.
- **Service to service** (the outbox relays POSTing events to ``/internal/v1/events``): the caller
  balances. ``MOTCUA_<SERVICE>_URL`` is one URL — in Kubernetes the Service's, which balances for us —
  or several, comma-separated, one per replica (``make run REPLICAS=2`` sets
  ``http://127.0.0.1:8001,http://127.0.0.1:8101``); :class:`ReplicaTransport` sends each request to
  the next replica in turn. Not through the gateway: it refuses ``/internal/…`` by design (the edge
  never forwards service routes), it is a development tool that production does not have, and one
  more hop would put it on the relay's path too.

What is retried on the next replica: only a **refused connection** (or a connect timeout): nothing was
sent, so any request, a POST included, may go elsewhere. Anything later (a reset mid-request, a
timeout while waiting for the answer) is the caller's to judge; the relay retries such an event
after its backoff and the receiver deduplicates by event id. A replica that refused is tried last
for :data:`COOLDOWN_SECONDS` (as nginx's ``max_fails=1 fail_timeout``): a stopped replica costs one
refused connect per cooldown, not one per request; when every replica refused, each is still tried
in turn, so a restarted one is found again at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import httpx

COOLDOWN_SECONDS = 2.0
# a connection that was never made: the request was not sent, whatever its method
NOTHING_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)


def replica_urls(value: str) -> tuple[str, ...]:
    """``"http://a:1, http://b:2/"`` → ``("http://a:1", "http://b:2")``: the replicas of one service."""
    urls = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
    if not urls:
        raise ValueError("no URL given")
    return urls


class Rotation:
    """Round robin over one service's replicas; those that refused lately go to the end of the order."""

    def __init__(self, urls: Sequence[str], *, cooldown: float = COOLDOWN_SECONDS) -> None:
        if not urls:
            raise ValueError("a rotation needs at least one replica")
        self.urls = tuple(urls)
        self.cooldown = cooldown
        self._next = 0
        self._down_until: dict[str, float] = {}

    def order(self) -> list[str]:
        """Every replica once, starting with the next in turn; the ones that refused lately last."""
        start = self._next
        self._next = (start + 1) % len(self.urls)
        turn = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        up = [url for url in turn if self._down_until.get(url, 0.0) <= now]
        return up + [url for url in turn if url not in up]

    def refused(self, url: str) -> None:
        self._down_until[url] = time.monotonic() + self.cooldown

    def answered(self, url: str) -> None:
        self._down_until.pop(url, None)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class ReplicaTransport(httpx.AsyncBaseTransport):
    """An httpx transport that spreads requests for a service's first URL over all its replicas.

    ``services`` maps a service to its replicas' base URLs; a request whose origin is one of a
    service's URLs goes to the next replica in turn (path and query kept), one that refuses to the one
    after. Any other origin passes through unchanged."""

    def __init__(self, services: Mapping[str, Sequence[str]], inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self._rotations: dict[tuple[str, str, int | None], Rotation] = {}
        for urls in services.values():
            if len(urls) < 2:
                continue  # one URL: nothing to balance (a Kubernetes Service balances for us)
            rotation = Rotation(urls)
            for url in urls:
                self._rotations[_origin(httpx.URL(url))] = rotation

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rotation = self._rotations.get(_origin(request.url))
        if rotation is None:
            return await self.inner.handle_async_request(request)
        failure: Exception | None = None
        for replica in rotation.order():
            target = httpx.URL(replica)
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["Host"] = target.netloc.decode("ascii")
            try:
                response = await self.inner.handle_async_request(request)
            except NOTHING_SENT as exc:
                rotation.refused(replica)
                failure = exc
                continue
            rotation.answered(replica)
            return response
        assert failure is not None
        raise failure

    async def aclose(self) -> None:
        await self.inner.aclose()


def balanced_client(services: Mapping[str, Iterable[str]], *, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """An httpx client whose requests to any replica's URL are spread over all the service's replicas."""
    return httpx.AsyncClient(
        timeout=timeout, transport=ReplicaTransport({name: tuple(urls) for name, urls in services.items()})
    )
