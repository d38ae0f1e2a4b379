"""Score cards on `scoring.v1` (compacted; key `{period}:{entity_type}:{entity_id}`)."""

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
    rank: int | None = None
    cases_counted: int = 0
    computed_at: datetime

    @property
    def key(self) -> str:
        return f"{self.period}:{self.entity_type.value}:{self.entity_id}"
