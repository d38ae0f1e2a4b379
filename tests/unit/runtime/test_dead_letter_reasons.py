"""A dead-letter reason says what is wrong and where, never what the record held: reasons are stored
on the .dlq topics and logged, far from intake, and the input may hold personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from runtime.consumer import where
from schemas.cloudevents import Envelope, EnvelopeError
from schemas.incident import IncidentReported

SECRET = "身份证320602198703151234 电话13812345678"


def test_a_payload_that_does_not_match_its_model_names_the_fields_not_their_values() -> None:
    data = json.dumps({"incident_id": 7, "channel": "hotline", "text": SECRET, "reporter": {"name": SECRET}},
                      ensure_ascii=False).encode()
    envelope = Envelope(id="x", source="/t", type="gov.gridline.incident.reported.v1", time=datetime.now(UTC),
                        data=data)
    with pytest.raises(EnvelopeError) as caught:
        envelope.payload(IncidentReported)
    reason = str(caught.value)
    assert "incident_id" in reason and "validation error" in reason
    assert "320602198703151234" not in reason and "13812345678" not in reason and "input_value" not in reason


def test_a_handler_failure_is_described_by_its_type_and_place_not_its_message() -> None:
    try:
        {"known": 1}[SECRET]
    except KeyError as exc:
        described = where(exc)
    assert "test_dead_letter_reasons.py" in described and "test_a_handler_failure" in described
    assert "13812345678" not in described
