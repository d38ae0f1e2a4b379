"""The router's pure core, no I/O: route(), the classifier, and locating a point (STRtree vs naive scan).

The unit of work is parsing the incident JSON (`IncidentReported.model_validate_json`), which every
consumer does for every record anyway: "route costs N parses" means much the same on any machine.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import Point, Polygon, shape

from bench.data import synthetic, to_incident
from bench.timing import Rate, Ratio, interleaved, share
from schemas.incident import IncidentReported
from services.router.domain.conditions import ClassifyContext, DedicatedType, GridKind
from services.router.domain.decide import LOCAL_TZ, RoutingTables, locate, route, route_many
from services.router.settings import RouterSettings
from services.router.tables import load_gazetteer, load_tables

ROUTE_RATE = "route() decision"
POLL_BATCH = 100  # route_many() takes a poll's incidents at a time


@dataclass(frozen=True)
class CoreSizes:
    incidents: int = 3000
    naive_points: int = 300  # the naive scan is slow: a sample of the points is enough for a rate
    repetitions: int = 7
    slices: int = 30  # each repetition takes turns between the works in this many slices


class NaiveLocator:
    """What the STRtree replaces: test every grid polygon in turn, first hit wins."""

    def __init__(self, grids_geojson: dict[str, Any]) -> None:
        features = grids_geojson["features"]
        self.polygons: list[tuple[str, Polygon]] = [
            (f["properties"]["grid_id"], shape(f["geometry"])) for f in features
        ]

    def grid_at(self, lon: float, lat: float) -> str | None:
        point = Point(lon, lat)
        for grid_id, polygon in self.polygons:
            if polygon.contains(point):
                return grid_id
        return None


def _context(incident: IncidentReported, tables: RoutingTables) -> ClassifyContext:
    """The classifier's conditions as route() builds them (kept outside the timed classifier loop)."""
    place = locate(incident, tables.gazetteer)
    return ClassifyContext(
        channel=incident.channel,
        grid_kind=GridKind(place.kind) if place and place.kind else None,
        dedicated_type=DedicatedType(place.dedicated_type) if place and place.dedicated_type else None,
        urgency=incident.urgency,
        local_time=incident.reported_at.astimezone(LOCAL_TZ).time(),
    )


def run(city_dir: Path, sizes: CoreSizes) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    tables = load_tables(RouterSettings(city_dir=city_dir), load_gazetteer(city_dir))
    incidents = [to_incident(inc, f"HL-BENCH{i:06d}") for i, inc in enumerate(synthetic(sizes.incidents))]
    raw = [inc.model_dump_json().encode() for inc in incidents]
    pairs = [(inc, _context(inc, tables)) for inc in incidents]
    points = [(inc.location.point.lon, inc.location.point.lat) for inc in incidents if inc.location.point]
    naive = NaiveLocator(json.loads((city_dir / "grids.geojson").read_text()))
    gazetteer, classifier, threshold = tables.gazetteer, tables.classifier, tables.confidence_threshold
    sample = points[: sizes.naive_points]

    mismatches = sum(
        1 for lon, lat in sample
        if naive.grid_at(lon, lat) != ((p := gazetteer.at_point(lon, lat)) and p.grid_id)
    )
    outcomes = Counter(route(inc, tables).outcome for inc in incidents)

    def parse(i: int, k: int) -> int:
        part = share(raw, i, k)
        for body in part:
            IncidentReported.model_validate_json(body)
        return len(part)

    def decide(i: int, k: int) -> int:
        part = share(incidents, i, k)
        for inc in part:
            route(inc, tables)
        return len(part)

    def decide_batch(i: int, k: int) -> int:
        part = share(incidents, i, k)
        for start in range(0, len(part), POLL_BATCH):
            route_many(part[start:start + POLL_BATCH], tables)
        return len(part)

    def classify(i: int, k: int) -> int:
        part = share(pairs, i, k)
        for inc, ctx in part:
            classifier.decide(inc.text, inc.category_hint or inc.category_code, ctx, threshold)
        return len(part)

    engine = tables.engine

    def ensemble(i: int, k: int) -> int:
        part = share(pairs, i, k)
        assert engine is not None
        for inc, ctx in part:
            engine.ensemble.assess(inc.text, inc.category_hint or inc.category_code, ctx, threshold)
        return len(part)

    def strtree(i: int, k: int) -> int:
        part = share(points, i, k)
        for lon, lat in part:
            gazetteer.at_point(lon, lat)
        return len(part)

    def scan(i: int, k: int) -> int:
        part = share(sample, i, k)
        for lon, lat in part:
            naive.grid_at(lon, lat)
        return len(part)

    s_parse, s_route, s_batch, s_classify, s_ensemble, s_tree, s_scan = interleaved(
        [parse, decide, decide_batch, classify, ensemble, strtree, scan], repetitions=sizes.repetitions,
        slices=sizes.slices,
    )
    n = len(incidents)
    parsed = Rate("parse IncidentReported JSON", "incidents", s_parse, n, "model_validate_json (baseline)")
    routed = Rate(ROUTE_RATE, "decisions", s_route, n,
                  f"locate + model ensemble + urgency + knowledge + dispatch, pure (model {tables.model_version})")
    batched = Rate("route_many() decision", "decisions", s_batch, n,
                   f"the same decisions, {POLL_BATCH} incidents a call (a poll)")
    classified = Rate("keyword classifier.decide", "classifications", s_classify, n, "free text → item, keywords only")
    combined = Rate("model + keywords ensemble", "classifications", s_ensemble, n,
                    "features, linear model, keywords, conditions, calibration")
    tree = Rate("locate point: STRtree", "points", s_tree, len(points), "Gazetteer.at_point")
    scanned = Rate("locate point: naive scan", "points", s_scan, len(sample),
                   f"{len(naive.polygons)} polygons, shapely contains (baseline)")
    ratios = [
        Ratio("route / parse", routed, parsed, "fraction of parse speed; 1/ratio = route costs that many parses"),
        Ratio("route_many / parse", batched, parsed, "fraction of parse speed"),
        Ratio("route_many / route", batched, routed, "speed-up of the batch path"),
        Ratio("keyword classify / parse", classified, parsed, "fraction of parse speed"),
        Ratio("model ensemble / parse", combined, parsed, "fraction of parse speed"),
        Ratio("STRtree / naive scan", tree, scanned, "speed-up of the spatial index"),
    ]
    facts = {"incidents": n, "points": len(points), "outcomes": dict(outcomes), "model_version": tables.model_version,
             "naive_vs_strtree_mismatches": mismatches, "naive_sample": len(sample)}
    return [parsed, routed, batched, classified, combined, tree, scanned], ratios, facts
