"""Score cards on `scoring.v1` (compacted; key `{period}:{entity_type}:{entity_id}@{ruler_version}`).

The ruler version is part of the key (ARCHITECTURE.md's key is the part before `@`): a new ruler
applied to past months publishes its own cards beside the old ones instead of overwriting them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from schemas.common import Contract


class EntityType(StrEnum):
    GRID_WORKER = "grid_worker"
    COMMUNITY = "community"
    STREET = "street"
    DEPARTMENT = "department"
    GRID = "grid"  # 网格: ranked within its community
    HOTLINE = "hotline"  # 12345: every case that came in by the hotline (entity id `12345`)
    CENTER = "center"  # the command centre (直接办结), never ranked among departments
    ASSISTING_DEPARTMENT = "assisting_department"  # 协办: a department's assistance, apart from its lead work


class IndicatorValue(Contract):
    code: str = Field(examples=["closure_rate"])
    name: str = Field(examples=["办结率 closure within limit"])
    raw: Decimal = Field(description="the measured value, exact")
    weight: Decimal
    points: Decimal = Field(description="weighted contribution to the total")
    numerator: int | None = None
    denominator: int | None = None


class ScoreCard(Contract):
    """`gov.gridline.score.card_computed.v1`: the latest card for one entity in one month."""

    period: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])
    entity_type: EntityType
    entity_id: str
    ruler_version: str
    indicators: tuple[IndicatorValue, ...]
    total: Decimal
    rank: int | None = Field(default=None, description="competition rank among the entities of the same type "
                             "and parent (grids within their community, communities within their street)")
    cases_counted: int = 0
    computed_at: datetime = Field(description="the time of the latest event the card counts — derived from the "
                                  "facts, so a replay gives the same card; the wall clock is the "
                                  "`gridline_computed_at` header")
    parent_id: str | None = Field(default=None, description="grid: its community; community: its street")

    @property
    def key(self) -> str:
        return card_key(self.period, self.entity_type, self.entity_id, self.ruler_version)


def card_key(period: str, entity_type: EntityType, entity_id: str, ruler_version: str) -> str:
    return f"{period}:{entity_type.value}:{entity_id}@{ruler_version}"
