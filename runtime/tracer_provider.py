"""A tracer provider that records spans only while something will receive them.

The SDK's `TracerProvider` builds a full span object for every sampled span — attributes cleaned and
bounded, events, status, start and end times — and hands it at its end to its span processors. With
none installed (no `OTEL_EXPORTER_OTLP_ENDPOINT`, no `OTEL_CONSOLE`: how the services run by default and
in the benchmarks) that object is thrown away, yet it was intake's largest single cost beside the broker
and the ledger (py-spy, docs/benchmarks.md "Intake, sixth pass": `Tracer.start_span` 8 % of the
single-ticket samples: the SERVER span, a PRODUCER span per request, the ledger's query spans).

Here, while the provider has no span processor, a span is a `NonRecordingSpan` carrying the context
the SDK would have given it — the parent's trace id (or a new one), a new span id, the sampler's flags
and trace state — so `traceparent` on every response and every Kafka record is what it was, and the
next service continues the same trace, sampled as before. The moment a span processor is added (an
exporter configured, a test's in-memory exporter), every tracer of the provider, including those
handed out earlier, records spans exactly as the SDK does, until the last one is taken off again
(`remove_span_processor`, which the SDK's provider does not have). A tracer the SDK's tracer configurator
disabled gives the parent's context unchanged either way, as the SDK's own tracer does. The SDK's
non-public names this needs are in runtime/otel_private.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.util import types

from runtime.otel_private import agnostic_contextmanager, remove_span_processor, tracer_enabled


class _Processors(SynchronousMultiSpanProcessor):
    """The provider's span processors, knowing whether there is any."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.any = False

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self.any = True

    def remove_span_processor(self, span_processor: SpanProcessor) -> None:
        self.any = remove_span_processor(self, span_processor) > 0


class ExportAwareTracerProvider(SdkTracerProvider):
    """`TracerProvider` whose tracers make no span objects while it has no span processor."""

    def __init__(self, **kwargs: object) -> None:
        self._processors = _Processors()
        super().__init__(active_span_processor=self._processors, **kwargs)  # type: ignore[arg-type]
        self._lean: dict[SdkTracer, trace_api.Tracer] = {}

    @property
    def exporting(self) -> bool:
        return self._processors.any

    def remove_span_processor(self, span_processor: SpanProcessor) -> None:
        """Undo `add_span_processor` (the SDK has none): with no processor left, tracers stop building spans
        again. The processor is not shut down."""
        self._processors.remove_span_processor(span_processor)

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> trace_api.Tracer:
        tracer = super().get_tracer(instrumenting_module_name, instrumenting_library_version, schema_url, attributes)
        if not isinstance(tracer, SdkTracer):  # OTEL_SDK_DISABLED: the SDK's no-op tracer
            return tracer
        found = self._lean.get(tracer)
        if found is None:
            found = self._lean[tracer] = _ExportAwareTracer(tracer, self._processors)
        return found


class _ExportAwareTracer(trace_api.Tracer):
    """The SDK's tracer while spans are exported; the span's context alone while they are not."""

    def __init__(self, sdk: SdkTracer, processors: _Processors) -> None:
        self._sdk = sdk
        self._processors = processors

    def start_span(
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        if self._processors.any:
            return self._sdk.start_span(name, context, kind, attributes, links, start_time, record_exception,
                                        set_status_on_exception)
        if not tracer_enabled(self._sdk):  # disabled by the tracer configurator: the parent's context, as the SDK
            return NonRecordingSpan(trace_api.get_current_span(context).get_span_context())
        return NonRecordingSpan(self._context_for(name, context, kind, attributes, links or ()))

    def _context_for(self, name: str, context: context_api.Context | None, kind: SpanKind,
                     attributes: types.Attributes, links: Sequence[trace_api.Link]) -> SpanContext:
        """The context `Tracer.start_span` of the SDK gives a new span (same ids, flags and trace state)."""
        parent = trace_api.get_current_span(context).get_span_context()
        ids = self._sdk.id_generator
        if parent.is_valid:
            trace_id, random_trace_id = parent.trace_id, parent.trace_flags.random_trace_id
        else:
            trace_id, random_trace_id = ids.generate_trace_id(), ids.is_trace_id_random()
        sampled = self._sdk.sampler.should_sample(context, trace_id, name, kind, attributes, links)
        flags = TraceFlags.SAMPLED if sampled.decision.is_sampled() else TraceFlags.DEFAULT  # type: ignore[no-untyped-call]
        if random_trace_id:
            flags |= TraceFlags.RANDOM_TRACE_ID
        return SpanContext(trace_id, ids.generate_span_id(), is_remote=False, trace_flags=TraceFlags(flags),
                           trace_state=sampled.trace_state)

    @agnostic_contextmanager
    def start_as_current_span(
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace_api.Span]:
        span = self.start_span(name, context, kind, attributes, links, start_time, record_exception,
                               set_status_on_exception)
        with trace_api.use_span(span, end_on_exit=end_on_exit, record_exception=record_exception,
                                set_status_on_exception=set_status_on_exception) as current:
            yield current
