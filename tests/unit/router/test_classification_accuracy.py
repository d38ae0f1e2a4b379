"""Accuracy on hand-written incident texts (see services/router/README_classification.md)."""

from __future__ import annotations

from pathlib import Path

from services.router.domain.classify import Classifier
from services.router.domain.evaluate import evaluate, read_rows
from services.router.domain.responsibility import ResponsibilityList

DATA = Path(__file__).resolve().parents[2] / "data"


def test_labelled_set_reaches_80_percent_top1_and_92_percent_top3(classifier: Classifier) -> None:
    report = evaluate(classifier, read_rows(DATA / "classification_labelled.jsonl"))
    assert report.n >= 320
    assert report.top1 >= 0.80, report.summary()
    assert report.top3 >= 0.92, report.summary()


def test_held_out_set_written_after_tuning_stays_above_its_measured_floor(classifier: Classifier) -> None:
    report = evaluate(classifier, read_rows(DATA / "classification_holdout.jsonl"))
    assert report.top1 >= 0.75, report.summary()
    assert report.top3 >= 0.85, report.summary()


def test_confident_answers_are_almost_always_right(classifier: Classifier) -> None:
    report = evaluate(classifier, read_rows(DATA / "classification_labelled.jsonl"))
    assert report.confident_precision >= 0.95, report.summary()


def test_labelled_set_covers_most_items(repo_list: ResponsibilityList) -> None:
    expected = {row.expected for row in read_rows(DATA / "classification_labelled.jsonl")}
    assert expected <= set(repo_list.by_code)
    assert len(expected) >= 0.9 * len(repo_list.items)
