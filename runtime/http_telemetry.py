"""Every HTTP request's telemetry in one raw ASGI middleware: a SERVER span continuing the caller's W3C
`traceparent` (the response names the span in its own `traceparent`), and the request's count and
latency in `gridline_http_responses_total` / `gridline_http_seconds` by route template and status.

It replaces three layers — opentelemetry-instrumentation-fastapi's generic ASGI middleware, a
middleware adding `traceparent` to responses and one for metrics — that together took about a fifth of
intake's CPU per small request (py-spy, docs/benchmarks.md): the generic instrumentor matches the route
once more to name the span before the app runs, collects a dozen attributes and wraps `receive`/`send`;
here the span is started directly, named from the route the app matched, and the metrics' label
children are looked up once per (method, route, status) and kept."""

from __future__ import annotations

import time

from fastapi.telemetry import TelemetryConfig
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.metrics import HTTP_RESPONSES, HTTP_SECONDS

# FastAPI's own telemetry (on by itself once a tracer provider is installed) would add a second SERVER
# span, its own metrics and log records to every request: the apps are built with it off.
NATIVE_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: no span
UNCOUNTED = frozenset({"/metrics"})
_TRACE_HEADERS = {b"traceparent": "traceparent", b"tracestate": "tracestate"}


class RequestTelemetry:
    """ASGI: span, `traceparent` on the response, and metrics for each HTTP request."""

    def __init__(self, app: ASGIApp, service: str, tracer: trace.Tracer | None = None) -> None:
        self.app = app
        self.service = service
        self.tracer = tracer or trace.get_tracer("gridline.http")
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        started, status = time.perf_counter(), 500
        span = None if path in UNTRACED else self._start(scope)
        token = context.attach(trace.set_span_in_context(span)) if span is not None else None

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if span is not None:
                    carrier: dict[str, str] = {}
                    propagate.inject(carrier)
                    message["headers"] = [*message.get("headers", []),
                                          *((k.encode(), v.encode()) for k, v in carrier.items())]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        except BaseException as exc:
            if span is not None:
                span.record_exception(exc)
            raise
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            if span is not None and token is not None:
                self._finish(span, scope["method"], route, status)
                context.detach(token)
            if path not in UNCOUNTED:
                responses, seconds = self._metrics(scope["method"], route, status)
                responses.inc()
                seconds.observe(time.perf_counter() - started)

    def _start(self, scope: Scope) -> trace.Span:
        carrier = {_TRACE_HEADERS[k]: v.decode("latin-1") for k, v in scope["headers"] if k in _TRACE_HEADERS}
        parent = propagate.extract(carrier) if carrier else None
        return self.tracer.start_span(f"{scope['method']} {scope['path']}", context=parent, kind=SpanKind.SERVER,
                                      attributes={"http.request.method": scope["method"], "url.path": scope["path"]})

    @staticmethod
    def _finish(span: trace.Span, method: str, route: str, status: int) -> None:
        if route != "unmatched":
            span.update_name(f"{method} {route}")  # the template, not the path: spans group by route
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def _metrics(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        key = (method, route, status)
        found = self._children.get(key)
        if found is None:
            found = (HTTP_RESPONSES.labels(self.service, method, route, str(status)),
                     HTTP_SECONDS.labels(self.service, method, route))
            self._children[key] = found
        return found
