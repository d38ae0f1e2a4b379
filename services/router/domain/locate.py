"""Locate an incident: GPS point → grid (point-in-polygon over an STRtree), address text → grid through
the gazetteer (road + house number, residential compound, dedicated unit, community/street names).

Built once from the files the city publishes (grids.geojson, gazetteer.json); lookups are pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shapely import STRtree
from shapely.geometry import Point, shape


@dataclass(frozen=True, slots=True)
class Place:
    """Where an incident is, as far as it could be told."""

    method: str  # point | road | compound | unit | reported_grid | community | street
    detail: str
    grid_id: str | None
    community_id: str | None
    street_id: str | None
    kind: str | None = None  # comprehensive | dedicated
    dedicated_type: str | None = None
    unit: str | None = None
    unit_department: str | None = None
    worker_id: str | None = None
    lon: float | None = None
    lat: float | None = None


class Gazetteer:
    def __init__(self, grids_geojson: dict[str, Any], gazetteer: dict[str, Any]) -> None:
        features = grids_geojson["features"]
        self.version = str(grids_geojson.get("version", "unknown"))
        self._props: list[dict[str, Any]] = [f["properties"] for f in features]
        self._by_grid = {p["grid_id"]: p for p in self._props}
        self._tree = STRtree([shape(f["geometry"]) for f in features])
        self._roads = {r["name"]: r["segments"] for r in gazetteer["roads"]}
        self._compounds = {c["name"]: c for c in gazetteer["compounds"]}
        self._units = {u["name"]: u for u in gazetteer.get("units", [])}
        self._communities = {c["name"]: c for c in gazetteer["communities"]}
        self._streets = {s["name"]: s for s in gazetteer["streets"]}
        self._road_re = _alternation(self._roads, r"\s*(\d{1,5})\s*号")
        self._landmarks = {**{n: ("compound", c) for n, c in self._compounds.items()},
                           **{n: ("unit", u) for n, u in self._units.items()}}
        self._landmark_re = _alternation(self._landmarks)
        self._community_re = _alternation(self._communities)
        self._street_re = _alternation(self._streets)

    def grid(self, grid_id: str) -> dict[str, Any] | None:
        return self._by_grid.get(grid_id)

    def at_point(self, lon: float, lat: float) -> Place | None:
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        props = self._props[int(min(hits))]  # on a shared edge: the lowest index, deterministically
        return self._place(props, "point", f"({lon:.6f}, {lat:.6f}) in {props['grid_id']}", lon, lat)

    def at_grid(self, grid_id: str, lon: float | None = None, lat: float | None = None) -> Place | None:
        props = self._by_grid.get(grid_id)
        return self._place(props, "reported_grid", f"reported grid {grid_id}", lon, lat) if props else None

    def at_address(self, text: str) -> Place | None:
        """The most precise match wins: road+number, compound, unit, then community or street only."""
        if self._road_re and (m := self._road_re.search(text)):
            found = self._on_road(m.group(1), int(m.group(2)))
            if found:
                return found
        if self._landmark_re and (m := self._landmark_re.search(text)):  # longest name wins
            method, entry = self._landmarks[m.group(1)]
            props = self._by_grid[entry["grid_id"]]
            return self._place(props, method, m.group(1), entry.get("lon"), entry.get("lat"))
        if self._community_re and (m := self._community_re.search(text)):
            c = self._communities[m.group(1)]
            return Place("community", m.group(1), None, c["community_id"], c["street_id"])
        if self._street_re and (m := self._street_re.search(text)):
            s = self._streets[m.group(1)]
            return Place("street", m.group(1), None, None, s["street_id"])
        return None

    def _on_road(self, road: str, number: int) -> Place | None:
        for seg in self._roads[road]:
            if seg["from_no"] <= number <= seg["to_no"]:
                t = (number - seg["from_no"] + 0.5) / (seg["to_no"] - seg["from_no"] + 1)
                lon = seg["start"][0] + t * (seg["end"][0] - seg["start"][0])
                lat = seg["start"][1] + t * (seg["end"][1] - seg["start"][1])
                props = self._by_grid[seg["grid_id"]]
                return self._place(props, "road", f"{road}{number}号", lon, lat)
        return None

    @staticmethod
    def _place(props: dict[str, Any], method: str, detail: str, lon: float | None, lat: float | None) -> Place:
        return Place(
            method=method, detail=detail, grid_id=props["grid_id"], community_id=props["community_id"],
            street_id=props["street_id"], kind=props.get("kind"), dedicated_type=props.get("dedicated_type"),
            unit=props.get("unit"), unit_department=props.get("unit_department"), worker_id=props.get("worker_id"),
            lon=lon if lon is not None else props.get("centroid_lon"),
            lat=lat if lat is not None else props.get("centroid_lat"),
        )


def _alternation(names: dict[str, Any], suffix: str = "") -> re.Pattern[str] | None:
    if not names:
        return None
    ordered = sorted(names, key=len, reverse=True)  # longest first: 人民东路 before 人民路
    return re.compile("(" + "|".join(map(re.escape, ordered)) + ")" + suffix)
