"""CloudEvents 1.0 Kafka protocol binding, binary mode — the one codec every service uses.

The payload is the JSON of a `schemas` model; the envelope travels in `ce_*` headers together with the
W3C `traceparent`/`tracestate` so a trace follows the incident across services.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Headers = list[tuple[str, bytes]]
M = TypeVar("M", bound=BaseModel)

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_CONSTANT_HEADERS = (("ce_specversion", SPECVERSION.encode()), ("content-type", CONTENT_TYPE.encode()))
_TRACE_HEADERS = frozenset(("traceparent", "tracestate"))


class EnvelopeError(ValueError):
    """A record that is not a valid CloudEvent of the expected shape (goes to the dead-letter topic)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded record: CloudEvents attributes, the raw JSON payload and trace headers."""

    id: str
    source: str
    type: str
    time: datetime
    data: bytes
    subject: str | None = None
    key: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)

    def payload(self, model: builtins.type[M]) -> M:
        try:
            return model.model_validate_json(self.data)
        except ValidationError as exc:
            raise EnvelopeError(f"{self.type}: payload does not match {model.__name__}: {describe(exc)}") from exc


def describe(exc: ValidationError, limit: int = 10) -> str:
    """What is wrong, field by field, without the values: a dead-letter reason is read (and logged)
    far from intake, so it must never carry the input (pydantic's own message quotes `input_value`)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in errors[:limit]]
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return f"{len(errors)} validation error(s): " + "; ".join(parts) + more


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record ready for a producer (or for an outbox row)."""

    topic: str
    key: bytes
    value: bytes | None  # None: a tombstone (compacted topics)
    headers: Headers
    event_id: str


def encode(
    topic: str,
    key: str,
    payload: BaseModel,
    *,
    type: str,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    trace_headers: Sequence[tuple[str, bytes]] = (),
) -> Outgoing:
    """Build a binary-mode CloudEvent. `event_id` defaults to a fresh UUID; pass a stable one to make
    re-publication after a crash de-duplicable downstream."""
    return encode_value(topic, key, payload.model_dump_json(exclude_none=False).encode(), type=type, source=source,
                        subject=subject, event_id=event_id, time=time, trace_headers=trace_headers)


def encode_value(
    topic: str,
    key: str,
    value: bytes | None,
    *,
    type: str,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    trace_headers: Sequence[tuple[str, bytes]] = (),
) -> Outgoing:
    """`encode` for a value already serialised (its bytes hashed first), or None: a tombstone on a
    compacted topic."""
    ce_id = event_id or str(uuid.uuid4())
    specversion, content_type = _CONSTANT_HEADERS
    ce_source, ce_type = _fixed_headers(source, type)
    id_bytes = ce_id.encode()
    headers: Headers = [
        specversion,
        ("ce_id", id_bytes),
        ce_source,
        ce_type,
        _time_header(time) if time is not None else ("ce_time", datetime.now(UTC).isoformat().encode()),
        content_type,
    ]
    if subject is not None:
        headers.append(("ce_subject", id_bytes if subject == ce_id else subject.encode()))
    headers += [header for header in trace_headers if header[0] in _TRACE_HEADERS]
    return Outgoing(topic=topic, key=key.encode(), value=value, headers=headers, event_id=ce_id)


@lru_cache(maxsize=256)
def _fixed_headers(source: str, type: str) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    """A producer's few (source, type) pairs, encoded once (a batch's records share them)."""
    return ("ce_source", source.encode()), ("ce_type", type.encode())


_last_time: tuple[datetime | None, tuple[str, bytes]] = (None, ("ce_time", b""))


def _time_header(time: datetime) -> tuple[str, bytes]:
    """`ce_time`, written once for the records of a group that share one time object (by identity: equal
    datetimes in other zones write other text). Threads share the cache: it is one immutable pair, read
    once and replaced whole, so a thread never pairs one record's time with another's text."""
    global _last_time
    cached, header = _last_time
    if cached is time:
        return header
    header = ("ce_time", time.isoformat().encode())
    _last_time = (time, header)
    return header


def decode(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Envelope:
    """Read a binary-mode CloudEvent; raises EnvelopeError with the reason when it is not one."""
    found: dict[str, str] = {}
    for name, raw in headers:
        try:
            found[name] = raw.decode()
        except UnicodeDecodeError as exc:
            raise EnvelopeError(f"header {name} is not UTF-8") from exc
    missing = [h for h in ("ce_specversion", "ce_id", "ce_source", "ce_type") if not found.get(h)]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
    if found["ce_specversion"] != SPECVERSION:
        raise EnvelopeError(f"unsupported ce_specversion {found['ce_specversion']!r}")
    if found.get("content-type", CONTENT_TYPE).split(";")[0].strip() != CONTENT_TYPE:
        raise EnvelopeError(f"unsupported content-type {found['content-type']!r}")
    if value is None:
        raise EnvelopeError("record has no value")
    try:
        time = datetime.fromisoformat(found["ce_time"]) if "ce_time" in found else datetime.now(UTC)
    except ValueError as exc:
        raise EnvelopeError(f"ce_time is not RFC 3339: {found['ce_time']!r}") from exc
    known = {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"}
    return Envelope(
        id=found["ce_id"],
        source=found["ce_source"],
        type=found["ce_type"],
        time=time,
        data=value,
        subject=found.get("ce_subject"),
        key=key.decode(errors="replace") if key is not None else None,
        traceparent=found.get("traceparent"),
        tracestate=found.get("tracestate"),
        extensions={k[3:]: v for k, v in found.items() if k.startswith("ce_") and k not in known},
    )
