"""Accuracy of the classifier on a labelled set of incident texts.

`evaluate` is pure; run the module to print the numbers for the repository's list and labelled set:
    python -m services.router.domain.evaluate [list_dir] [labelled.jsonl]
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from datetime import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from schemas.common import Channel, Urgency
from services.router.domain.classify import DEFAULT_CONFIDENCE_THRESHOLD, Classifier, ClassifyContext
from services.router.domain.conditions import DedicatedType, GridKind

DAYTIME = time(10, 0)
"""Rows without a time are classified as if reported mid-morning."""


class LabelledRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    channel: Channel
    expected: str
    category_hint: str | None = None
    grid_kind: GridKind | None = None
    dedicated_type: DedicatedType | None = None
    urgency: Urgency = Urgency.NORMAL
    local_time: time | None = None

    def context(self) -> ClassifyContext:
        return ClassifyContext(channel=self.channel, grid_kind=self.grid_kind,
                               dedicated_type=self.dedicated_type, urgency=self.urgency,
                               local_time=self.local_time or DAYTIME)


class Confusion(BaseModel):
    model_config = ConfigDict(frozen=True)

    expected: str
    predicted: str | None
    count: int


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    top1: float
    top3: float
    n: int
    confusions: tuple[Confusion, ...]
    threshold: float
    confident_share: float
    confident_precision: float

    def summary(self) -> str:
        return (f"n={self.n} top1={self.top1:.3f} top3={self.top3:.3f} "
                f"confident(>={self.threshold})={self.confident_share:.3f} "
                f"precision_when_confident={self.confident_precision:.3f}")


def evaluate(
    classifier: Classifier, rows: Iterable[LabelledRow], threshold: float = DEFAULT_CONFIDENCE_THRESHOLD
) -> Report:
    n = top1 = top3 = confident = confident_right = 0
    confusions: Counter[tuple[str, str | None]] = Counter()
    for row in rows:
        decision = classifier.decide(row.text, row.category_hint, row.context(), threshold)
        codes = [c.item_code for c in decision.candidates]
        n += 1
        top1 += codes[:1] == [row.expected]
        top3 += row.expected in codes[:3]
        confident += decision.confident
        confident_right += decision.confident and codes[:1] == [row.expected]
        if codes[:1] != [row.expected]:
            confusions[(row.expected, codes[0] if codes else None)] += 1
    ranked = sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or ""))
    return Report(
        top1=top1 / n if n else 0.0, top3=top3 / n if n else 0.0, n=n,
        confusions=tuple(Confusion(expected=e, predicted=p, count=c) for (e, p), c in ranked),
        threshold=threshold, confident_share=confident / n if n else 0.0,
        confident_precision=confident_right / confident if confident else 0.0,
    )


def read_rows(path: Path) -> list[LabelledRow]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [LabelledRow.model_validate_json(line) for line in lines if line.strip()]


def main(argv: list[str]) -> None:
    from services.router.domain.departments import DEPARTMENT_CODES
    from services.router.domain.responsibility import load_responsibility_list

    root = Path(__file__).resolve().parents[3]
    list_dir = Path(argv[0]) if argv else root / "services/router/data/responsibility_list"
    rows_path = Path(argv[1]) if len(argv) > 1 else root / "tests/data/classification_labelled.jsonl"
    classifier = Classifier(load_responsibility_list(list_dir, DEPARTMENT_CODES))
    rows = read_rows(rows_path)
    for threshold in (0.4, 0.5, 0.55, 0.6, 0.7):
        print(evaluate(classifier, rows, threshold).summary())
    for confusion in evaluate(classifier, rows).confusions:
        print(f"  {confusion.expected} -> {confusion.predicted} x{confusion.count}")


if __name__ == "__main__":
    main(sys.argv[1:])
