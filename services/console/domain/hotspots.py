"""主动治理 hotspots: the same item reported again and again in one place.

A hotspot is at least `min_cases` cases of one responsibility item within `radius_m` of a seed case,
opened within the window. Seeds are taken greedily, the densest first, and a case belongs to one
hotspot only, so counts never add up to more than the cases there are.

Cases the router located by a residential compound (小区) are grouped by that compound first: at least
`min_cases` of one item in one compound are a hotspot named by it, however the compound's cases are spread;
the cases left over (no compound, or too few in theirs) are then grouped by distance."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

EARTH_M = 6_371_000.0


@dataclass(frozen=True)
class Sighting:
    case_id: str
    item_code: str
    item_name: str | None
    lon: float
    lat: float
    grid_id: str | None
    street_id: str | None
    compound: str | None = None  # the residential compound (小区) the router located it by, if any


@dataclass(frozen=True)
class Hotspot:
    item_code: str
    item_name: str | None
    lon: float
    lat: float
    grid_id: str | None  # the grid most of its cases are in
    street_id: str | None
    case_ids: tuple[str, ...]
    compound: str | None = None  # set when its cases are grouped by their compound

    @property
    def count(self) -> int:
        return len(self.case_ids)


def distance_m(a: Sighting, b: Sighting) -> float:
    """Equirectangular distance: exact enough within a district."""
    mean_lat = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lon - a.lon) * math.cos(mean_lat)
    dy = math.radians(b.lat - a.lat)
    return EARTH_M * math.hypot(dx, dy)


def find_hotspots(sightings: Iterable[Sighting], radius_m: float, min_cases: int) -> list[Hotspot]:
    by_item: dict[str, list[Sighting]] = defaultdict(list)
    for s in sightings:
        by_item[s.item_code].append(s)
    found: list[Hotspot] = []
    for group in by_item.values():
        in_compounds, rest = _by_compound(group, min_cases)
        found.extend(in_compounds)
        found.extend(_clusters(rest, radius_m, min_cases))
    return sorted(found, key=lambda h: (-h.count, h.item_code, h.case_ids[0]))


def _by_compound(group: list[Sighting], min_cases: int) -> tuple[list[Hotspot], list[Sighting]]:
    """Hotspots of one item per compound with at least `min_cases`, and the sightings left for distance."""
    by_compound: dict[str, list[Sighting]] = defaultdict(list)
    for s in group:
        if s.compound:
            by_compound[s.compound].append(s)
    found = [replace(_hotspot(ms), compound=name) for name, ms in by_compound.items() if len(ms) >= min_cases]
    taken = {cid for h in found for cid in h.case_ids}
    return found, [s for s in group if s.case_id not in taken]


def _clusters(group: list[Sighting], radius_m: float, min_cases: int) -> list[Hotspot]:
    near = {s.case_id: [o for o in group if distance_m(s, o) <= radius_m] for s in group}
    taken: set[str] = set()
    out: list[Hotspot] = []
    while True:
        free = {cid: [m for m in ms if m.case_id not in taken] for cid, ms in near.items() if cid not in taken}
        if not free:
            return out
        seed = max(free, key=lambda cid: (len(free[cid]), cid))
        members = free[seed]
        if len(members) < min_cases:
            return out
        out.append(_hotspot(members))
        taken.update(m.case_id for m in members)


def _hotspot(members: list[Sighting]) -> Hotspot:
    grids = Counter(m.grid_id for m in members if m.grid_id)
    streets = Counter(m.street_id for m in members if m.street_id)
    return Hotspot(
        item_code=members[0].item_code, item_name=next((m.item_name for m in members if m.item_name), None),
        lon=sum(m.lon for m in members) / len(members), lat=sum(m.lat for m in members) / len(members),
        grid_id=grids.most_common(1)[0][0] if grids else None,
        street_id=streets.most_common(1)[0][0] if streets else None,
        case_ids=tuple(sorted(m.case_id for m in members)),
    )
