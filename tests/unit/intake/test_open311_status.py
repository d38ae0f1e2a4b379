"""GET requests.json rules: defaults and limits of the query, and a request's status from its case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord

from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState
from schemas.common import Channel, Level
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from services.intake.case_status import open311_record
from services.intake.domain.ids import incident_id
from services.intake.domain.open311_status import (
    MAX_SPAN,
    Query,
    apply_case_event,
    apply_sla_event,
    parse_query,
    render,
)
from services.router.domain.case import case_id_for

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_no_dates_means_the_last_90_days_and_a_thousand_at_most() -> None:
    assert parse_query({}, NOW) == Query(start=NOW - MAX_SPAN, end=NOW, page=1, page_size=1000)


def test_one_date_gives_the_other_90_days_away() -> None:
    q = parse_query({"start_date": "2026-10-01T00:00:00+08:00"}, NOW)
    assert isinstance(q, Query) and q.end is not None and q.start is not None and q.end - q.start == MAX_SPAN


def test_the_id_list_overrides_every_other_filter() -> None:
    q = parse_query({"service_request_id": "OS-A, OS-B", "status": "bogus", "start_date": "x"}, NOW)
    assert q == Query(ids=("OS-A", "OS-B"))


def test_refusals_say_why() -> None:
    assert "90 days" in str(parse_query({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
                                        NOW))
    assert "before" in str(parse_query({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
                                       NOW))
    assert "open or closed" in str(parse_query({"status": "done"}, NOW))
    assert "page_size" in str(parse_query({"page_size": "5000"}, NOW))
    assert "w3c" in str(parse_query({"end_date": "2026-06-01T00:00:00"}, NOW))  # no time zone


def event(seq: int, kind: CaseEventKind, state: CaseState, **extra: object) -> CaseEvent:
    return CaseEvent(event_id=f"E{seq}", case_id="C-OS-1", kind=kind, state=state, seq=seq,
                     at=NOW + timedelta(minutes=seq), actor="router", **extra)  # type: ignore[arg-type]


def test_status_follows_the_case_with_public_notes_and_the_agency_by_name() -> None:
    s = apply_case_event(None, event(1, CaseEventKind.CREATED, CaseState.REPORTED))
    s = apply_case_event(s, event(2, CaseEventKind.DISPATCHED, CaseState.DISPATCHED, reason="internal: 张三 said",
                                  assignment=Assignment(owner="GRID", owner_unit="G-1", level=Level.GRID)))
    assert s is not None
    s = apply_sla_event(s, SlaEvent(event_id="S1", case_id="C-OS-1", kind=SlaEventKind.DEADLINE_SET,
                                    stage=SlaStage.ACCEPT, deadline=NOW + timedelta(hours=2), at=NOW))
    row = {"service_request_id": "OS-1", "service_code": "A01.001", "service_name": "垃圾", "requested_at": NOW,
           **s.__dict__}
    out = render(row, {"G-1": "望江社区第1网格"})
    assert (out["status"], out["agency_responsible"]) == ("open", "望江社区第1网格")
    assert out["status_notes"].startswith("已派遣") and "张三" not in str(out)
    assert out["expected_datetime"] == (NOW + timedelta(hours=2)).isoformat()
    closed = apply_case_event(s, event(3, CaseEventKind.CLOSED, CaseState.CLOSED))
    assert closed is not None and render({**row, **closed.__dict__}, {})["status"] == "closed"
    assert apply_case_event(closed, event(2, CaseEventKind.DISPATCHED, CaseState.DISPATCHED)) is None  # stale


def test_the_status_follower_wants_the_records_of_open311_cases_only() -> None:
    def record(key: bytes | None) -> ConsumerRecord[bytes, bytes]:
        return ConsumerRecord("case.events.v1", 0, 0, 0, 0, key, b"{}", None, 0, 2, [])

    assert open311_record(record(case_id_for(incident_id(Channel.OPEN311, "req-1")).encode()))
    for channel in (Channel.HOTLINE, Channel.GRID, Channel.WECHAT):
        assert not open311_record(record(case_id_for(incident_id(channel, "req-1")).encode()))
    assert not open311_record(record(None))
