"""Prometheus metrics of every process: requests, pools, the work the workers do, and the database gauges.

Decisions (docs/operations/observability.md has the list an operator reads):

- **One registry per process** (prometheus_client's default, which also carries ``process_*`` and
  ``python_gc_*``). Each process exposes only its own figures; Prometheus scrapes every process (one
  target per API pod and per worker pod) and sums. uvicorn's ``--workers N`` on one port is not the way to
  scale: a scrape would reach one of the N at random.
- **Routes by template, never the raw path** (``/api/v1/dossiers/{code}``: a path carries dossier codes):
  the label is the route the router matched; a path that matched none is ``unmatched``, so a scanner's
  random paths add one series, not one each. No label carries personal data; ``service`` is the process.
- **Pools at scrape time**: the SQLAlchemy pool's connections in use and requests waiting for one, and the
  same for the counters' asyncpg pool (services.core.counters counts its own). Waiting on the SQLAlchemy pool
  is read from the queue its waiters sleep on (SQLAlchemy publishes no count; pinned, and tested).
- **Database gauges** (outbox backlog, parked events, notifications, overdue dossiers): read by each API
  at scrape time, one statement, at most every ``MOTCUA_METRICS_CACHE_SECONDS`` (10 s) per process, under a
  2 s statement timeout — in the APIs rather than the workers, so that the backlog is still reported (and
  alerted on) when every worker is down. Every API reports the same figures: the rules take ``max``.
- **Access**: ``/metrics`` goes through the one access rule (``MetricsReader``, services.core.deps): the bearer
  token ``MOTCUA_METRICS_TOKEN``, compared in constant time; without the setting nobody may read. nginx and
  the gateway do not forward it (404), like ``/internal/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, params
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import Scope

from services.core.config import Settings

logger = logging.getLogger("motcua.metrics")

REQUEST_SECONDS = Histogram(
    "motcua_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_DELIVERIES = Counter(
    "motcua_outbox_deliveries",
    "Outbox events a relay settled, by source, destination and outcome (delivered, retry, parked).",
    ["source", "destination", "outcome"],
)
NOTIFICATION_SENDS = Counter(
    "motcua_notification_sends",
    "Notifications a sender settled, by channel and outcome (sent, retry, failed).",
    ["channel", "outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "motcua_webhook_deliveries",
    "Outbound webhook attempts, by outcome (delivered, retry, failed).",
    ["outcome"],
)

UNMATCHED = "unmatched"


def route_of(scope: Scope) -> str:
    """The template of the route that answered (never the path itself), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


_REQUEST_CHILDREN: dict[tuple[str, str, str, int], Any] = {}
# a client may send any method: the others are one series, like the unmatched paths
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(service: str, scope: Scope, status: int, seconds: float) -> None:
    """Count a request; each label set's child is looked up once (``labels()`` validates and locks: 3 µs a
    request here, against 1 µs for the child's own ``observe``)."""
    method = scope.get("method", "")
    key = (service, method if method in _METHODS else "other", route_of(scope), status)
    child = _REQUEST_CHILDREN.get(key)
    if child is None:
        child = _REQUEST_CHILDREN[key] = REQUEST_SECONDS.labels(key[0], key[1], key[2], str(status))
    child.observe(seconds)


# --- pools --------------------------------------------------------------------------------------


def _sqlalchemy_waiting(engine: AsyncEngine) -> int:
    """Tasks waiting for one of the pool's connections: the getters of the asyncio queue of
    ``AsyncAdaptedQueuePool`` (SQLAlchemy 2.1; 0 when its shape differs)."""
    try:
        queue = engine.pool._pool._queue  # type: ignore[attr-defined]
        return sum(1 for waiter in queue._getters if not waiter.done())
    except AttributeError:
        return 0


def _sqlalchemy_in_use(engine: AsyncEngine) -> int:
    checkedout = getattr(engine.pool, "checkedout", None)
    return int(checkedout()) if callable(checkedout) else 0


@dataclass
class PoolUse:
    """What a pool reports at a scrape (services.core.counters keeps its own)."""

    in_use: int = 0
    waiting: int = 0
    size: int = 0


class _Pools(Collector):
    """The pools of this process, read at each scrape."""

    def __init__(self) -> None:
        self.readers: dict[tuple[str, str], Callable[[], PoolUse]] = {}

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "motcua_db_pool_in_use", "Connections of the pool handed out now.", labels=["service", "pool"]
        )
        waiting = GaugeMetricFamily(
            "motcua_db_pool_waiting",
            "Requests or tasks waiting for a connection of the pool.",
            labels=["service", "pool"],
        )
        size = GaugeMetricFamily("motcua_db_pool_size", "Connections the pool may hold.", labels=["service", "pool"])
        for (service, pool), read in list(self.readers.items()):
            use = read()
            in_use.add_metric([service, pool], use.in_use)
            waiting.add_metric([service, pool], use.waiting)
            size.add_metric([service, pool], use.size)
        yield from (in_use, waiting, size)


POOLS = _Pools()
REGISTRY.register(POOLS)


def watch_engine(service: str, engine: AsyncEngine, *, size: int) -> Callable[[], PoolUse]:
    """Report ``engine``'s pool as ``service``'s main pool; the reader is what ``unwatch`` takes back."""
    return watch_pool(service, "main", lambda: PoolUse(_sqlalchemy_in_use(engine), _sqlalchemy_waiting(engine), size))


def watch_pool(service: str, pool: str, read: Callable[[], PoolUse]) -> Callable[[], PoolUse]:
    POOLS.readers[(service, pool)] = read
    return read


def unwatch(*readers: Callable[[], PoolUse]) -> None:
    """Stop reporting these pools (a closed app's; another app of the same name in the process keeps its own)."""
    for key, read in list(POOLS.readers.items()):
        if any(read is reader for reader in readers):
            POOLS.readers.pop(key, None)


# --- database gauges ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GaugeSample:
    """One value of a database gauge: its family, its labels (never personal data), its value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


GaugeReader = Callable[[AsyncSession, datetime], Awaitable[list[GaugeSample]]]


@dataclass(frozen=True)
class GaugeFamily:
    name: str
    help: str
    labels: tuple[str, ...]


@dataclass
class DatabaseGauges:
    """The database gauges of one API process: read at a scrape when older than ``max_age`` seconds."""

    families: tuple[GaugeFamily, ...]
    read: GaugeReader
    max_age: float
    samples: list[GaugeSample] = field(default_factory=list)
    read_at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
        async with self._lock:  # scrapes at once read once
            if time.monotonic() - self.read_at < self.max_age:
                return
            try:
                async with sessionmaker() as session, session.begin():
                    self.samples = await self.read(session, now)
                self.read_at = time.monotonic()
            except Exception:
                # stale figures would mislead: the families go out empty until the database answers again
                logger.warning("database gauges not read", exc_info=True)
                self.samples = []
                self.read_at = float("-inf")

    def metrics(self) -> Iterable[Metric]:
        by_name = {family.name: GaugeMetricFamily(family.name, family.help, labels=list(family.labels))
                   for family in self.families}  # fmt: skip
        for sample in self.samples:
            family = by_name.get(sample.name)
            if family is not None:
                family.add_metric([value for _, value in sample.labels], sample.value)
        return by_name.values()


class _Extra(Collector):
    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = list(metrics)

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


def exposition(gauges: DatabaseGauges | None = None) -> bytes:
    """The process's metrics in Prometheus' text format, with the database gauges if this process has them."""
    text = generate_latest(REGISTRY)
    if gauges is not None:
        extra = CollectorRegistry(auto_describe=False)
        extra.register(_Extra(gauges.metrics()))
        text += generate_latest(extra)
    return text


def metrics_router(reader: params.Depends) -> APIRouter:
    """``GET /metrics`` behind ``reader`` (the access rule's dependency, passed in by the caller)."""
    router = APIRouter(tags=["operations"])

    @router.get(
        "/metrics",
        response_class=Response,
        dependencies=[reader],
        include_in_schema=False,  # Prometheus', not the SPA's: out of the OpenAPI documents and the generated client
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this process (bearer ``MOTCUA_METRICS_TOKEN``)."""
        gauges: DatabaseGauges | None = getattr(request.app.state, "database_gauges", None)
        if gauges is not None:
            await gauges.refresh(request.app.state.sessionmaker, request.app.state.clock.now())
        return Response(exposition(gauges), media_type=CONTENT_TYPE_LATEST)

    return router


# --- the workers' listener ----------------------------------------------------------------------


class Listener:
    """uvicorn serving the metrics app inside the worker's own event loop; the worker owns the signals."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        import uvicorn

        class QuietServer(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:  # the worker's loop handles SIGTERM and stops us
                yield

        # log_config None: the worker's own JSON logging (services.core.logging) stays, uvicorn's is not installed
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
        self.server = QuietServer(config)

    async def run(self, stop: asyncio.Event) -> None:
        serving = asyncio.create_task(self.server.serve())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        self.server.should_exit = True
        await serving
        stopped.cancel()


def metrics_app(
    settings: Settings, service: str, reader: params.Depends, sessionmaker: async_sessionmaker[AsyncSession]
) -> FastAPI:
    """The workers' small app: ``/metrics`` only, under the same access rule as the APIs'."""
    from services.core.errors import install_error_handlers

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.service_name = service
    app.state.sessionmaker = sessionmaker  # a refused scrape is audited, like any denial
    install_error_handlers(app)
    app.include_router(metrics_router(reader))
    return app
