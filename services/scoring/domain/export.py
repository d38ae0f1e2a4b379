"""Cards as CSV for analysts: one row per indicator, UTF-8 with a BOM so Excel shows the Chinese names."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from schemas.score import ScoreCard

BOM = "\ufeff"
COLUMNS = ("period", "ruler_version", "entity_type", "entity_id", "parent_id", "rank", "total", "cases_counted",
           "indicator", "name", "raw", "numerator", "denominator", "weight", "points")


def cards_csv(cards: Sequence[ScoreCard]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for card in cards:
        for i in card.indicators:
            writer.writerow((card.period, card.ruler_version, card.entity_type.value, card.entity_id,
                             card.parent_id or "", card.rank if card.rank is not None else "", card.total,
                             card.cases_counted, i.code, i.name, i.raw,
                             "" if i.numerator is None else i.numerator,
                             "" if i.denominator is None else i.denominator, i.weight, i.points))
    return (BOM + out.getvalue()).encode("utf-8")
