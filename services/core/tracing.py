"""OpenTelemetry traces across the three services and their workers, off unless ``MOTCUA_OTLP_ENDPOINT`` is set.

One citizen's submission is one trace, from the POST to the email:

    intake  POST /api/v1/dossiers            (server span; the event's row stores its traceparent)
    intake-worker  relay dossier.submitted   (producer span, child of the stored context; its own
                                              traceparent goes with the event in the envelope)
    notify  handle dossier.submitted         (consumer span; the notification rows store its traceparent)
    notify-worker  send email                (client span, child of the stored context)

Decisions:

- **The context travels with the rows**, not only in HTTP headers: ``outbox_event.trace_context`` and
  ``notification.trace_context`` hold a W3C ``traceparent`` (migration "observability"), so a relay or a
  sender that runs minutes later, in another process, continues the same trace. The envelope carries it
  per event (``EventEnvelope.traceparent``): a batch holds events of different traces.
- **Off is a no-op**: with the setting unset no SDK is loaded, ``enabled()`` is a module flag, the
  middleware and the relay skip every call, and the columns stay NULL.
- **Our spans, not FastAPI's or an instrumentation package's**: FastAPI's native spans record the query
  string (``?secret=``, ``?phone=``) and validation failures with their input. Ours carry the route
  template, the method, the status, the event type, the channel — never a path, a body, an address or a
  dossier code. That is four span kinds in ~100 lines; no instrumentation package paid for itself.
- **Export**: the SDK's batch processor to OTLP/HTTP (protobuf) at ``<endpoint>/v1/traces``, every second;
  a collector that is down costs dropped spans, never a request (the export runs in the SDK's thread).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

_tracer: Tracer | None = None
_provider: Any = None


def configure(service: str, endpoint: str | None) -> None:
    """Start exporting this process's spans to ``endpoint`` (an OTLP/HTTP collector); nothing when unset."""
    global _tracer, _provider
    if not endpoint or _tracer is not None:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.namespace": "motcua"}))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=5)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    _provider = provider
    _tracer = provider.get_tracer("motcua")


def shutdown() -> None:
    """Send what is buffered and stop (at the end of a process)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer, _provider = None, None


def enabled() -> bool:
    return _tracer is not None


def _context(traceparent: str | None) -> Any:
    if traceparent is None or not TRACEPARENT.match(traceparent):
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


def traceparent_of(span: Span | None) -> str | None:
    """The W3C ``traceparent`` of ``span`` (None when there is none or it is not recording)."""
    if span is None:
        return None
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def current() -> str | None:
    """The current span's ``traceparent``, to store with a row; None when tracing is off."""
    if _tracer is None:
        return None
    return traceparent_of(trace.get_current_span())


def start(name: str, *, parent: str | None, kind: SpanKind, attributes: dict[str, Any] | None = None) -> Span | None:
    """A span, not made current, child of ``parent`` (a stored traceparent; None: a new trace); None when off.
    The caller ends it."""
    if _tracer is None:
        return None
    return _tracer.start_span(name, context=_context(parent), kind=kind, attributes=attributes)


@contextlib.contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, Any] | None = None,
) -> Iterator[Span | None]:
    """A span made current for the block: a child of ``parent`` when given, else of the current span."""
    if _tracer is None:
        yield None
        return
    context = _context(parent) if parent is not None else None
    with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes) as current_span:
        yield current_span
