"""Each formula of the closed set, and the normalisation onto 0..100 points."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.score import EntityType
from services.scoring.domain.facts import EntityFacts, FactName, Tally
from services.scoring.domain.formulas import measure, normalised, points
from services.scoring.domain.ruler import Indicator


def indicator(formula: dict[str, Any], *, direction: str = "higher", worst: str = "0", best: str = "100",
              weight: str = "20", **extra: Any) -> Indicator:
    return Indicator.model_validate({
        "code": "x", "name": {"zh": "指标", "en": "indicator"}, "formula": formula, "direction": direction,
        "normalise": {"worst": Decimal(worst), "best": Decimal(best)}, "weight": Decimal(weight), **extra,
    })


def facts(**counts: int | tuple[int, str]) -> EntityFacts:
    """`name=n` for n facts; `name=(n, total)` for measures; `name__tag=n` for tagged facts."""
    entity = EntityFacts(EntityType.DEPARTMENT, "D1")
    for key, spec in counts.items():
        name, _, tag = key.partition("__")
        n, total = spec if isinstance(spec, tuple) else (spec, str(spec))
        entity.tallies[(FactName(name), tag)] = Tally(n, Decimal(total))
    return entity


def test_count_counts_facts() -> None:
    m = measure(indicator({"kind": "count", "fact": "reported"}), facts(reported=7))
    assert (m.raw, m.numerator, m.denominator) == (Fraction(7), 7, None)


def test_weighted_count_weighs_by_tag_with_a_default_for_unknown_tags() -> None:
    ind = indicator({"kind": "weighted_count", "fact": "reported", "weights": {"grid": 1, "district": 4},
                     "default_weight": Decimal("1.5")})
    m = measure(ind, facts(reported__grid=3, reported__district=2, reported__=2))
    assert m.raw == 3 * 1 + 2 * 4 + 2 * Fraction(3, 2)
    assert m.numerator == 7


def test_ratio_is_a_percentage_with_its_numerator_and_denominator() -> None:
    ind = indicator({"kind": "ratio", "numerator": ["accept_met"], "denominator": ["accept_met", "accept_overdue"]})
    m = measure(ind, facts(accept_met=2, accept_overdue=1))
    assert (m.raw, m.numerator, m.denominator) == (Fraction(200, 3), 2, 3)


def test_ratio_numerator_may_subtract_a_fact() -> None:
    ind = indicator({"kind": "ratio", "numerator": ["reported", "-report_invalid"], "denominator": ["reported"]})
    m = measure(ind, facts(reported=4, report_invalid=1))
    assert (m.raw, m.numerator, m.denominator) == (Fraction(75), 3, 4)


def test_ratio_without_a_denominator_scores_the_rulers_if_no_data() -> None:
    ind = indicator({"kind": "ratio", "numerator": ["returned"], "denominator": ["received"]},
                    direction="lower", worst="20", best="0", if_no_data=Decimal(60))
    m = measure(ind, facts(rated=1))
    assert not m.has_data and (m.numerator, m.denominator) == (0, 0)
    assert normalised(ind, m) == 60


def test_average_of_a_measure_with_a_unit_conversion() -> None:
    ind = indicator({"kind": "average", "fact": "verify_seconds", "divide_by": 3600}, direction="lower",
                    worst="48", best="2")
    m = measure(ind, facts(verify_seconds=(2, "10800.5")))
    assert m.raw == Fraction(108005, 10) / 2 / 3600
    assert (m.numerator, m.denominator) == (None, 2)  # a total that is not whole is not shown as a count


def test_average_satisfaction_shows_its_sum_and_count() -> None:
    m = measure(indicator({"kind": "average", "fact": "rated"}, worst="1", best="5"), facts(rated=(3, "13")))
    assert (m.raw, m.numerator, m.denominator) == (Fraction(13, 3), 13, 3)


def test_normalisation_is_linear_and_clamped() -> None:
    ind = indicator({"kind": "count", "fact": "reported"}, worst="0", best="40", weight="25")
    assert normalised(ind, measure(ind, facts(reported=10))) == 25
    assert normalised(ind, measure(ind, facts(reported=55))) == 100  # the cap
    assert points(ind, measure(ind, facts(reported=10))) == Fraction(25 * 25, 100)


def test_lower_is_better_scores_full_at_best() -> None:
    ind = indicator({"kind": "ratio", "numerator": ["returned"], "denominator": ["received"]},
                    direction="lower", worst="20", best="0")
    assert normalised(ind, measure(ind, facts(returned=0, received=5))) == 100
    assert normalised(ind, measure(ind, facts(returned=1, received=10))) == 50
    assert normalised(ind, measure(ind, facts(returned=3, received=5))) == 0


def test_direction_must_agree_with_the_normalisation() -> None:
    with pytest.raises(ValidationError, match="direction lower needs best < worst"):
        indicator({"kind": "count", "fact": "escalated"}, direction="lower", worst="0", best="10")


def test_formulas_may_only_name_known_facts() -> None:
    with pytest.raises(ValidationError, match="unknown fact"):
        indicator({"kind": "ratio", "numerator": ["-complaints"], "denominator": ["received"]})
    with pytest.raises(ValidationError):
        indicator({"kind": "count", "fact": "complaints"})
    with pytest.raises(ValidationError):
        indicator({"kind": "median", "fact": "rated"})
