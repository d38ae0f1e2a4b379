"""重复件 repeat reports: a new incident of the same item near an open case joins that case."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from services.router.domain.case import Case
from services.router.domain.decide import Routing


@dataclass(frozen=True)
class DuplicatePolicy:
    radius_m: float = 150.0
    window: timedelta = timedelta(hours=72)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def find_duplicate(routing: Routing, open_cases: Sequence[Case], policy: DuplicatePolicy) -> tuple[Case, float] | None:
    """The oldest open case of the same item within the radius (None when the incident stands alone).

    Without a precise point on either side, "near" means the same grid."""
    place = routing.place
    if routing.item is None or place is None or routing.outcome != "dispatch":
        return None
    best: tuple[Case, float] | None = None
    for case in open_cases:
        if case.assignment is None or case.assignment.item_code != routing.item.code:
            continue
        if place.lon is not None and place.lat is not None and case.lon is not None and case.lat is not None:
            d = distance_m(place.lon, place.lat, case.lon, case.lat)
            if d > policy.radius_m:
                continue
        elif case.assignment.grid_id != place.grid_id:
            continue
        else:
            d = 0.0
        if best is None or case.opened_at < best[0].opened_at:
            best = (case, d)
    return best
