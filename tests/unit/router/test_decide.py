"""Routing decisions on the synthetic city, without I/O: locate, classify, owner and level, explanation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.case import Assignment, CaseState
from schemas.common import Channel, GeoPoint, Level
from schemas.incident import IncidentReported, Location, OnTheSpot, Reporter
from services.router.domain.case import Case
from services.router.domain.centre import CentreDispatch, centre_dispatch
from services.router.domain.classify import Classifier
from services.router.domain.decide import RoutingTables, escalate, route
from services.router.domain.duplicates import DuplicatePolicy, find_duplicate
from services.router.domain.locate import Gazetteer
from services.router.domain.responsibility import ResponsibilityList
from simcity.export import city_to_gazetteer, city_to_geojson
from simcity.generate import generate_city

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture(scope="module")
def city() -> dict[str, object]:
    c = generate_city()
    return {"geojson": city_to_geojson(c), "gazetteer": city_to_gazetteer(c)}


@pytest.fixture(scope="module")
def tables(city: dict[str, object], repo_list: ResponsibilityList, classifier: Classifier) -> RoutingTables:
    return RoutingTables(repo_list, classifier, Gazetteer(city["geojson"], city["gazetteer"]))  # type: ignore[arg-type]


def grids(city: dict[str, object], kind: str) -> list[dict[str, object]]:
    return [f["properties"] for f in city["geojson"]["features"] if f["properties"]["kind"] == kind]  # type: ignore[index]


def incident(text: str, point: tuple[float, float] | None = None, address: str | None = None,
             **kw: object) -> IncidentReported:
    return IncidentReported(
        incident_id="HL-1", channel=kw.pop("channel", Channel.HOTLINE), source_id="1",
        reporter=Reporter(kind="citizen"), text=text,
        location=Location(point=GeoPoint(lon=point[0], lat=point[1]) if point else None, address=address),
        reported_at=AT, received_at=AT, **kw,  # type: ignore[arg-type]
    )


def test_point_in_a_grid_routes_trivial_matters_to_the_grid_itself(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = grids(city, "comprehensive")[10]
    r = route(incident("楼下垃圾乱堆乱放好几天了", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    assert r.outcome == "dispatch"
    assert r.assignment is not None and r.assignment.owner == "GRID" and r.assignment.owner_unit == g["grid_id"]
    assert r.explanation["location"]["method"] == "point"
    assert r.explanation["classification"]["candidates"][0]["matched_keywords"]


def test_road_and_house_number_locate_through_the_gazetteer(
    city: dict[str, object], tables: RoutingTables
) -> None:
    road = city["gazetteer"]["roads"][0]  # type: ignore[index]
    seg = road["segments"][1]
    r = route(incident("门口井盖破损了很危险", address=f"{road['name']}{seg['from_no']}号"), tables)
    assert r.place is not None and r.place.grid_id == seg["grid_id"] and r.place.method == "road"


def test_dedicated_grid_sends_a_locational_item_to_its_unit_first(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = next(p for p in grids(city, "dedicated") if p["dedicated_type"] == "school")
    r = route(incident("楼道里杂物乱堆乱放", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    assert r.assignment is not None and r.assignment.owner == g["unit_department"]
    assert r.candidates and r.candidates[0] in {"GRID", "COMMUNITY", "STREET"}


def test_unlocatable_or_unclear_incidents_go_to_the_manual_queue(tables: RoutingTables) -> None:
    assert route(incident("井盖坏了", address="不知道哪里"), tables).outcome == "manual"
    assert route(incident("你好，我想问一下", address="不知道哪里"), tables).outcome == "manual"


def test_grid_report_with_a_category_code_skips_classification(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = grids(city, "comprehensive")[3]
    inc = incident("已清理", (g["centroid_lon"], g["centroid_lat"]), channel=Channel.GRID,  # type: ignore[arg-type]
                   category_code="A01.006", on_the_spot=OnTheSpot(handled=True))
    r = route(inc, tables)
    assert r.item is not None and r.item.code == "A01.006" and r.outcome == "on_the_spot"


def test_escalation_climbs_the_ladder_and_the_centre_takes_district_level() -> None:
    a = Assignment(owner="GRID", owner_unit="G1", level=Level.GRID, grid_id="G1", community_id="C1", street_id="S1")
    ladder = (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.SUPERVISION)
    up1 = escalate(a, ladder)
    assert up1 is not None and (up1.owner, up1.owner_unit, up1.level) == ("COMMUNITY", "C1", Level.COMMUNITY)
    up2 = escalate(up1, ladder)
    assert up2 is not None and (up2.owner, up2.owner_unit) == ("STREET", "S1")
    up3 = escalate(up2, ladder)
    assert up3 is not None and up3.owner == "CENTER" and up3.level is Level.DISTRICT
    top = escalate(Assignment(owner="URBAN_MGMT", level=Level.SUPERVISION), (Level.SUPERVISION,))
    assert top is None


def test_duplicates_are_same_item_within_radius(city: dict[str, object], tables: RoutingTables) -> None:
    g = grids(city, "comprehensive")[20]
    r = route(incident("门口井盖破损了很危险", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    assert r.assignment is not None

    def open_case(dlon: float, item: str = r.assignment.item_code or "") -> Case:  # type: ignore[union-attr]
        return Case(case_id=f"C-{dlon}", incident_id="x", channel=Channel.HOTLINE, state=CaseState.DISPATCHED,
                    text="", urgency="normal", citizen=True, opened_at=AT - timedelta(hours=1), updated_at=AT,
                    assignment=r.assignment.model_copy(update={"item_code": item}),  # type: ignore[union-attr]
                    lon=g["centroid_lon"] + dlon, lat=g["centroid_lat"])  # type: ignore[operator]

    policy = DuplicatePolicy(radius_m=150)
    near, far, other = open_case(0.0005), open_case(0.01), open_case(0.0, item="A01.001")
    found = find_duplicate(r, [far, other, near], policy)
    assert found is not None and found[0] is near and 40 < found[1] < 60
    assert find_duplicate(r, [far, other], policy) is None


# The centre's hand dispatch and arbitration go through the same assignment as the router's (STYLE §22)


def test_a_case_queued_for_the_centre_keeps_the_place_it_was_located_in(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = grids(city, "comprehensive")[5]
    r = route(incident("你好，我想问一下", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    assert r.outcome == "manual" and r.assignment is not None
    assert (r.assignment.owner, r.assignment.grid_id) == ("CENTER", g["grid_id"])
    assert (r.assignment.community_id, r.assignment.street_id) == (g["community_id"], g["street_id"])
    assert r.deadlines is None  # the centre's queue has no owner's limits yet


def test_hand_dispatch_by_item_code_gets_the_items_owner_unit_limits_and_ladder(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = grids(city, "comprehensive")[5]
    queued = route(incident("你好，我想问一下", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    decided = centre_dispatch("A01.001", queued.assignment, tables)
    assert isinstance(decided, CentreDispatch) and not decided.by_default
    a, d = decided.dispatch.assignment, decided.dispatch.deadlines
    assert (a.owner, a.owner_unit, a.level, a.item_code) == ("GRID", g["grid_id"], Level.GRID, "A01.001")
    assert (d.accept_within, d.handle_within, d.clock) == ("30m", "1d", "natural")
    assert d.escalation == (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.SUPERVISION)
    assert d.rung_limits == {Level.COMMUNITY: "12h", Level.STREET: "1d", Level.DISTRICT: "2d",
                             Level.SUPERVISION: "3d"}  # each rung of the item's ladder with its own limit


def test_hand_dispatch_to_a_department_maps_to_its_default_item(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = grids(city, "comprehensive")[5]
    queued = route(incident("你好，我想问一下", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    decided = centre_dispatch("HOUSING", queued.assignment, tables)
    assert isinstance(decided, CentreDispatch) and decided.by_default
    default = tables.responsibility_list.default_item("HOUSING")
    assert default is not None and decided.item == default
    a = decided.dispatch.assignment
    assert (a.owner, a.item_code, a.grid_id, a.street_id) == ("HOUSING", default.code, g["grid_id"], g["street_id"])
    assert decided.dispatch.deadlines.handle_within == str(default.deadlines.handle)


def test_arbitration_to_another_item_takes_that_items_limits_and_ladder(
    city: dict[str, object], tables: RoutingTables
) -> None:
    g = grids(city, "comprehensive")[6]
    first = route(incident("楼下垃圾乱堆乱放好几天了", (g["centroid_lon"], g["centroid_lat"])), tables)  # type: ignore[arg-type]
    assert first.deadlines is not None and first.deadlines.escalation[0] is Level.COMMUNITY
    decided = centre_dispatch("A01.007", first.assignment, tables)  # 建筑垃圾: the district's, working days
    assert isinstance(decided, CentreDispatch)
    d = decided.dispatch.deadlines
    assert (d.accept_within, d.handle_within, d.clock, d.escalation) == ("4h", "3wd", "working", (Level.SUPERVISION,))
    assert decided.dispatch.assignment.grid_id == g["grid_id"]


def test_hand_dispatch_is_refused_for_an_unknown_target_or_a_place_that_names_no_owner(
    tables: RoutingTables,
) -> None:
    assert "neither an item code nor a department" in str(centre_dispatch("NOBODY", None, tables))
    unlocated = route(incident("你好，我想问一下", address="不知道哪里"), tables)
    assert "no place" in str(centre_dispatch("A01.001", unlocated.assignment, tables))  # a GRID item
    decided = centre_dispatch("URBAN_MGMT", unlocated.assignment, tables)  # a department needs no grid
    assert isinstance(decided, CentreDispatch) and decided.dispatch.assignment.owner == "URBAN_MGMT"
