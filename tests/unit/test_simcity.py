"""Unit tests of the synthetic city 通江区 (simcity)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest
from shapely import STRtree
from shapely.geometry import Point, Polygon, box, shape
from shapely.ops import unary_union

from simcity.__main__ import main
from simcity.export import city_to_gazetteer, city_to_geojson, write_city
from simcity.generate import generate_city
from simcity.incidents import generate_incidents
from simcity.model import DEDICATED_UNIT_DEPARTMENT, City
from simcity.places import segment_point

CST = timezone(timedelta(hours=8))
START = datetime(2024, 5, 1, 8, 0, tzinfo=CST)


@cache
def city() -> City:
    return generate_city()


@cache
def polygons() -> tuple[Polygon, ...]:
    return tuple(Polygon(g.ring) for g in city().grids)


def test_deterministic() -> None:
    assert generate_city(824) == city()
    assert generate_city(7) == generate_city(7)
    assert generate_city(7) != city()


def test_counts() -> None:
    c = city()
    assert len(c.grids) == 824
    assert len(c.streets) == 16
    assert 90 <= len(c.communities) <= 110
    assert len(c.workers) == 824
    assert len({g.grid_id for g in c.grids}) == 824
    per_street = Counter(x.street_id for x in c.communities)
    assert all(4 <= n <= 9 for n in per_street.values())
    assert len(c.road_names()) >= 100
    assert len({x.name for x in c.compounds}) == len(c.compounds) > 300


def test_id_scheme_and_hierarchy() -> None:
    c = city()
    communities = {x.community_id: x for x in c.communities}
    streets = {s.street_id: s for s in c.streets}
    for g in c.grids:
        assert re.fullmatch(r"TJ-\d{2}-\d{2}-\d{3}", g.grid_id)
        assert g.grid_id.startswith(g.community_id + "-")
        assert communities[g.community_id].street_id == g.street_id
        assert streets[g.street_id].police_station == g.police_station
    workers = {w.worker_id: w for w in c.workers}
    assert {g.worker_id for g in c.grids} == set(workers)
    for g in c.grids:
        assert workers[g.worker_id].grid_id == g.grid_id
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", workers[g.worker_id].phone_masked)


def test_polygons_valid_and_centroids_inside() -> None:
    for g, poly in zip(city().grids, polygons(), strict=True):
        assert poly.is_valid and poly.area > 0
        assert poly.exterior.is_ccw
        assert poly.contains(Point(g.centroid_lon, g.centroid_lat))
        lon0, lat0, lon1, lat1 = poly.bounds
        assert 120.85 <= lon0 < lon1 <= 121.0 and 31.95 <= lat0 < lat1 <= 32.1


def test_no_overlap_and_tiling() -> None:
    polys = polygons()
    tree = STRtree(polys)
    for i, p in enumerate(polys):
        for j in tree.query(p):
            if j != i:
                assert p.intersection(polys[int(j)]).area < 1e-12, (i, int(j))
    district = box(*city().bbox)
    assert sum(p.area for p in polys) == pytest.approx(district.area, rel=1e-9)


@pytest.mark.parametrize("level", ["street_id", "community_id"])
def test_blocks_contiguous(level: str) -> None:
    groups: dict[str, list[Polygon]] = {}
    for g, p in zip(city().grids, polygons(), strict=True):
        groups.setdefault(getattr(g, level), []).append(p)
    for members in groups.values():
        union = unary_union(members)
        assert union.geom_type == "Polygon"
        assert union.area == pytest.approx(box(*union.bounds).area, rel=1e-9)


def test_dedicated_grids() -> None:
    grids = city().grids
    dedicated = [g for g in grids if g.kind == "dedicated"]
    assert 0.12 <= len(dedicated) / len(grids) <= 0.18
    assert {g.dedicated_type for g in dedicated} == set(DEDICATED_UNIT_DEPARTMENT)
    units = [g.unit for g in dedicated]
    assert all(units) and len(set(units)) == len(units)
    for g in dedicated:
        assert g.dedicated_type is not None
        assert g.unit_department == DEDICATED_UNIT_DEPARTMENT[g.dedicated_type]
    for g in grids:
        if g.kind == "comprehensive":
            assert g.dedicated_type is None and g.unit is None and g.unit_department is None


def test_road_ranges_resolve_to_grids() -> None:
    c = city()
    by_id = {g.grid_id: p for g, p in zip(c.grids, polygons(), strict=True)}
    last: dict[str, int] = {}
    for s in c.road_segments:
        assert s.grid_id in by_id
        assert s.from_no <= s.to_no
        assert s.from_no == last.get(s.road, 0) + 1  # contiguous, non-overlapping numbers
        last[s.road] = s.to_no
        for no in (s.from_no, (s.from_no + s.to_no) // 2, s.to_no):
            assert by_id[s.grid_id].contains(Point(segment_point(s, no)))
    assert all(len([s for s in c.road_segments if s.road == r]) >= 2 for r in c.road_names())


def test_compounds_inside_their_grid() -> None:
    by_id = {g.grid_id: p for g, p in zip(city().grids, polygons(), strict=True)}
    for cp in city().compounds:
        assert by_id[cp.grid_id].contains(Point(cp.lon, cp.lat))


def test_departments_match_directory() -> None:
    codes = {d.code: d.kind for d in city().departments}
    assert codes["CENTER"] == "centre" and codes["POWER"] == "utility" and codes["HEALTH"] == "department"
    assert len(codes) == 30
    assert set(DEDICATED_UNIT_DEPARTMENT.values()) <= set(codes)


def test_geojson_and_gazetteer() -> None:
    fc = city_to_geojson(city())
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 824
    f = fc["features"][0]
    assert shape(f["geometry"]).is_valid
    assert f["properties"]["grid_id"] == f["id"]
    json.dumps(fc, ensure_ascii=False)
    gaz = city_to_gazetteer(city())
    assert len(gaz["roads"]) == len(city().road_names())
    assert len(gaz["units"]) == sum(g.kind == "dedicated" for g in city().grids)


def test_write_city_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_city(city(), tmp_path / "a")
    assert main(["write", str(tmp_path / "b")]) == 0
    for name in ("grids.geojson", "gazetteer.json", "directory.json"):
        a = (tmp_path / "a" / name).read_bytes()
        assert a == (tmp_path / "b" / name).read_bytes()
        json.loads(a)
    directory = json.loads((tmp_path / "a" / "directory.json").read_text(encoding="utf-8"))
    assert len(directory["workers"]) == 824
    assert main(["summary"]) == 0
    assert "824" in capsys.readouterr().out


def test_incidents() -> None:
    c = city()
    polys = {g.grid_id: p for g, p in zip(c.grids, polygons(), strict=True)}
    incidents = generate_incidents(c, 1, 1500, START)
    assert incidents == generate_incidents(c, 1, 1500, START)
    assert incidents != generate_incidents(c, 2, 1500, START)
    assert len({i.natural_id for i in incidents}) == len(incidents)
    assert {i.channel for i in incidents} == {"hotline", "grid", "wechat"}
    assert len({i.true_kind for i in incidents}) >= 25
    times = [i.reported_at for i in incidents]
    assert times == sorted(times) and times[0] >= START
    modes = Counter((i.address is not None, i.lon is not None) for i in incidents)
    assert modes[(True, False)] and modes[(False, True)] and modes[(True, True)]
    assert not modes[(False, False)]
    for i in incidents:
        assert i.text and "{" not in i.text
        assert (i.appeal_type is not None) == (i.channel == "hotline")
        assert (i.grid_id is not None) == (i.channel == "grid")
        if i.grid_id is not None:
            assert i.grid_id == i.true_grid_id
        if i.lon is not None and i.lat is not None:
            assert polys[i.true_grid_id].contains(Point(i.lon, i.lat))


def test_incident_addresses_resolve_through_gazetteer() -> None:
    gaz = city_to_gazetteer(city())
    roads = {r["name"]: r["segments"] for r in gaz["roads"]}
    places = {c["name"]: c["grid_id"] for c in gaz["compounds"]}
    places.update({u["name"]: u["grid_id"] for u in gaz["units"]})
    road_re = re.compile("(" + "|".join(map(re.escape, sorted(roads, key=len, reverse=True))) + r")(\d+)号")
    checked = 0
    for i in generate_incidents(city(), 3, 800, START):
        if i.address is None:
            continue
        m = road_re.search(i.address)
        if m:
            no = int(m.group(2))
            grids = [s["grid_id"] for s in roads[m.group(1)] if s["from_no"] <= no <= s["to_no"]]
        else:
            longest = max((n for n in places if n in i.address), key=len)  # longest match wins
            grids = [places[longest]]
        assert grids == [i.true_grid_id], i.address
        checked += 1
    assert checked > 400
