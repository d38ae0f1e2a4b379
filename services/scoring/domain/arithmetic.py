"""Exact arithmetic for score cards: rationals inside, one documented rounding at the very end.

Intermediate values are `fractions.Fraction` (a ratio of 2/3 stays 2/3, never 0.6666…7), so the same
facts give the same card on any machine and in any order of summation. Published numbers are Decimals
rounded once, ROUND_HALF_UP to 2 places (the rule people expect from a 考核 table: 0.005 → 0.01).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

PLACES = 2


def exact(value: Decimal | int) -> Fraction:
    """Decimals convert to rationals without loss."""
    return Fraction(value)


def round_half_up(value: Fraction, places: int = PLACES) -> Decimal:
    """Half away from zero at `places` decimals, computed on the exact rational."""
    numerator, denominator = value.numerator, value.denominator
    magnitude = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)  # floor(|x| + 1/2), in integers
    return Decimal(-magnitude if numerator < 0 else magnitude).scaleb(-places)


def clamp(value: Fraction, low: Fraction, high: Fraction) -> Fraction:
    return max(low, min(high, value))
