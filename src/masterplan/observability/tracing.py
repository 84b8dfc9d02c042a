"""OpenTelemetry spans, exported over OTLP/HTTP when MASTERPLAN_OTLP_ENDPOINT is set (`masterplan[otel]`).

Spans use our own trace_id (the one stored on plans, generations, rows and events), so every process
that works on a plan adds its spans to one trace. Without an endpoint nothing is imported or recorded.
"""

from __future__ import annotations

import atexit
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from masterplan.config import Settings

log = structlog.get_logger(__name__)

_tracer: Any = None
_provider: Any = None


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL: a collector's base address gets /v1/traces."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def configure_tracing(settings: Settings, *, role: str) -> bool:
    """Export spans when an endpoint is configured; False when tracing stays off."""
    global _tracer, _provider
    if not settings.otlp_endpoint or _tracer is not None:
        return _tracer is not None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("tracing_unavailable", hint="pip install 'masterplan[otel]' to export spans")
        return False
    resource = Resource.create(
        {
            "service.name": "masterplan",
            "service.instance.id": f"{role}-{os.getpid()}",
            "masterplan.role": role,
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint)), schedule_delay_millis=500
        )
    )
    _provider, _tracer = provider, provider.get_tracer("masterplan")
    atexit.register(shutdown_tracing)
    log.info("tracing_enabled", endpoint=traces_url(settings.otlp_endpoint), role=role)
    return True


def shutdown_tracing() -> None:
    """Flush and stop the exporter (spans still buffered are sent)."""
    global _tracer, _provider
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


def tracing_enabled() -> bool:
    return _tracer is not None


@contextmanager
def span(name: str, trace_id: str, **attributes: Any) -> Iterator[None]:
    """A span in our trace `trace_id` (32 hex digits), nested under the current span of that trace."""
    if _tracer is None or len(trace_id) != 32:
        yield
        return
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    wanted = int(trace_id, 16)
    context = None
    if trace.get_current_span().get_span_context().trace_id != wanted:
        remote = SpanContext(wanted, random.getrandbits(64) or 1, is_remote=True, trace_flags=TraceFlags(1))
        context = trace.set_span_in_context(NonRecordingSpan(remote))
    clean = {k: str(v) for k, v in attributes.items() if v is not None}
    with _tracer.start_as_current_span(name, context=context, attributes=clean):
        yield
