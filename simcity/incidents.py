"""Deterministic synthetic incident reports (12345 hotline, grid-worker app, WeChat) for demos/benchmarks."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from simcity.kinds import AppealType, Kind, Urgency
from simcity.kinds_city import CITY_KINDS
from simcity.kinds_people import PEOPLE_KINDS
from simcity.model import City
from simcity.names import PHONE_PREFIXES, SURNAMES, masked_phone
from simcity.places import Place, Places

Channel = Literal["hotline", "grid", "wechat"]
KINDS: tuple[Kind, ...] = CITY_KINDS + PEOPLE_KINDS
CHANNEL_WEIGHTS: dict[Channel, int] = {"hotline": 5, "grid": 3, "wechat": 2}
URGENCIES: tuple[Urgency, ...] = ("normal", "urgent", "critical")
MEAN_GAP_SECONDS = 240.0


class SyntheticIncident(BaseModel):
    """One incident report as it arrives on a channel, plus the ground truth for evaluation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel
    natural_id: str
    text: str
    appeal_type: AppealType | None = None
    """12345 hotline only: 咨询/求助/投诉/举报/建议."""
    urgency: Urgency
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    grid_id: str | None = None
    """Grid-worker reports only: the reporter's own grid."""
    worker_id: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    category_hint: str | None = None
    reported_at: datetime
    true_kind: str
    true_grid_id: str


Located = tuple[str | None, float | None, float | None]


def _location(channel: Channel, place: Place, rng: random.Random) -> Located:
    """Which of address / point the report carries: hotline mostly address, WeChat a pin, grid app GPS."""
    r = rng.random()
    if channel == "hotline":
        mode = "address" if r < 0.85 else "both"
    elif channel == "wechat":
        mode = "point" if r < 0.45 else "both"
    else:
        mode = "point" if r < 0.4 else "both"
    address = place.address if mode in ("address", "both") else None
    lon, lat = place.point if mode in ("point", "both") else (None, None)
    return address, lon, lat


def _natural_id(channel: Channel, at: datetime, i: int, rng: random.Random) -> str:
    if channel == "hotline":
        return f"12345-{at:%Y%m%d}-{i:06d}"
    if channel == "grid":
        return f"WGT{at:%Y%m%d}{i:06d}"
    return f"wx{rng.getrandbits(48):012x}"


def _hint_probability(channel: Channel) -> float:
    return {"hotline": 0.7, "grid": 0.9, "wechat": 0.2}[channel]


def generate_incidents(city: City, seed: int, n: int, start: datetime) -> list[SyntheticIncident]:
    """``n`` incidents from ``start`` onwards (exponential gaps, mean 4 minutes); same inputs, same list."""
    rng = random.Random(seed)
    places = Places(city)
    workers = {w.worker_id: w for w in city.workers}
    kinds = [k for k in KINDS if any(places.available(w) for w in k.where)]
    weights = [k.weight for k in kinds]
    channels = list(CHANNEL_WEIGHTS)
    at = start
    out: list[SyntheticIncident] = []
    for i in range(1, n + 1):
        at += timedelta(seconds=round(rng.expovariate(1 / MEAN_GAP_SECONDS)))
        kind = rng.choices(kinds, weights=weights)[0]
        place = places.pick(rng.choice([w for w in kind.where if places.available(w)]), rng)
        channel: Channel = rng.choices(channels, weights=list(CHANNEL_WEIGHTS.values()))[0]
        template = rng.choice(kind.worker if channel == "grid" else kind.citizen)
        text = template.format(
            loc=place.loc, road=place.road, unit=place.grid.unit or "", days=rng.randint(2, 7),
            community=places.community_names[place.grid.community_id],
            elder=rng.choice(SURNAMES) + rng.choice(("奶奶", "爷爷")),
        )
        if channel == "wechat" and rng.random() < 0.3:
            text += "（附现场照片）"
        address, lon, lat = _location(channel, place, rng)
        worker = workers[place.grid.worker_id]
        reporter_name: str | None = None
        reporter_phone: str | None = None
        if channel == "grid":
            reporter_name = worker.name
        elif channel == "hotline" or rng.random() < 0.5:
            reporter_name = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
            reporter_phone = masked_phone(rng.choice(PHONE_PREFIXES), rng.randrange(10_000))
        out.append(SyntheticIncident(
            channel=channel,
            natural_id=_natural_id(channel, at, i, rng),
            text=text,
            appeal_type=rng.choice(kind.appeals) if channel == "hotline" else None,
            urgency=rng.choices(URGENCIES, weights=kind.urgency)[0],
            address=address, lon=lon, lat=lat,
            grid_id=place.grid.grid_id if channel == "grid" else None,
            worker_id=worker.worker_id if channel == "grid" else None,
            reporter_name=reporter_name, reporter_phone=reporter_phone,
            category_hint=kind.hint if rng.random() < _hint_probability(channel) else None,
            reported_at=at, true_kind=kind.kind, true_grid_id=place.grid.grid_id,
        ))
    return out
