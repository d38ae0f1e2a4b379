"""Exactness: rationals inside, ROUND_HALF_UP to 2 places once at the end."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from services.scoring.domain.arithmetic import exact, round_half_up


def test_half_rounds_up_not_to_even() -> None:
    assert round_half_up(Fraction(1, 8)) == Decimal("0.13")  # 0.125: banker's rounding would give 0.12
    assert round_half_up(Fraction(5, 1000)) == Decimal("0.01")
    assert round_half_up(Fraction(-1, 8)) == Decimal("-0.13")  # half away from zero


def test_thirds_are_exact_until_the_end() -> None:
    third = Fraction(1, 3)
    assert round_half_up(third * 3) == Decimal("1.00")  # 0.33 * 3 would be 0.99
    assert round_half_up(Fraction(2, 3) * 100) == Decimal("66.67")


def test_decimals_become_rationals_without_loss() -> None:
    assert exact(Decimal("0.1")) * 3 == Fraction(3, 10)  # 0.1 + 0.1 + 0.1 != 0.3 in binary floats


def test_published_values_always_have_two_places() -> None:
    assert str(round_half_up(Fraction(85))) == "85.00"
    assert str(round_half_up(Fraction(0))) == "0.00"
