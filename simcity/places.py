"""Pick concrete places (a road address, a compound building, a unit) for synthetic incidents."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from simcity.kinds import Where
from simcity.layout import r6
from simcity.model import City, Grid, Point, RoadSegment
from simcity.names import DISTRICT

INSET = 1e-5  # degrees kept clear of grid edges for generated points


@dataclass(frozen=True)
class Place:
    grid: Grid
    loc: str
    """Place phrase used inside the text, e.g. "人民东路128号", "阳光花园3幢"."""
    address: str
    """Address as a caller or operator would write it."""
    point: Point
    road: str


def segment_point(seg: RoadSegment, number: int) -> Point:
    """Where ``number`` stands on ``seg``: linear interpolation, strictly inside the segment."""
    t = (number - seg.from_no + 0.5) / (seg.to_no - seg.from_no + 1)
    (x0, y0), (x1, y1) = seg.start, seg.end
    return (r6(x0 + (x1 - x0) * t), r6(y0 + (y1 - y0) * t))


def _clamp_inside(grid: Grid, lon: float, lat: float) -> Point:
    x0, y0, x1, y1 = grid.bbox
    return (r6(min(max(lon, x0 + INSET), x1 - INSET)), r6(min(max(lat, y0 + INSET), y1 - INSET)))


class Places:
    def __init__(self, city: City) -> None:
        self.grids = {g.grid_id: g for g in city.grids}
        self.street_names = {s.street_id: s.name for s in city.streets}
        self.community_names = {c.community_id: c.name for c in city.communities}
        self.segments = city.road_segments
        self.compounds = city.compounds
        self.by_grid: dict[str, list[RoadSegment]] = defaultdict(list)
        for s in self.segments:
            self.by_grid[s.grid_id].append(s)
        self.dedicated: dict[str, list[Grid]] = defaultdict(list)
        for g in city.grids:
            if g.dedicated_type:
                self.dedicated[g.dedicated_type].append(g)
        self._near: dict[str, str] = {}

    def available(self, where: Where) -> bool:
        if where == "road":
            return bool(self.segments)
        if where == "compound":
            return bool(self.compounds)
        return bool(self.dedicated.get(where))

    def nearest_road(self, grid: Grid) -> str:
        """A road in the grid, or the one passing closest to its centroid."""
        if grid.grid_id not in self._near:
            own = self.by_grid.get(grid.grid_id)
            if own:
                self._near[grid.grid_id] = own[0].road
            else:
                def dist(s: RoadSegment) -> float:
                    mx, my = (s.start[0] + s.end[0]) / 2, (s.start[1] + s.end[1]) / 2
                    return (mx - grid.centroid_lon) ** 2 + (my - grid.centroid_lat) ** 2
                self._near[grid.grid_id] = min(self.segments, key=dist).road
        return self._near[grid.grid_id]

    def pick(self, where: Where, rng: random.Random) -> Place:
        if where == "road":
            return self._road(rng)
        if where == "compound":
            return self._compound(rng)
        return self._unit(rng.choice(self.dedicated[where]), rng)

    def _road(self, rng: random.Random) -> Place:
        seg = rng.choice(self.segments)
        no = rng.randint(seg.from_no, seg.to_no)
        grid = self.grids[seg.grid_id]
        street = self.street_names[grid.street_id]
        loc = f"{seg.road}{no}号"
        address = rng.choice((f"{DISTRICT}{street}{loc}", loc, f"{street}{loc}附近", f"{DISTRICT}{loc}门口"))
        return Place(grid, loc, address, segment_point(seg, no), seg.road)

    def _compound(self, rng: random.Random) -> Place:
        cp = rng.choice(self.compounds)
        grid = self.grids[cp.grid_id]
        b = rng.randint(1, cp.buildings)
        loc = f"{cp.name}{b}幢"
        street, community = self.street_names[cp.street_id], self.community_names[cp.community_id]
        room = f"{rng.randint(1, 3)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
        address = rng.choice((
            loc, f"{DISTRICT}{street}{community}{loc}", f"{loc}{room}",
            f"{cp.name}{b}号楼", f"{street}{cp.name}",
        ))
        point = _clamp_inside(grid, cp.lon + rng.uniform(-4e-4, 4e-4), cp.lat + rng.uniform(-3e-4, 3e-4))
        return Place(grid, loc, address, point, self.nearest_road(grid))

    def _unit(self, grid: Grid, rng: random.Random) -> Place:
        unit = grid.unit or grid.name
        full = unit if unit.startswith(DISTRICT) else f"{DISTRICT}{unit}"
        address = rng.choice((unit, f"{unit}门口", full))
        x0, y0, x1, y1 = grid.bbox
        lon, lat = x0 + (x1 - x0) * rng.uniform(0.15, 0.85), y0 + (y1 - y0) * rng.uniform(0.15, 0.85)
        point = _clamp_inside(grid, lon, lat)
        return Place(grid, unit, address, point, self.nearest_road(grid))
