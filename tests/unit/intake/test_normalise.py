"""Source requests → the normalised incident / action: masked contacts, the right channel and source id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from bench.data import synthetic, ticket_body
from schemas.incident import IncidentReported
from schemas.intake_api import CaseActionRequest, GridReport, HotlineTicket, MiniProgramSubmission
from services.intake.domain.normalise import (
    from_grid_report,
    from_hotline,
    from_mini_program,
    hotline_json,
    hotline_payload,
    to_action,
)

NOW = datetime(2026, 11, 23, 1, 15, tzinfo=UTC)


def test_a_hotline_ticket_keeps_the_callers_contact_only_masked_and_by_reference() -> None:
    ticket = HotlineTicket.model_validate({
        "ticket_no": "12345-1", "call_time": "2026-11-23T09:15:00+08:00", "caller_name": "王建国",
        "caller_phone": "13812345678", "appeal_type": "投诉", "text": "井盖破损，回电13812345678",
        "address": "人民东路128号", "operator_id": "OP-0231"})
    event = from_hotline(ticket, "HL-1", NOW, "ct_ref")
    assert (event.channel, event.source_id, event.received_at) == ("hotline", "12345-1", NOW)
    assert event.reporter.model_dump() == {"kind": "citizen", "id": "operator:OP-0231", "name": "王**",
                                           "contact_masked": "138****5678", "contact_ref": "ct_ref"}
    assert "13812345678" not in event.model_dump_json()


def test_a_grid_report_handled_on_the_spot_carries_its_evidence() -> None:
    report = GridReport.model_validate({
        "report_id": "GR-1", "worker_id": "W1", "grid_id": "G1", "category_code": "A01.001",
        "point": {"lon": 120.9, "lat": 32.0}, "text": "垃圾乱堆", "handled_on_spot": True,
        "evidence_urls": ["https://img.example.cn/after.jpg"], "reported_at": "2026-11-23T09:15:00+08:00"})
    event = from_grid_report(report, "GR-X", NOW)
    assert event.on_the_spot is not None and str(event.on_the_spot.evidence_urls[0]).endswith("after.jpg")
    assert event.reporter.id == "W1" and event.location.grid_id == "G1" and event.category_code == "A01.001"


def test_a_mini_program_submission_has_a_masked_openid_and_a_namespaced_source_id() -> None:
    sub = MiniProgramSubmission.model_validate({
        "request_id": "req-1", "openid": "oXyZ1234567890abcd", "text": "路灯不亮",
        "location": {"lon": 120.9, "lat": 32.0}, "submitted_at": "2026-11-23T09:15:00+08:00"})
    event = from_mini_program(sub, "tongjiang", "WX-1", NOW, "ct_ref")
    assert event.reporter.id == "oXyZ***abcd" and event.source_id == "tongjiang:mp:req-1"
    assert "oXyZ1234567890abcd" not in event.model_dump_json()
    assert event.location.point is not None and event.location.address is None


def test_an_action_keeps_what_its_kind_needs() -> None:
    req = CaseActionRequest.model_validate({"action_id": "A-0001", "kind": "rate", "actor": "CITIZEN",
                                            "satisfaction": 4, "taken_at": "2026-11-23T09:15:00+08:00"})
    action = to_action("C-HL-1", req)
    assert (action.case_id, action.kind, action.satisfaction) == ("C-HL-1", "rate", 4)


def _equivalent_json(ticket: HotlineTicket, received: datetime, ref: str | None) -> None:
    model = IncidentReported.model_validate(hotline_payload(ticket, "HL-1", received, ref))
    assert hotline_json(ticket, "HL-1", received, ref) == model.model_dump_json(exclude_none=False).encode()


def test_a_tickets_event_json_written_once_is_byte_for_byte_the_models_json() -> None:
    for i, inc in enumerate(synthetic(300, seed=77)):
        ticket = HotlineTicket.model_validate(ticket_body(inc, f"T-{i:04d}"))
        _equivalent_json(ticket, datetime.now(UTC), f"ct_{i}" if i % 2 else None)
    odd = HotlineTicket.model_validate({
        "ticket_no": "12345-2", "call_time": "2026-11-23T09:15:00.000123-03:30", "appeal_type": "咨询",
        "text": "  电话 025-83456789，身份证320602198703151234 卡6222 0202 0011 2233 446  ", "operator_id": "OP-1",
        "urgency": "urgent", "category_hint": "路灯", "point": {"lon": -0.5, "lat": 1e-7}})
    _equivalent_json(odd, datetime(2026, 1, 1, tzinfo=UTC), None)
    _equivalent_json(odd, datetime(2026, 1, 1, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))), "ct_x")


def test_masking_that_outgrows_the_text_limit_is_refused_as_the_model_would() -> None:
    long = HotlineTicket.model_validate({
        "ticket_no": "12345-3", "call_time": "2026-11-23T09:15:00+08:00", "appeal_type": "咨询",
        "text": ("0251234567 " * 364)[:4000], "operator_id": "OP-1"})  # each landline gains a dash when masked
    with pytest.raises(ValidationError):
        hotline_payload(long, "HL-1", NOW, None)
