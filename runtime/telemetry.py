"""OpenTelemetry set-up and W3C trace-context propagation through Kafka headers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

_configured = False


def configure_tracing(service: str, console: bool = False) -> None:
    """Install a tracer provider once per process. Exporters are opt-in: `OTEL_CONSOLE=1` prints spans,
    `OTEL_EXPORTER_OTLP_ENDPOINT` sends them to a collector over OTLP/HTTP."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"gridline-{service}"}))
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        # a collector (Jaeger, Tempo, the OpenTelemetry Collector) — configured by the standard OTEL_* vars
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


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


class TracingMiddleware:
    """ASGI: one SERVER span per request, continuing the caller's `traceparent` when it sends one;
    the response carries `traceparent` so callers can find their request in the traces."""

    def __init__(self, app: Any, service: str) -> None:
        self.app = app
        self.tracer = trace.get_tracer(f"gridline.{service}.http")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k.decode().lower(), v) for k, v in scope.get("headers", [])]
        parent = extract_context(headers)
        name = f"{scope['method']} {scope.get('route').path if scope.get('route') else scope['path']}"
        with self.tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.SERVER) as span:
            outgoing = inject_headers()

            async def send_with_trace(message: Any) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], *((k.encode(), v) for k, v in outgoing)]
                await send(message)

            await self.app(scope, receive, send_with_trace)
