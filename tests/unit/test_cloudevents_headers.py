"""The CloudEvents headers a record carries do not depend on the records encoded before it (the codec
writes the few shared header values once: schemas/cloudevents.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from schemas.cloudevents import decode, encode_value

BEIJING = timezone(timedelta(hours=8))


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
