"""The published event contracts: generated files are current and no change breaks existing consumers."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from schemas.compat import breaking_changes
from schemas.generate import ASYNCAPI, PUBLISHED_DIR, json_schemas, render
from schemas.topics import CATALOGUE


def test_generated_schema_files_are_current() -> None:
    stale = [str(path) for path, text in render().items() if not path.exists() or path.read_text() != text]
    assert not stale, f"run `make schemas` and commit: {stale}"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_no_change_breaks_consumers_of_the_published_schema(name: str) -> None:
    published = json.loads((PUBLISHED_DIR / name).read_text())
    assert breaking_changes(published, json_schemas()[name]) == []


def test_asyncapi_describes_every_topic_and_its_dead_letters() -> None:
    doc = yaml.safe_load(ASYNCAPI.read_text())
    addresses = {c["address"] for c in doc["channels"].values()}
    assert doc["asyncapi"].startswith("3.")
    for topic in CATALOGUE:
        assert topic in addresses and f"{topic}.dlq" in addresses


def _case_event() -> dict[str, object]:
    return json_schemas()["CaseEvent.json"]


def test_removing_a_field_is_breaking() -> None:
    new = copy.deepcopy(_case_event())
    del new["properties"]["actor"]  # type: ignore[attr-defined]
    assert any("actor: field removed" in p for p in breaking_changes(_case_event(), new))


def test_making_a_required_field_optional_is_breaking() -> None:
    new = copy.deepcopy(_case_event())
    new["required"].remove("seq")  # type: ignore[attr-defined]
    assert any("seq: no longer required" in p for p in breaking_changes(_case_event(), new))


def test_widening_a_type_is_breaking_and_adding_an_optional_field_is_not() -> None:
    new = copy.deepcopy(_case_event())
    new["properties"]["seq"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}  # type: ignore[index]
    assert any("seq: type widened" in p for p in breaking_changes(_case_event(), new))
    added = copy.deepcopy(_case_event())
    added["properties"]["note"] = {"type": "string"}  # type: ignore[index]
    assert breaking_changes(_case_event(), added) == []


def test_removing_an_enum_value_is_breaking() -> None:
    new = copy.deepcopy(_case_event())
    kinds = new["$defs"]["CaseEventKind"]["enum"]  # type: ignore[index]
    kinds.remove("merged")
    assert any("merged" in p for p in breaking_changes(_case_event(), new))
