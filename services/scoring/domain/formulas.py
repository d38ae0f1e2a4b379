"""The closed set of formulas, and the normalisation of a raw value onto 0..100 points.

Each formula says what it measured in terms a participant can check against their own cases:
the raw value, and where it is a share or a mean, its numerator and denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from services.scoring.domain.arithmetic import clamp, exact
from services.scoring.domain.facts import EntityFacts
from services.scoring.domain.ruler import Average, Count, Indicator, Ratio, WeightedCount

HUNDRED = Fraction(100)


@dataclass(frozen=True)
class Measured:
    raw: Fraction
    numerator: int | None = None
    denominator: int | None = None
    has_data: bool = True  # False for 0/0: nothing to measure, the ruler's `if_no_data` applies


def measure(indicator: Indicator, facts: EntityFacts) -> Measured:
    formula = indicator.formula
    if isinstance(formula, Count):
        n = facts.count(formula.fact)
        return Measured(Fraction(n), numerator=n)
    if isinstance(formula, WeightedCount):
        counts = facts.by_tag(formula.fact)
        weighted = sum((n * exact(formula.weights.get(tag, formula.default_weight)) for tag, n in counts.items()),
                       Fraction(0))
        return Measured(weighted, numerator=sum(counts.values()))
    if isinstance(formula, Ratio):
        numerator = sum(sign * facts.count(name, within=formula.within_days) for name, sign in formula.terms())
        denominator = sum(facts.count(name) for name in formula.denominator)
        if denominator == 0:
            return Measured(Fraction(0), numerator, denominator, has_data=False)
        return Measured(Fraction(numerator, denominator) * HUNDRED, numerator, denominator)
    assert isinstance(formula, Average)
    n = facts.count(formula.fact)
    total = facts.total(formula.fact)
    shown = int(total) if total == total.to_integral_value() else None
    if n == 0:
        return Measured(Fraction(0), shown, n, has_data=False)
    return Measured(exact(total) / n / exact(formula.divide_by), shown, n)


@dataclass(frozen=True)
class _Exact:
    """An indicator's constants as rationals, converted once per ruler (cards ask for them per entity)."""

    worst: Fraction
    span: Fraction
    if_no_data: Fraction
    weight: Fraction


_EXACT: dict[int, tuple[Indicator, _Exact]] = {}


def _exact(indicator: Indicator) -> _Exact:
    found = _EXACT.get(id(indicator))
    if found is None or found[0] is not indicator:
        worst = exact(indicator.normalise.worst)
        found = _EXACT[id(indicator)] = (indicator, _Exact(worst, exact(indicator.normalise.best) - worst,
                                                           exact(indicator.if_no_data), exact(indicator.weight)))
    return found[1]


ZERO, ONE = Fraction(0), Fraction(1)


def normalised(indicator: Indicator, measured: Measured) -> Fraction:
    """0..100: linear between the ruler's `worst` and `best`, clamped beyond them."""
    constants = _exact(indicator)
    if not measured.has_data:
        return constants.if_no_data
    return clamp((measured.raw - constants.worst) / constants.span, ZERO, ONE) * HUNDRED


def points(indicator: Indicator, measured: Measured) -> Fraction:
    """The indicator's exact contribution to the 100-point total."""
    return normalised(indicator, measured) * _exact(indicator).weight / HUNDRED
