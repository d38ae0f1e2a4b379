"""The PRODUCER span of a published group (runtime/produce.py `_traced`): one per trace among the records,
its context on every record of that trace. Under the services' provider with no span processor (how they
run by default: runtime/tracer_provider.py) no span object is built, and the records still carry the trace
context the SDK would have given them, so the next service continues the same trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime import produce
from runtime.tracer_provider import ExportAwareTracerProvider
from schemas.cloudevents import Outgoing, encode_value

SAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UNSAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def record(n: int, traceparent: str | None = None, tracestate: str | None = None) -> Outgoing:
    trace_headers = [("traceparent", traceparent.encode())] if traceparent else []
    if tracestate:
        trace_headers.append(("tracestate", tracestate.encode()))
    return encode_value("intake.hotline.v1", f"K-{n}", b"{}", type="t", source="/s", event_id=f"E-{n}",
                        trace_headers=trace_headers)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExportAwareTracerProvider]:
    provider = ExportAwareTracerProvider()
    monkeypatch.setattr(produce, "_tracer", provider.get_tracer("gridline.produce"))
    yield provider


def group() -> list[Outgoing]:
    return [record(0, SAMPLED, "vendor=a1"), record(1, UNSAMPLED), record(2, SAMPLED, "vendor=a1"), record(3)]


def wire(records: list[Outgoing]) -> list[dict[str, str]]:
    sent = produce._traced(records)
    assert [r for r, _ in sent] == records
    for original, (_, headers) in zip(records, sent, strict=True):
        names = [k for k, _ in headers]
        assert names.count("traceparent") == 1 and names.count("tracestate") <= 1
        assert [h for h in headers if h[0] not in ("traceparent", "tracestate")] == [
            h for h in original.headers if h[0] not in ("traceparent", "tracestate")]
    return [{k: v.decode() for k, v in headers} for _, headers in sent]


def test_without_a_span_processor_each_record_carries_its_traces_context_and_no_span_is_built(
    provider: ExportAwareTracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    def built(*_: object, **__: object) -> trace.Span:
        raise AssertionError("a span object was built with nobody to receive it")

    monkeypatch.setattr(SdkTracer, "start_span", built)
    assert not provider.exporting
    sent = wire(group())
    parents = [SAMPLED, UNSAMPLED, SAMPLED]
    for headers, parent in zip(sent, parents, strict=False):
        version, trace_id, span_id, flags = headers["traceparent"].split("-")
        assert (version, trace_id, flags) == tuple(parent.split("-")[i] for i in (0, 1, 3))  # the same trace
        assert span_id != parent.split("-")[2]  # the PRODUCER span's own context: a child of the caller
    assert sent[0]["traceparent"] == sent[2]["traceparent"]  # one span for the records of one trace
    assert sent[0]["tracestate"] == sent[2]["tracestate"] == "vendor=a1" and "tracestate" not in sent[1]
    root = sent[3]["traceparent"].split("-")
    assert root[1] not in (SAMPLED.split("-")[1], UNSAMPLED.split("-")[1]) and int(root[3], 16) & 1  # new, sampled


def test_with_a_span_processor_the_records_carry_the_exported_producer_spans(
    provider: ExportAwareTracerProvider,
) -> None:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sent = wire(group())
    spans = {f"{s.context.span_id:016x}": s for s in exporter.get_finished_spans()}
    assert len(spans) == 2  # the caller's sampled trace and the new one; the unsampled caller's is not recorded
    for headers, count in zip(sent, (2, 1, 2, 1), strict=True):
        _, _, span_id, flags = headers["traceparent"].split("-")
        if int(flags, 16) & 1:
            span = spans[span_id]
            assert (span.name, span.kind) == ("intake.hotline.v1 send", trace.SpanKind.PRODUCER)
            assert (span.attributes or {})["messaging.batch.message_count"] == count
