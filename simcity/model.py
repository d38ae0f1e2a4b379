"""Frozen pydantic models of the synthetic city (通江区 Tongjiang District).

Identifier scheme (stable for a given seed):
- street     ``TJ-<ss>``               e.g. ``TJ-03``
- community  ``TJ-<ss>-<cc>``          e.g. ``TJ-03-05``
- grid       ``TJ-<ss>-<cc>-<ggg>``    e.g. ``TJ-03-05-007``
- worker     ``GW<nnnn>``              e.g. ``GW0123`` (one per grid, numbered in grid order)
- compound   ``CP<nnnn>``; police station ``PS-<ss>``
Coordinates are WGS84 longitude/latitude degrees rounded to 6 decimals.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

GridKind = Literal["comprehensive", "dedicated"]
DedicatedType = Literal["school", "hospital", "industrial_park", "river_section", "market", "scenic_area"]
DepartmentKind = Literal["department", "utility", "centre"]
CommunityKind = Literal["community", "village"]
Orientation = Literal["east_west", "north_south"]

Point = tuple[float, float]
BBox = tuple[float, float, float, float]
"""(min_lon, min_lat, max_lon, max_lat)"""

DEDICATED_UNIT_DEPARTMENT: dict[str, str] = {
    "hospital": "HEALTH",
    "school": "EDUCATION",
    "industrial_park": "EMERGENCY",
    "river_section": "WATER",
    "market": "MARKET",
    "scenic_area": "CULTURE",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Department(Frozen):
    code: str
    name: str
    name_en: str
    kind: DepartmentKind


class Street(Frozen):
    street_id: str
    name: str
    centre: str
    police_station_id: str
    police_station: str
    bbox: BBox


class Community(Frozen):
    community_id: str
    street_id: str
    name: str
    kind: CommunityKind
    bbox: BBox


class Grid(Frozen):
    grid_id: str
    name: str
    street_id: str
    community_id: str
    kind: GridKind
    dedicated_type: DedicatedType | None = None
    unit: str | None = None
    unit_department: str | None = None
    police_station_id: str
    police_station: str
    worker_id: str
    centroid_lon: float
    centroid_lat: float
    ring: tuple[Point, ...]
    """Closed exterior ring, counter-clockwise, first point repeated last."""

    @property
    def bbox(self) -> BBox:
        lons = [p[0] for p in self.ring]
        lats = [p[1] for p in self.ring]
        return (min(lons), min(lats), max(lons), max(lats))


class GridWorker(Frozen):
    worker_id: str
    name: str
    phone_masked: str
    grid_id: str
    community_id: str
    street_id: str


class RoadSegment(Frozen):
    """The part of a named road inside one grid, with its house-number range (inclusive)."""

    road: str
    orientation: Orientation
    from_no: int
    to_no: int
    grid_id: str
    start: Point
    """Where house number ``from_no`` stands."""
    end: Point
    """Where house number ``to_no`` stands."""


class Compound(Frozen):
    """A residential compound (小区) lying wholly inside one grid."""

    compound_id: str
    name: str
    grid_id: str
    community_id: str
    street_id: str
    buildings: int
    lon: float
    lat: float


class City(Frozen):
    version: str
    seed: int
    district: str
    district_en: str
    centre: str
    bbox: BBox
    departments: tuple[Department, ...]
    streets: tuple[Street, ...]
    communities: tuple[Community, ...]
    grids: tuple[Grid, ...]
    workers: tuple[GridWorker, ...]
    road_segments: tuple[RoadSegment, ...]
    compounds: tuple[Compound, ...]

    def grid(self, grid_id: str) -> Grid:
        for g in self.grids:
            if g.grid_id == grid_id:
                return g
        raise KeyError(grid_id)

    def road_names(self) -> list[str]:
        return list(dict.fromkeys(s.road for s in self.road_segments))
