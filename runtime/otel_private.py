"""The OpenTelemetry names Gridline uses that are not public, in one place (runtime/tracer_provider.py is
their one user). opentelemetry-sdk 1.45.1 offers no public equivalent of either:

- `agnostic_contextmanager` (`opentelemetry.util._decorator._agnosticcontextmanager`): what makes the API's
  `Tracer.start_as_current_span` usable both in `with` and as a decorator of a coroutine function (the span
  lasting the whole coroutine, a new one per call). The public `trace.use_span` is built with it but
  enters one given span, so as a decorator it would reuse that span on every call.
- `tracer_enabled` (`Tracer._is_enabled()`): whether the SDK's tracer configurator (the experimental
  `TracerConfigurator`, `OTEL_PYTHON_TRACER_CONFIGURATOR`) disabled the tracer, consulted by the SDK's own
  `start_span`; the configurator and its config are underscore-named too.
- `remove_span_processor`: the SDK's `SynchronousMultiSpanProcessor` can only add a processor; taking one
  off again (a test's in-memory exporter) replaces its `_span_processors` tuple under its `_lock`.

tests/unit/test_tracer_provider.py fails loudly if an upgrade of the SDK renames or changes them.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor, Tracer
from opentelemetry.util._decorator import _agnosticcontextmanager as agnostic_contextmanager

__all__ = ["agnostic_contextmanager", "remove_span_processor", "tracer_enabled"]


def tracer_enabled(tracer: Tracer) -> bool:
    """False when the provider's tracer configurator disabled this tracer (its spans: the parent's context)."""
    return tracer._is_enabled()


def remove_span_processor(processors: SynchronousMultiSpanProcessor, processor: SpanProcessor) -> int:
    """Take `processor` off (if it is there; it is not shut down). Returns how many processors are left."""
    with processors._lock:
        processors._span_processors = tuple(p for p in processors._span_processors if p is not processor)
        return len(processors._span_processors)
