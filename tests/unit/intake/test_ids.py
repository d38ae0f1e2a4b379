"""Incident ids that survive retries, and body hashes that detect an id reused for another body."""

from __future__ import annotations

from schemas.common import Channel
from services.intake.domain.ids import body_hash, incident_id, mini_program_natural_id


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
