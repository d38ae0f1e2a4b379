"""Gazetteer geometry: straight roads crossing grids with house-number ranges, and compounds (小区)."""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence

from simcity.layout import M_PER_DEG_LAT, M_PER_DEG_LON, r6
from simcity.model import BBox, Compound, Grid, Orientation, RoadSegment
from simcity.names import (
    COMPOUND_PREFIXES,
    COMPOUND_SUFFIXES,
    EW_VARIANTS,
    NS_VARIANTS,
    ROAD_BASES_EW,
    ROAD_BASES_NS,
    ROAD_SUFFIXES,
)

TARGET_ROADS = 120
METRES_PER_NUMBER = 8.0  # one house number (either side of the road) every ~8 m
MIN_SEGMENT_M = 40.0
EDGE_CLEARANCE = 3e-5  # degrees a road keeps off any grid edge, so its points are strictly inside
ROAD_SPACING = 0.0018  # degrees between parallel roads (~200 m)


def _clear_position(lo: float, hi: float, edges: list[float], used: list[float], rng: random.Random) -> float:
    for attempt in range(400):
        v = r6(rng.uniform(lo, hi))
        i = bisect.bisect_left(edges, v)
        near_edge = any(abs(edges[j] - v) < EDGE_CLEARANCE for j in (i - 1, i) if 0 <= j < len(edges))
        crowded = attempt < 200 and any(abs(u - v) < ROAD_SPACING for u in used)
        if not near_edge and not crowded:
            return v
    raise RuntimeError("no clear road position")  # pragma: no cover


def _segments(name: str, ori: Orientation, pos: float, a: float, b: float,
              boxes: Sequence[tuple[str, BBox]]) -> list[RoadSegment]:
    """Segments of the road ``name`` on the line ``pos`` from ``a`` to ``b`` (west→east / south→north)."""
    hits: list[tuple[float, float, str]] = []
    for gid, (x0, y0, x1, y1) in boxes:
        lo, hi, across_lo, across_hi = (x0, x1, y0, y1) if ori == "east_west" else (y0, y1, x0, x1)
        if across_lo < pos < across_hi and lo < b and hi > a:
            hits.append((max(lo, a), min(hi, b), gid))
    hits.sort()
    scale = M_PER_DEG_LON if ori == "east_west" else M_PER_DEG_LAT
    out: list[RoadSegment] = []
    no = 1
    for lo, hi, gid in hits:
        length = (hi - lo) * scale
        if length < MIN_SEGMENT_M:
            continue
        count = max(2, round(length / METRES_PER_NUMBER))
        if ori == "east_west":
            start, end = (lo, pos), (hi, pos)
        else:
            start, end = (pos, lo), (pos, hi)
        out.append(RoadSegment(road=name, orientation=ori, from_no=no, to_no=no + count - 1,
                               grid_id=gid, start=start, end=end))
        no += count
    return out


def make_roads(grids: Sequence[Grid], district: BBox, rng: random.Random) -> list[RoadSegment]:
    boxes = [(g.grid_id, g.bbox) for g in grids]
    x_edges = sorted({v for _, b in boxes for v in (b[0], b[2])})
    y_edges = sorted({v for _, b in boxes for v in (b[1], b[3])})
    dx0, dy0, dx1, dy1 = district
    plans: list[tuple[str, Orientation]] = [(b, "east_west") for b in ROAD_BASES_EW]
    plans += [(b, "north_south") for b in ROAD_BASES_NS]
    rng.shuffle(plans)
    used: dict[Orientation, list[float]] = {"east_west": [], "north_south": []}
    segments: list[RoadSegment] = []
    roads = 0
    for base, ori in plans:
        if roads >= TARGET_ROADS:
            break
        variants = rng.choices(EW_VARIANTS if ori == "east_west" else NS_VARIANTS, weights=(35, 40, 25))[0]
        if base[-1] in "东西南北中":
            variants = ("",)  # no "濠西西路"
        span_lo, span_hi = (dx0, dx1) if ori == "east_west" else (dy0, dy1)
        across_lo, across_hi = (dy0, dy1) if ori == "east_west" else (dx0, dx1)
        edges = y_edges if ori == "east_west" else x_edges
        margin = (across_hi - across_lo) * 0.02
        pos = _clear_position(across_lo + margin, across_hi - margin, edges, used[ori], rng)
        used[ori].append(pos)
        lo_f, hi_f = {3: (0.7, 1.0), 2: (0.45, 0.8)}.get(len(variants), (0.15, 0.4))
        frac = rng.uniform(lo_f, hi_f)
        length = (span_hi - span_lo) * frac
        a = rng.uniform(span_lo, span_hi - length)
        cuts = [a + length * i / len(variants) for i in range(len(variants) + 1)]
        suffix = "路" if len(variants) > 1 else rng.choice(ROAD_SUFFIXES)
        for i, v in enumerate(variants):
            name = f"{base}{v}{suffix}"
            segs = _segments(name, ori, pos, r6(cuts[i]), r6(cuts[i + 1]), boxes)
            if segs:
                segments.extend(segs)
                roads += 1
    return segments


def compound_names(rng: random.Random) -> list[str]:
    names = [p + s for p in COMPOUND_PREFIXES for s in COMPOUND_SUFFIXES]
    rng.shuffle(names)
    return names


def make_compounds(grids: Sequence[Grid], rng: random.Random) -> list[Compound]:
    pool = compound_names(rng)
    out: list[Compound] = []
    for g in grids:
        if g.kind != "comprehensive":
            continue
        for _ in range(rng.choice((0, 0, 1, 1, 1, 2))):
            if not pool:
                return out
            x0, y0, x1, y1 = g.bbox
            out.append(Compound(
                compound_id=f"CP{len(out) + 1:04d}", name=pool.pop(), grid_id=g.grid_id,
                community_id=g.community_id, street_id=g.street_id, buildings=rng.randint(4, 40),
                lon=r6(x0 + (x1 - x0) * rng.uniform(0.2, 0.8)),
                lat=r6(y0 + (y1 - y0) * rng.uniform(0.2, 0.8)),
            ))
    return out
