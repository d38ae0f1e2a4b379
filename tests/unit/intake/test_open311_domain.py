"""Open311 GeoReport v2: services from the responsibility list, form parsing, idempotency keys, masking."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from services.intake.domain.open311 import (
    Service,
    ServiceRequest,
    natural_id,
    parse_request,
    services_from_list,
    to_incident,
)

LIST = Path(__file__).resolve().parents[3] / "services/router/data/responsibility_list"
NOW = datetime(2026, 11, 23, 1, 15, tzinfo=UTC)
FORM = [("api_key", "k"), ("service_code", "A01.001"), ("lat", "32.02"), ("long", "120.91"),
        ("description", "垃圾乱堆，电话13812345678"), ("phone", "13812345678"), ("last_name", "王")]


def test_every_responsibility_item_is_a_service_grouped_by_its_class() -> None:
    index = yaml.safe_load((LIST / "list.yaml").read_text(encoding="utf-8"))
    files = {c["file"]: yaml.safe_load((LIST / c["file"]).read_text(encoding="utf-8")) for c in index["classes"]}
    services = services_from_list(index, files)
    assert len(services) >= 100 and len({s.service_code for s in services}) == len(services)
    assert services[0].as_georeport()["group"] == "城市管理类"
    assert {s.as_georeport()["type"] for s in services} == {"realtime"}


def test_a_form_needs_a_service_code_and_a_place() -> None:
    assert isinstance(parse_request(FORM), ServiceRequest)
    errors = parse_request([("service_code", "A01.001")])
    assert isinstance(errors, list) and "location" in errors[0]["description"] and errors[0]["code"] == 400
    half = parse_request([("service_code", "A01.001"), ("lat", "32.0")])
    assert isinstance(half, list) and "together" in half[0]["description"]
    bad = parse_request([("lat", "north"), ("long", "120")])
    assert isinstance(bad, list) and {e["description"].split(":")[0] for e in bad} == {"service_code", "lat"}


def test_empty_fields_are_absent_and_attribute_request_id_is_the_request_id() -> None:
    req = parse_request([*FORM, ("email", ""), ("attribute[request_id]", "app-123")])
    assert isinstance(req, ServiceRequest) and req.email is None and req.request_id == "app-123"


def test_the_natural_id_is_the_clients_request_id_or_a_hash_of_the_form_without_the_key() -> None:
    req = parse_request(FORM)
    assert isinstance(req, ServiceRequest)
    with_id = parse_request([*FORM, ("attribute[request_id]", "app-123")])
    assert isinstance(with_id, ServiceRequest)
    assert natural_id("open311", FORM, with_id) == "open311:app-123"
    same = natural_id("open311", [("api_key", "other"), *reversed(FORM[1:])], req)
    assert natural_id("open311", FORM, req) == same and same.startswith("open311:sha256:")
    assert natural_id("open311", [*FORM, ("media_url", "https://x.cn/a.jpg")], req) != same


def test_the_incident_has_the_item_as_category_and_masked_contacts() -> None:
    req = parse_request(FORM)
    assert isinstance(req, ServiceRequest)
    event = to_incident(req, Service("A01.001", "暴露垃圾", "城市管理类"), "OS-1", "open311:x", NOW, "ct_1")
    assert (event.channel, event.category_code, event.reporter.contact_masked) == ("open311", "A01.001",
                                                                                   "138****5678")
    assert event.reporter.name == "王*" and "13812345678" not in event.model_dump_json()
    no_text = parse_request([("service_code", "A01.001"), ("address_string", "人民东路")])
    assert isinstance(no_text, ServiceRequest)
    assert to_incident(no_text, Service("A01.001", "暴露垃圾", "A"), "OS-2", "s", NOW, None).text == "暴露垃圾"
