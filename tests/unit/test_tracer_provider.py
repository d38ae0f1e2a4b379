"""Spans nobody receives are not built, and the trace context on the wire is what the SDK would give:
the services' provider makes `NonRecordingSpan`s while it has no span processor, records as the SDK does
once one is added (runtime/tracer_provider.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, TracerProvider, _disable_tracer_configurator
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from runtime.telemetry import context_from_traceparent, inject_headers
from runtime.tracer_provider import ExportAwareTracerProvider

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UNSAMPLED_CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def test_the_services_make_no_span_objects_without_an_exporter() -> None:
    script = ("from opentelemetry import trace\nfrom runtime.telemetry import configure_tracing\n"
              "configure_tracing('intake')\nspan = trace.get_tracer('t').start_span('POST /v1/hotline/tickets')\n"
              "print(span.is_recording(), span.get_span_context().is_valid)")
    out = subprocess.run([sys.executable, "-c", script], env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                         text=True, check=True, timeout=60).stdout.split()
    assert out == ["False", "True"]


@pytest.mark.parametrize("caller", [CALLER, UNSAMPLED_CALLER])
def test_a_span_continues_the_callers_trace_with_the_flags_the_sdk_gives(caller: str) -> None:
    parent = context_from_traceparent(caller)
    lean = ExportAwareTracerProvider().get_tracer("t").start_span("send", context=parent)
    sdk = TracerProvider().get_tracer("t").start_span("send", context=parent)
    assert not lean.is_recording()
    got, want = lean.get_span_context(), sdk.get_span_context()
    assert (got.trace_id, got.trace_flags, got.trace_state, got.is_remote) == (
        want.trace_id, want.trace_flags, want.trace_state, want.is_remote)
    assert got.span_id not in (0, int(caller.split("-")[2], 16))  # a span of its own


def test_a_root_span_gets_a_new_sampled_trace_and_the_sampler_still_decides() -> None:
    root = ExportAwareTracerProvider().get_tracer("t").start_span("root")
    assert root.get_span_context().is_valid and root.get_span_context().trace_flags.sampled
    dropped = ExportAwareTracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t").start_span("root")
    assert dropped.get_span_context().is_valid and not dropped.get_span_context().trace_flags.sampled


def test_the_current_span_is_what_goes_on_the_wire() -> None:
    tracer = ExportAwareTracerProvider().get_tracer("t")
    with tracer.start_as_current_span("send", context=context_from_traceparent(CALLER)) as span:
        headers = dict(inject_headers())
    context = span.get_span_context()
    assert headers["traceparent"].decode() == f"00-{context.trace_id:032x}-{context.span_id:016x}-01"
    assert headers["traceparent"].decode().split("-")[1] == CALLER.split("-")[1]


def test_spans_are_recorded_once_a_processor_is_added_even_by_tracers_handed_out_before() -> None:
    provider = ExportAwareTracerProvider()
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("before"):
        pass
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert provider.get_tracer("t") is tracer
    with tracer.start_as_current_span("after", kind=trace.SpanKind.PRODUCER, attributes={"a": 1}) as span:
        assert span.is_recording()
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
    [after] = exporter.get_finished_spans()
    assert (after.name, after.kind, dict(after.attributes or {})) == ("after", trace.SpanKind.PRODUCER, {"a": 1})
    assert carrier["traceparent"].split("-")[2] == f"{after.context.span_id:016x}"


@pytest.mark.parametrize("caller", [CALLER, None])
def test_a_tracer_its_configurator_disables_gives_the_span_the_sdk_gives(caller: str | None) -> None:
    """The SDK's tracer configurator (`OTEL_PYTHON_TRACER_CONFIGURATOR`) can disable a tracer: its spans
    are then the parent's context unchanged, with no span of their own — without an exporter too."""
    parent = context_from_traceparent(caller)
    lean_provider = ExportAwareTracerProvider(_tracer_configurator=_disable_tracer_configurator)
    sdk_provider = TracerProvider(_tracer_configurator=_disable_tracer_configurator)
    lean = lean_provider.get_tracer("t").start_span("send", context=parent)
    sdk = sdk_provider.get_tracer("t").start_span("send", context=parent)
    assert not lean.is_recording() and lean.get_span_context() == sdk.get_span_context()
    assert lean.get_span_context() == trace.get_current_span(parent).get_span_context()


def test_a_tracer_disabled_after_it_was_handed_out_stops_making_spans() -> None:
    provider = ExportAwareTracerProvider()
    tracer = provider.get_tracer("t")
    assert tracer.start_span("before").get_span_context().is_valid
    provider._set_tracer_configurator(tracer_configurator=_disable_tracer_configurator)
    assert not tracer.start_span("after").get_span_context().is_valid  # no parent: the invalid context


async def test_a_coroutine_decorated_with_start_as_current_span_runs_inside_a_span_of_its_own() -> None:
    """The API's `start_as_current_span` also decorates coroutine functions (the span lasts the whole
    coroutine, a new one per call): what the OpenTelemetry helper behind it gives, and why it is used."""
    tracer = ExportAwareTracerProvider().get_tracer("t")
    seen: list[trace.SpanContext] = []

    @tracer.start_as_current_span("work", context=context_from_traceparent(CALLER))
    async def work() -> None:
        await asyncio.sleep(0)
        seen.append(trace.get_current_span().get_span_context())

    await work()
    await work()
    assert [c.is_valid for c in seen] == [True, True] and seen[0].span_id != seen[1].span_id
    assert {f"{c.trace_id:032x}" for c in seen} == {CALLER.split("-")[1]}
    assert not trace.get_current_span().get_span_context().is_valid


def test_the_sdk_still_has_the_private_names_gridline_relies_on() -> None:
    """runtime/otel_private.py is the one place that uses OpenTelemetry names that are not public (checked
    against opentelemetry-sdk 1.45.1, which offers no public equivalent). If this fails, the SDK changed
    them: see that module before upgrading."""
    from opentelemetry.sdk.trace import Tracer

    from runtime import otel_private

    assert callable(getattr(Tracer, "_is_enabled", None)), "opentelemetry-sdk: Tracer._is_enabled is gone"
    processors = SynchronousMultiSpanProcessor()
    assert isinstance(getattr(processors, "_span_processors", None), tuple), \
        "opentelemetry-sdk: SynchronousMultiSpanProcessor._span_processors is no longer a tuple"
    assert hasattr(processors, "_lock"), "opentelemetry-sdk: SynchronousMultiSpanProcessor._lock is gone"
    assert otel_private.tracer_enabled(TracerProvider().get_tracer("t"))
    assert not otel_private.tracer_enabled(
        TracerProvider(_tracer_configurator=_disable_tracer_configurator).get_tracer("t"))


def test_taking_the_last_span_processor_off_stops_building_spans_again() -> None:
    """A test that adds an in-memory exporter takes it off after itself, so the tests after it run as the
    services do by default (tests/integration/test_traces.py)."""
    provider = ExportAwareTracerProvider()
    tracer = provider.get_tracer("t")
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    one, two = SimpleSpanProcessor(first), SimpleSpanProcessor(second)
    provider.add_span_processor(one)
    provider.add_span_processor(two)
    provider.remove_span_processor(one)
    assert provider.exporting
    tracer.start_span("to the second").end()
    provider.remove_span_processor(two)
    provider.remove_span_processor(two)  # not there any more: nothing happens
    assert not provider.exporting
    span = tracer.start_span("to nobody")
    span.end()
    assert not span.is_recording() and span.get_span_context().is_valid
    assert [s.name for s in first.get_finished_spans()] == []
    assert [s.name for s in second.get_finished_spans()] == ["to the second"]
