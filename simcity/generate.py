"""Deterministic generator of the synthetic 通江区, modelled on Chongchuan's "1+16+824"."""

from __future__ import annotations

import random

from simcity.departments import departments
from simcity.layout import DISTRICT_BBOX, cells, centre_of, partition, ring_of, split_counts, spread
from simcity.model import (
    DEDICATED_UNIT_DEPARTMENT,
    BBox,
    City,
    Community,
    DedicatedType,
    Grid,
    GridWorker,
    Street,
)
from simcity.names import (
    COMMUNITY_CORES,
    DISTRICT,
    DISTRICT_CENTRE,
    DISTRICT_EN,
    GIVEN_CHARS,
    PHONE_PREFIXES,
    RURAL_STREETS,
    STREET_CORES,
    SURNAMES,
    masked_phone,
    street_name,
)
from simcity.roads import make_compounds, make_roads
from simcity.units import unit_name

VERSION = "simcity-1"
N_STREETS = 16
N_COMMUNITIES = 100
N_GRIDS = 824
DEDICATED_SHARE = 0.15
DEDICATED_WEIGHTS: dict[DedicatedType, int] = {
    "school": 30, "hospital": 12, "industrial_park": 22, "river_section": 30, "market": 18, "scenic_area": 12,
}
RURAL_FACTOR = 1.8  # peri-urban grids cover more ground


def _person(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _dedicated(rng: random.Random) -> dict[int, DedicatedType]:
    n = round(N_GRIDS * DEDICATED_SHARE)
    types = list(DEDICATED_WEIGHTS)
    chosen = sorted(rng.sample(range(N_GRIDS), n))
    picks = rng.choices(types, weights=list(DEDICATED_WEIGHTS.values()), k=n)
    return dict(zip(chosen, picks, strict=True))


def generate_city(seed: int = 824) -> City:
    """Build the whole city from ``seed``; the same seed always yields an identical City."""
    rng = random.Random(seed)
    per_street = split_counts(N_COMMUNITIES, N_STREETS, 4, 9, rng)
    per_community = spread(N_GRIDS, N_COMMUNITIES, 4, rng)
    cores = list(COMMUNITY_CORES)
    rng.shuffle(cores)
    dedicated = _dedicated(rng)

    # Communities grouped per street, with their grid counts and area weights.
    groups: list[list[tuple[int, bool]]] = []  # (grid count, is village)
    k = 0
    for s, n in enumerate(per_street):
        rural = s >= N_STREETS - RURAL_STREETS
        groups.append([(per_community[k + i], rural and rng.random() < 0.5) for i in range(n)])
        k += n

    def weight(count: int, village: bool, rural: bool) -> float:
        return count * (RURAL_FACTOR if rural else 1.0) * (1.3 if village else 1.0)

    street_w = [sum(weight(c, v, s >= N_STREETS - RURAL_STREETS) for c, v in g) for s, g in enumerate(groups)]
    street_boxes = partition(DISTRICT_BBOX, street_w)

    streets: list[Street] = []
    communities: list[Community] = []
    grids: list[Grid] = []
    workers: list[GridWorker] = []
    units: set[str] = set()
    ci = 0
    for s, (group, sbox) in enumerate(zip(groups, street_boxes, strict=True)):
        rural = s >= N_STREETS - RURAL_STREETS
        core = STREET_CORES[s]
        sid = f"TJ-{s + 1:02d}"
        ps_id, ps = f"PS-{s + 1:02d}", f"{core}派出所"
        sname = street_name(core)
        streets.append(Street(street_id=sid, name=sname, centre=f"{sname}社会治理综合指挥中心",
                              police_station_id=ps_id, police_station=ps, bbox=sbox))
        cboxes = partition(sbox, [weight(c, v, rural) for c, v in group])
        for c, ((count, village), cbox) in enumerate(zip(group, cboxes, strict=True)):
            ccore = cores[ci]
            ci += 1
            cid = f"{sid}-{c + 1:02d}"
            cname = f"{ccore}{'村' if village else '社区'}"
            communities.append(Community(community_id=cid, street_id=sid, name=cname,
                                         kind="village" if village else "community", bbox=cbox))
            for g, gbox in enumerate(cells(cbox, count, rng)):
                gid = f"{cid}-{g + 1:03d}"
                wid = f"GW{len(grids) + 1:04d}"
                dtype = dedicated.get(len(grids))
                unit = unit_name(dtype, core, ccore, units) if dtype else None
                grids.append(_grid(gid, f"{cname}第{g + 1}网格", sid, cid, dtype, unit, ps_id, ps, wid, gbox))
                workers.append(GridWorker(
                    worker_id=wid, name=_person(rng), grid_id=gid, community_id=cid, street_id=sid,
                    phone_masked=masked_phone(rng.choice(PHONE_PREFIXES), rng.randrange(10_000)),
                ))
    roads = make_roads(grids, DISTRICT_BBOX, rng)
    compounds = make_compounds(grids, rng)
    return City(
        version=VERSION, seed=seed, district=DISTRICT, district_en=DISTRICT_EN, centre=DISTRICT_CENTRE,
        bbox=DISTRICT_BBOX, departments=departments(), streets=tuple(streets), communities=tuple(communities),
        grids=tuple(grids), workers=tuple(workers), road_segments=tuple(roads), compounds=tuple(compounds),
    )


def _grid(gid: str, name: str, sid: str, cid: str, dtype: DedicatedType | None, unit: str | None,
          ps_id: str, ps: str, wid: str, box: BBox) -> Grid:
    lon, lat = centre_of(box)
    return Grid(
        grid_id=gid, name=f"{unit}专属网格" if unit else name, street_id=sid, community_id=cid,
        kind="dedicated" if dtype else "comprehensive", dedicated_type=dtype, unit=unit,
        unit_department=DEDICATED_UNIT_DEPARTMENT[dtype] if dtype else None,
        police_station_id=ps_id, police_station=ps, worker_id=wid,
        centroid_lon=lon, centroid_lat=lat, ring=ring_of(box),
    )
