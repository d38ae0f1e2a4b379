"""Traces leave the process: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are sent over OTLP/HTTP; and the
W3C trace context survives a trip through Kafka headers."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from runtime.telemetry import extract_context, inject_headers, links

SCRIPT = """
from opentelemetry import trace
from runtime.telemetry import configure_tracing
configure_tracing("intake")
with trace.get_tracer("t").start_as_current_span("POST /v1/hotline/tickets"):
    pass
trace.get_tracer_provider().force_flush()
"""


def test_spans_are_exported_to_an_otlp_collector() -> None:
    received: list[tuple[str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}", "PATH": "/usr/bin:/bin"}
        subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True, timeout=60)
    finally:
        server.shutdown()
    assert [path for path, _ in received] == ["/v1/traces"]
    body = received[0][1]
    assert b"gridline-intake" in body and b"POST /v1/hotline/tickets" in body


def test_trace_context_survives_kafka_headers() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("produce") as span:
        headers = inject_headers()
    assert dict(headers)["traceparent"].decode().split("-")[1] == format(span.get_span_context().trace_id, "032x")
    ctx = extract_context(headers)
    assert trace.get_current_span(ctx).get_span_context().trace_id == span.get_span_context().trace_id


def test_links_point_at_the_traces_of_many_events() -> None:
    tracer = TracerProvider().get_tracer("test")
    parents = []
    for name in ("case A", "case B"):
        with tracer.start_as_current_span(name):
            parents.append(dict(inject_headers())["traceparent"].decode())
    found = links([*parents, None, "not a traceparent"])
    assert [format(link.context.trace_id, "032x") for link in found] == [p.split("-")[1] for p in parents]
