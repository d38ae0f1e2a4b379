"""Each HTTP request is a SERVER span in the caller's trace, named by its route; the response names the
span in `traceparent`; responses are counted by route template and status, failures included."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from runtime.http_telemetry import RequestTelemetry

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def app_with(exporter: InMemorySpanExporter) -> FastAPI:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.post("/v1/items/{item_id}", status_code=202)
    async def take(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @app.get("/v1/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(RequestTelemetry, service="unit-http", tracer=provider.get_tracer("t"))
    return app


def count(route: str, status: str) -> float:
    return REGISTRY.get_sample_value("gridline_http_responses_total",
                                     {"service": "unit-http", "method": "POST" if "items" in route else "GET",
                                      "route": route, "status": status}) or 0.0


async def test_a_request_is_a_server_span_in_the_callers_trace_named_by_its_route() -> None:
    exporter = InMemorySpanExporter()
    transport = httpx.ASGITransport(app=app_with(exporter))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        resp = await client.post("/v1/items/7", headers={"traceparent": CALLER})
    assert resp.status_code == 202
    [span] = exporter.get_finished_spans()
    assert (span.name, span.kind) == ("POST /v1/items/{item_id}", trace.SpanKind.SERVER)
    assert format(span.context.trace_id, "032x") == CALLER.split("-")[1]
    assert span.parent is not None and format(span.parent.span_id, "016x") == CALLER.split("-")[2]
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 202
    assert resp.headers["traceparent"].split("-")[1:3] == [CALLER.split("-")[1], format(span.context.span_id, "016x")]


async def test_responses_are_counted_by_route_and_status_failures_included() -> None:
    exporter = InMemorySpanExporter()
    before = {k: count(*k) for k in (("/v1/items/{item_id}", "202"), ("/v1/items/{item_id}", "422"),
                                     ("/v1/broken", "500"))}
    transport = httpx.ASGITransport(app=app_with(exporter), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/v1/items/1")).status_code == 202
        assert (await client.post("/v1/items/not-a-number")).status_code == 422
        assert (await client.get("/v1/broken")).status_code == 500
    assert {k: count(*k) - v for k, v in before.items()} == {k: 1.0 for k in before}
    failed = [s for s in exporter.get_finished_spans() if s.name == "GET /v1/broken"]
    assert failed and failed[0].status.status_code == trace.StatusCode.ERROR


async def test_probes_are_counted_but_not_traced() -> None:
    exporter = InMemorySpanExporter()
    transport = httpx.ASGITransport(app=app_with(exporter))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        resp = await client.get("/healthz")
    assert resp.status_code == 200 and "traceparent" not in resp.headers
    assert exporter.get_finished_spans() == ()
    assert count("/healthz", "200") >= 1
