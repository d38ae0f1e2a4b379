"""The CloudEvents headers a record carries do not depend on the records encoded before it (the codec
writes the few shared header values once: schemas/cloudevents.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from types import FrameType

from schemas import cloudevents
from schemas.cloudevents import decode, encode_value

BEIJING = timezone(timedelta(hours=8))
TraceFunction = Callable[[FrameType, str, object], object]


def _headers(**kwargs: object) -> dict[str, bytes]:
    return dict(encode_value("intake.hotline.v1", "K-1", b"{}", **kwargs).headers)  # type: ignore[arg-type]


def test_the_same_instant_in_another_zone_keeps_its_own_text() -> None:
    utc = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert _headers(type="t", source="/s", time=utc)["ce_time"] == b"2026-12-04T10:00:00+00:00"
    assert _headers(type="t", source="/s", time=utc.astimezone(BEIJING))["ce_time"] == b"2026-12-04T18:00:00+08:00"
    assert _headers(type="t", source="/s", time=utc)["ce_time"] == b"2026-12-04T10:00:00+00:00"


def test_each_record_has_its_own_id_subject_source_and_type() -> None:
    a = _headers(type="gov.a.v1", source="/a", subject="HL-1", event_id="HL-1")
    b = _headers(type="gov.b.v1", source="/b", subject="C-HL-2", event_id="HL-2")
    assert (a["ce_id"], a["ce_subject"], a["ce_source"], a["ce_type"]) == (b"HL-1", b"HL-1", b"/a", b"gov.a.v1")
    assert (b["ce_id"], b["ce_subject"], b["ce_source"], b["ce_type"]) == (b"HL-2", b"C-HL-2", b"/b", b"gov.b.v1")
    envelope = decode(b"K-1", b"{}", list(b.items()))
    assert (envelope.id, envelope.subject, envelope.type) == ("HL-2", "C-HL-2", "gov.b.v1")




def test_another_thread_encoding_between_any_two_lines_of_the_time_cache_never_swaps_times() -> None:
    """The codec's one-entry cache of the last `ce_time` is shared by the process's threads. A switch to
    another thread is forced at each line of the cache's code in turn: a line tracer encodes another record
    (another time) right there, as that thread would (untraced: CPython does not trace a tracer)."""
    mine, theirs = datetime(2026, 12, 4, 10, 0, tzinfo=UTC), datetime(2026, 12, 4, 18, 0, tzinfo=BEIJING)
    code = cloudevents._time_header.__code__
    switched: set[int] = set()

    def at_each_line(frame: FrameType, event: str, _: object) -> TraceFunction | None:
        if event == "line" and frame.f_lineno not in switched:
            switched.add(frame.f_lineno)
            assert _headers(type="t", source="/s", time=theirs)["ce_time"] == b"2026-12-04T18:00:00+08:00"
        return at_each_line

    def in_the_cache(frame: FrameType, event: str, _: object) -> TraceFunction | None:
        return at_each_line if frame.f_code is code else None

    got = set()
    for cached in (mine, theirs) * 3:  # the cache holding this record's time (a hit), or another's (a miss)
        _headers(type="t", source="/s", time=cached)
        previous = sys.gettrace()
        sys.settrace(in_the_cache)
        try:
            got.add(_headers(type="t", source="/s", time=mine)["ce_time"])
        finally:
            sys.settrace(previous)
    assert len(switched) >= 3  # both paths' lines
    assert got == {b"2026-12-04T10:00:00+00:00"}
