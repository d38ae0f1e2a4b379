"""route() with the trained model, the knowledge base and the thresholds, on the synthetic city."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from schemas.common import Channel, GeoPoint
from schemas.incident import AppealType, IncidentReported, Location, Reporter
from services.router.classification.decision import Engine
from services.router.classification.selective import DispatchRule
from services.router.domain.decide import RoutingTables, route, route_many
from services.router.domain.locate import Gazetteer
from simcity.export import city_to_gazetteer, city_to_geojson
from simcity.generate import generate_city

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def city() -> dict[str, object]:
    c = generate_city()
    return {"geojson": city_to_geojson(c), "gazetteer": city_to_gazetteer(c)}


@pytest.fixture(scope="module")
def tables(engine: Engine, city: dict[str, object]) -> RoutingTables:
    gazetteer = Gazetteer(city["geojson"], city["gazetteer"])  # type: ignore[arg-type]
    return RoutingTables(engine.responsibility_list, engine.ensemble.keywords, gazetteer,
                         engine.thresholds.dispatch, engine)


@pytest.fixture(scope="module")
def point(city: dict[str, object]) -> tuple[float, float]:
    """The centre of a comprehensive grid (every owner can be resolved there)."""
    features = city["geojson"]["features"]  # type: ignore[index]
    grid = next(f["properties"] for f in features if f["properties"]["kind"] == "comprehensive")
    return grid["centroid_lon"], grid["centroid_lat"]


def incident(text: str, where: tuple[float, float], **kw: object) -> IncidentReported:
    return IncidentReported(
        incident_id="HL-M1", channel=Channel.HOTLINE, source_id="1", reporter=Reporter(kind="citizen"), text=text,
        location=Location(point=GeoPoint(lon=where[0], lat=where[1])), reported_at=AT, received_at=AT,
        **kw,  # type: ignore[arg-type]
    )


def test_an_enquiry_the_knowledge_base_covers_is_answered(tables: RoutingTables, point: tuple[float, float]) -> None:
    r = route(incident("请问社保卡丢了怎么补办", point, appeal_type=AppealType("咨询")), tables)
    assert r.outcome == "answered" and r.answer is not None and r.answer.id == "KB-D04-social-card"
    assert r.assignment is not None and r.assignment.owner == "CENTER" and r.assignment.grid_id
    assert r.explanation["answer"]["entry_id"] == "KB-D04-social-card"


def test_a_complaint_is_never_answered_from_the_knowledge_base(tables: RoutingTables,
                                                               point: tuple[float, float]) -> None:
    r = route(incident("社保卡丢了补办了三次都没办下来，窗口态度很差", point, appeal_type=AppealType("投诉")), tables)
    assert r.outcome != "answered"


def test_urgent_texts_are_flagged_and_dispatched_only_above_the_urgent_threshold(
    tables: RoutingTables, point: tuple[float, float]
) -> None:
    assert tables.engine is not None
    r = route(incident("3号楼电梯困人了，里面有个老人，快来人", point), tables)
    assert r.urgent and r.explanation["urgency"]["urgent"]
    score = r.explanation["classification"]["candidates"][0]["score"]
    if r.outcome == "dispatch":
        assert score >= tables.engine.thresholds.urgent
    else:
        assert r.outcome == "manual" and "urgent" in r.explanation["why_manual"]


def test_every_decision_names_the_list_and_model_versions_and_explains_itself(
    tables: RoutingTables, point: tuple[float, float]
) -> None:
    r = route(incident("小区门口垃圾堆成山，好几天没人清运，臭气熏天", point), tables)
    assert r.model_version and r.explanation["model_version"] == r.model_version
    assert r.explanation["list_version"] == r.list_version
    classification = r.explanation["classification"]
    assert classification["method"] == "model+keywords"
    assert classification["candidates"][0]["matched_keywords"]
    assert classification["strongest_features"] and classification["nearest_examples"]


def test_a_polls_batch_routes_each_incident_as_it_would_alone(tables: RoutingTables) -> None:
    from bench.data import to_incident
    from simcity.incidents import generate_incidents

    incidents = [to_incident(inc, f"HL-BATCH{i:04d}")
                 for i, inc in enumerate(generate_incidents(generate_city(), 7, 120, AT))]
    alone = [route(incident, tables) for incident in incidents]
    together = route_many(incidents, tables)
    assert {r.outcome for r in together} >= {"dispatch", "manual"}
    assert [(r.outcome, r.item, r.assignment, r.urgent, r.explanation) for r in together] == \
        [(r.outcome, r.item, r.assignment, r.urgent, r.explanation) for r in alone]


def test_the_dispatch_rule_explains_why_a_text_was_dispatched(tables: RoutingTables,
                                                              point: tuple[float, float]) -> None:
    # An artefact whose dispatch rule shipped (the weights 2026.12-1+m7a1d0d4c03 served, threshold 0.755; the
    # served 2026.12-1+md0c1e3994b ships one too).
    rule = DispatchRule((0.818551, -0.402052, 1.250573, -0.05445, -0.168432, 0.132187, 0.163057, 0.164885), -0.882664)
    assert tables.engine is not None
    engine = replace(tables.engine, rule=rule, thresholds=replace(tables.engine.thresholds, dispatch=0.755))
    r = route(incident("小区门口垃圾堆成山，好几天没人清运，臭气熏天", point), replace(tables, engine=engine))
    judged = r.explanation["classification"]["dispatch_rule"]
    assert judged["contributions"] and judged["threshold"] == r.explanation["classification"]["threshold"] == 0.755
    assert (judged["probability"] >= judged["threshold"]) == (r.outcome == "dispatch")


def test_without_a_rule_the_department_probability_is_judged(tables: RoutingTables,
                                                             point: tuple[float, float]) -> None:
    """An artefact whose nested cross-validation did not ship the rule (2026.12-1+m63b1bc68a7, threshold 0.80)
    judges the department's probability against the threshold."""
    assert tables.engine is not None
    engine = replace(tables.engine, rule=None, thresholds=replace(tables.engine.thresholds, dispatch=0.80))
    for text in ("小区门口垃圾堆成山，好几天没人清运，臭气熏天", "楼下那家店天天放音乐到半夜", "路边有个东西"):
        explained = route(incident(text, point), replace(tables, engine=engine)).explanation["classification"]
        assert "dispatch_rule" not in explained
        assert explained["confident"] == (explained["department_score"] >= explained["threshold"])
