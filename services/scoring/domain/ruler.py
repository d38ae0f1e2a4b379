"""The ruler (一把尺子): which indicators score each kind of participant, how, and with what weight.

The ruler is published data (data/ruler/<version>.yaml), never code: every indicator names its facts,
a formula from a closed set, a direction, a linear normalisation onto 0..100, and a weight. The
models here are what a loaded, validated ruler looks like; ruler_files.py reads and checks the files.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.score import EntityType
from services.scoring.domain.facts import FactName

VERSION_PATTERN = r"^\d{4}\.\d{2}-\d+$"  # 2026.11-1: year.month of publication, then a serial


class RulerModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Direction(StrEnum):
    HIGHER = "higher"  # more is better (reports, timely acceptance, satisfaction)
    LOWER = "lower"  # less is better (returns, rework, escalations)


class Name(RulerModel):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.zh} {self.en}"


class Count(RulerModel):
    """How many facts of a name."""

    kind: Literal["count"]
    fact: FactName


class WeightedCount(RulerModel):
    """Facts weighted by their tag (a report's handling level: harder items weigh more)."""

    kind: Literal["weighted_count"]
    fact: FactName
    weights: dict[str, Decimal]
    default_weight: Decimal = Field(default=Decimal(1), ge=0)


class Ratio(RulerModel):
    """Sum of numerator counts over sum of denominator counts, in percent. A numerator term written
    `-name` is subtracted (valid reports = reported − report_invalid)."""

    kind: Literal["ratio"]
    numerator: tuple[str, ...] = Field(min_length=1)
    denominator: tuple[FactName, ...] = Field(min_length=1)
    within_days: int | None = Field(default=None, ge=1, le=90, description=(
        "numerator facts tagged with elapsed whole days (repeat_complaint) count only below this many days"))

    @field_validator("numerator")
    @classmethod
    def _known_terms(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in terms if t.removeprefix("-") not in FactName.__members__.values()]
        if unknown:
            raise ValueError(f"unknown fact(s) {unknown}; known: {', '.join(f.value for f in FactName)}")
        return terms

    def terms(self) -> list[tuple[FactName, int]]:
        return self._terms

    @cached_property
    def _terms(self) -> list[tuple[FactName, int]]:
        """(fact, sign) of the numerator, parsed once (cards ask for it per entity)."""
        return [(FactName(t.removeprefix("-")), -1 if t.startswith("-") else 1) for t in self.numerator]


class Average(RulerModel):
    """Mean of a measured fact (satisfaction 1..5; seconds, shown in hours with `divide_by: 3600`)."""

    kind: Literal["average"]
    fact: FactName
    divide_by: Decimal = Field(default=Decimal(1), gt=0)


Formula = Annotated[Count | WeightedCount | Ratio | Average, Field(discriminator="kind")]


class Normalisation(RulerModel):
    """Linear onto 0..100: `worst` or beyond scores 0, `best` or beyond scores 100."""

    worst: Decimal
    best: Decimal

    @model_validator(mode="after")
    def _distinct(self) -> Normalisation:
        if self.worst == self.best:
            raise ValueError("worst and best must differ")
        return self


class Indicator(RulerModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Name
    source: str | None = Field(default=None, description="which events the facts come from, and how")
    formula: Formula
    direction: Direction
    normalise: Normalisation
    weight: Decimal = Field(gt=0, le=100)
    if_no_data: Decimal = Field(default=Decimal(100), ge=0, le=100,
                                description="normalised score when there is nothing to measure (0/0)")

    @model_validator(mode="after")
    def _direction_agrees(self) -> Indicator:
        higher = self.normalise.best > self.normalise.worst
        if higher != (self.direction is Direction.HIGHER):
            raise ValueError(f"direction {self.direction.value} needs best "
                             f"{'>' if self.direction is Direction.HIGHER else '<'} worst in `normalise`")
        return self


class Ruler(RulerModel):
    version: str = Field(pattern=VERSION_PATTERN)
    effective_from: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="first period it scores")
    title: Name
    entity_types: dict[EntityType, tuple[Indicator, ...]]

    def facts_read(self, entity_type: EntityType) -> frozenset[FactName]:
        """The facts this ruler's indicators for the type read: only they make a new card revision."""
        read: set[FactName] = set()
        for indicator in self.entity_types.get(entity_type, ()):
            f = indicator.formula
            if isinstance(f, Ratio):
                read |= {name for name, _ in f.terms()} | set(f.denominator)
            else:
                read.add(f.fact)
        return frozenset(read)


def version_key(version: str) -> tuple[int, int, int]:
    date, serial = version.split("-")
    year, month = date.split(".")
    return int(year), int(month), int(serial)


REQUIRED_TYPES = (EntityType.GRID_WORKER, EntityType.COMMUNITY, EntityType.STREET, EntityType.DEPARTMENT)
"""Every ruler scores these; the later types (grid, hotline, centre, assistance) when it lists them."""


class RulerBook:
    """Every published version. Every ruler in effect for a period scores it, side by side under its own
    version; the newest of them is the period's default (what `GET /v1/scores` shows without `ruler`)."""

    def __init__(self, rulers: list[Ruler]) -> None:
        self.rulers = sorted(rulers, key=lambda r: (r.effective_from, version_key(r.version)))
        self.by_version = {r.version: r for r in self.rulers}

    @property
    def current(self) -> Ruler:
        return max(self.rulers, key=lambda r: version_key(r.version))

    def for_period(self, period: str) -> Ruler | None:
        """None for a period before the first ruler took effect: nobody is scored by rules not yet
        published."""
        in_effect = self.in_effect(period)
        return max(in_effect, key=lambda r: version_key(r.version)) if in_effect else None

    def in_effect(self, period: str) -> list[Ruler]:
        """Every version that scores the period (a new ruler may apply to past months)."""
        return [r for r in self.rulers if r.effective_from <= period]
