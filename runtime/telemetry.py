"""OpenTelemetry set-up from the maintained instrumentation packages, and W3C trace context through
Kafka headers and the outbox.

- HTTP: runtime/http_telemetry.py (one SERVER span per request, continuing the caller's `traceparent`;
  the response carries `traceparent` so callers can find their request).
- PostgreSQL: opentelemetry-instrumentation-asyncpg (a span per query).
- Kafka: opentelemetry-instrumentation-aiokafka (a PRODUCER span per send, injecting its context into
  the record; a receive span per consumed record). The consumer loop adds the processing span.
- Outbox records keep the context they were written in; the relay sends each one inside it, so a trace
  runs from intake's request through router, sla and scoring.

Configured by the standard variables: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_EXPORTER_OTLP_ENDPOINT / _TRACES_ENDPOINT (OTLP/HTTP), OTEL_TRACES_SAMPLER(_ARG), and
OTEL_SDK_DISABLED; `OTEL_CONSOLE=1` prints spans."""

from __future__ import annotations

import os
from collections.abc import Sequence

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

from runtime.tracer_provider import ExportAwareTracerProvider

_configured = False


def configure_tracing(service: str, console: bool = False) -> None:
    """Install a tracer provider and the asyncpg and aiokafka instrumentation once per process.
    Exporters are opt-in: `OTEL_CONSOLE=1` prints spans, `OTEL_EXPORTER_OTLP_ENDPOINT` sends them to a
    collector over OTLP/HTTP. Without one, spans carry their context and nothing else
    (runtime/tracer_provider.py) until a span processor is added."""
    global _configured
    if _configured:
        return
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": f"gridline-{service}"}
    provider = ExportAwareTracerProvider(resource=Resource.create(named))  # no span objects until exported
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        # a collector (Jaeger, Tempo, the OpenTelemetry Collector) — configured by the standard OTEL_* vars
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    AIOKafkaInstrumentor().instrument(tracer_provider=provider)
    _configured = True


def under(headers: Sequence[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], context.Context]:
    """A stored record's headers without its trace headers, and the context they describe: sent inside
    that context, the instrumented producer injects its own span's context (a child of the stored one)."""
    kept = [(k, v) for k, v in headers if k not in ("traceparent", "tracestate")]
    if len(kept) == len(headers) or not AIOKafkaInstrumentor().is_instrumented_by_opentelemetry:
        return list(headers), context.get_current()
    return kept, extract_context(headers)


def links(traceparents: Sequence[str | None]) -> list[trace.Link]:
    """Span links to the traces of many events (one score card fed by many cases)."""
    found = []
    for traceparent in traceparents:
        span = trace.get_current_span(context_from_traceparent(traceparent))
        if span.get_span_context().is_valid:
            found.append(trace.Link(span.get_span_context()))
    return found


def inject_headers() -> list[tuple[str, bytes]]:
    """The current context as Kafka headers (`traceparent`, `tracestate`)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(k, v.encode()) for k, v in carrier.items()]


def extract_context(headers: Sequence[tuple[str, bytes]]) -> context.Context:
    carrier = {k: v.decode(errors="replace") for k, v in headers if k in ("traceparent", "tracestate")}
    return propagate.extract(carrier)


def context_from_traceparent(traceparent: str | None, tracestate: str | None = None) -> context.Context:
    carrier = {"traceparent": traceparent} if traceparent else {}
    if tracestate:
        carrier["tracestate"] = tracestate
    return propagate.extract(carrier)
