"""Planar layout: guillotine partition of the district rectangle into streets, communities and grids.

Every split coordinate is rounded once to 6 decimals and shared by both sides, so neighbouring
rectangles share their edges exactly: the pieces tile their parent with no gaps and no overlap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from simcity.model import BBox

DISTRICT_BBOX: BBox = (120.85, 31.95, 121.0, 32.1)
# Approximate metres per degree at latitude 32°.
M_PER_DEG_LON = 94_400.0
M_PER_DEG_LAT = 110_900.0


def r6(x: float) -> float:
    return round(x, 6)


def width_m(b: BBox) -> float:
    return (b[2] - b[0]) * M_PER_DEG_LON


def height_m(b: BBox) -> float:
    return (b[3] - b[1]) * M_PER_DEG_LAT


def partition(box: BBox, weights: Sequence[float]) -> list[BBox]:
    """Split ``box`` into ``len(weights)`` rectangles with areas proportional to the weights.

    Order is kept, so consecutive items end up adjacent (contiguous blocks).
    """
    if not weights:
        return []
    if len(weights) == 1:
        return [box]
    total = sum(weights)
    acc = 0.0
    cut = 1
    best = math.inf
    for i in range(1, len(weights)):
        acc += weights[i - 1]
        diff = abs(acc - total / 2)
        if diff < best:
            best, cut = diff, i
    frac = sum(weights[:cut]) / total
    x0, y0, x1, y1 = box
    if width_m(box) >= height_m(box):
        xm = r6(x0 + (x1 - x0) * frac)
        first: BBox = (x0, y0, xm, y1)
        second: BBox = (xm, y0, x1, y1)
    else:
        ym = r6(y1 - (y1 - y0) * frac)  # first block to the north
        first, second = (x0, ym, x1, y1), (x0, y0, x1, ym)
    return partition(first, weights[:cut]) + partition(second, weights[cut:])


def _jittered_cuts(lo: float, hi: float, n: int, rng: random.Random, jitter: float) -> list[float]:
    sizes = [1.0 + rng.uniform(-jitter, jitter) for _ in range(n)]
    total = sum(sizes)
    cuts = [lo]
    acc = 0.0
    for s in sizes[:-1]:
        acc += s
        cuts.append(r6(lo + (hi - lo) * acc / total))
    cuts.append(hi)
    return cuts


def cells(box: BBox, n: int, rng: random.Random, jitter: float = 0.2) -> list[BBox]:
    """Split ``box`` into ``n`` rows of roughly square cells, north-west first."""
    x0, y0, x1, y1 = box
    rows = max(1, min(n, round(math.sqrt(n * height_m(box) / max(width_m(box), 1e-9)))))
    per_row = [n // rows + (1 if i < n % rows else 0) for i in range(rows)]
    ys = _jittered_cuts(y0, y1, rows, rng, jitter)[::-1]  # north to south
    out: list[BBox] = []
    for row, count in enumerate(per_row):
        ytop, ybot = ys[row], ys[row + 1]
        xs = _jittered_cuts(x0, x1, count, rng, jitter)
        for c in range(count):
            out.append((xs[c], ybot, xs[c + 1], ytop))
    return out


def ring_of(b: BBox) -> tuple[tuple[float, float], ...]:
    """Counter-clockwise closed ring of a rectangle (RFC 7946 right-hand rule)."""
    x0, y0, x1, y1 = b
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))


def centre_of(b: BBox) -> tuple[float, float]:
    return (r6((b[0] + b[2]) / 2), r6((b[1] + b[3]) / 2))


def split_counts(total: int, n: int, lo: int, hi: int, rng: random.Random) -> list[int]:
    """``n`` random integers in [lo, hi] that sum to ``total``."""
    if not lo * n <= total <= hi * n:
        raise ValueError("infeasible counts")
    counts = [rng.randint(lo, hi) for _ in range(n)]
    while (s := sum(counts)) != total:
        i = rng.randrange(n)
        if s < total and counts[i] < hi:
            counts[i] += 1
        elif s > total and counts[i] > lo:
            counts[i] -= 1
    return counts


def spread(total: int, n: int, minimum: int, rng: random.Random) -> list[int]:
    """Distribute ``total`` over ``n`` parts (each >= minimum) unevenly, by largest remainder."""
    rest = total - minimum * n
    if rest < 0:
        raise ValueError("infeasible spread")
    w = [rng.uniform(0.4, 1.6) for _ in range(n)]
    sw = sum(w)
    raw = [rest * x / sw for x in w]
    base = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: raw[i] - base[i], reverse=True)
    for i in order[: rest - sum(base)]:
        base[i] += 1
    return [minimum + b for b in base]
