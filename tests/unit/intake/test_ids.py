"""Incident ids that survive retries, and body hashes that detect an id reused for another body."""

from __future__ import annotations

import hashlib
import json

import pytest
from pydantic import BaseModel

from schemas.common import Channel
from schemas.intake_api import HotlineTicket
from services.intake.domain.ids import body_hash, incident_id, mini_program_natural_id, request_hash, same_request

TICKET = {"ticket_no": "12345-20261123-000187", "call_time": "2026-11-23T09:15:00+08:00",
          "caller_phone": "13812345678", "appeal_type": "投诉", "text": "人民东路128号门口井盖破损",
          "address": "通江区人民东路128号", "operator_id": "OP-0231"}


def test_the_incident_id_depends_only_on_channel_and_natural_id() -> None:
    assert incident_id(Channel.HOTLINE, "T-1") == incident_id(Channel.HOTLINE, "T-1")
    assert incident_id(Channel.HOTLINE, "T-1") != incident_id(Channel.GRID, "T-1")
    assert incident_id(Channel.HOTLINE, "T-1").startswith("HL-") and incident_id(Channel.OPEN311, "x")[:3] == "OS-"
    assert len(incident_id(Channel.WECHAT, "tongjiang:1")) == len("WX-") + 16


def test_body_hash_ignores_key_order_but_not_content() -> None:
    assert body_hash({"a": 1, "b": "井盖"}) == body_hash({"b": "井盖", "a": 1})
    assert body_hash({"a": 1}) != body_hash({"a": 2})


def test_a_mini_program_request_id_cannot_look_like_a_pushed_msg_id() -> None:
    assert mini_program_natural_id("tongjiang", "6054768590064713728") != "tongjiang:6054768590064713728"


def test_request_hash_ignores_key_order_and_padding_but_not_content() -> None:
    one = HotlineTicket.model_validate_json(json.dumps(TICKET))
    shuffled = HotlineTicket.model_validate_json(json.dumps(dict(reversed(TICKET.items())), indent=2))
    padded = HotlineTicket.model_validate({**TICKET, "text": f"  {TICKET['text']} "})
    other = HotlineTicket.model_validate({**TICKET, "text": "路灯不亮"})
    assert request_hash(one) == request_hash(shuffled) == request_hash(padded)
    assert request_hash(one) != request_hash(other)


def test_a_row_hashed_before_request_hash_still_names_the_same_request() -> None:
    ticket = HotlineTicket.model_validate(TICKET)
    legacy = body_hash(ticket.model_dump(mode="json"))  # what the ledger holds for tickets taken earlier
    assert same_request(legacy, request_hash(ticket), ticket)
    other = HotlineTicket.model_validate({**TICKET, "text": "路灯不亮"})
    assert not same_request(legacy, request_hash(other), other)
    assert not same_request(request_hash(ticket), request_hash(other), other)


def test_a_row_hashed_as_pydantic_wrote_the_request_still_names_the_same_request() -> None:
    ticket = HotlineTicket.model_validate({**TICKET, "point": {"lon": 104.7, "lat": 31.86}})
    earlier = "v2:" + hashlib.sha256(ticket.model_dump_json().encode()).hexdigest()  # the ledger's rows until 2026-12
    assert request_hash(ticket) != earlier
    assert same_request(earlier, request_hash(ticket), ticket)
    moved = HotlineTicket.model_validate({**TICKET, "point": {"lon": 104.8, "lat": 31.86}})
    assert not same_request(earlier, request_hash(moved), moved)


def test_request_hash_sees_nested_fields() -> None:
    here = HotlineTicket.model_validate({**TICKET, "point": {"lon": 104.7, "lat": 31.86}})
    there = HotlineTicket.model_validate({**TICKET, "point": {"lon": 104.7, "lat": 31.87}})
    assert request_hash(here) != request_hash(there)


def test_the_stored_request_hash_of_a_ticket_never_changes() -> None:
    """The hash is kept in the ledger: a change to how it is written (orjson, field order) would turn every
    retry of a ticket accepted before the upgrade into a 409, so it is pinned here."""
    ticket = HotlineTicket.model_validate({**TICKET, "point": {"lon": 104.7, "lat": 31.86}})
    assert request_hash(ticket) == "v3:c026d4718b983b78881907debe4f8df0872c3bd61b94c532b1bb4da0246cf243"


def test_a_field_the_hash_cannot_write_exactly_is_refused() -> None:
    class Tagged(BaseModel):
        tags: frozenset[str]

    with pytest.raises(TypeError, match="frozenset"):
        request_hash(Tagged(tags=frozenset({"a", "b"})))
