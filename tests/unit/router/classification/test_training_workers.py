"""Training's speed-ups keep its output: the heads fitted in worker processes give the same bytes for any
number of workers, and tuning on each text's components computed once gives what judging every text
again (the assist threshold, the report) gave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from threadpoolctl import threadpool_limits

from services.router.classification import corpus
from services.router.classification.ensemble import EnsembleClassifier
from services.router.classification.evaluate import build_engine, context_for, decided
from services.router.classification.knowledge import KnowledgeBase
from services.router.classification.metrics import summary
from services.router.classification.policy import Thresholds
from services.router.classification.training import config, fitting
from services.router.classification.training.train import build, dump
from services.router.domain.classify import Classifier

TRAINING = corpus.TRAINING_DIR


def _subset(tmp_path: Path) -> Path:
    """~330 texts of a few items, with two-problem texts (`also`) so the assist threshold is really chosen."""
    lines = []
    for name, count in (("A01.jsonl", 140), ("B01.jsonl", 90), ("author7.jsonl", 100)):
        lines += (TRAINING / name).read_text(encoding="utf-8").splitlines()[:count]
    assert sum(bool(json.loads(line).get("also")) for line in lines) >= 10
    path = tmp_path / "subset.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_worker_and_two_workers_train_the_same_bytes(tmp_path: Path) -> None:
    subset = _subset(tmp_path)
    with threadpool_limits(limits=1):
        alone, _ = build([subset], workers=1)
        shared, _ = build([subset], workers=2)
    assert dump(alone) == dump(shared)
    assert alone["corpus"]["cross_validation"] == f"{config.FOLDS} folds"


def test_tuning_on_components_computed_once_gives_what_judging_every_text_again_gave(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    tune = fitting.tune

    def recording(judged: fitting.Judged, resp_list: Any, knowledge: KnowledgeBase | None = None) -> Any:
        seen["judged"], seen["resp_list"] = judged, resp_list
        seen["settings"], seen["report"] = tune(judged, resp_list, knowledge)
        return seen["settings"], seen["report"]

    monkeypatch.setattr(fitting, "tune", recording)
    with threadpool_limits(limits=1):
        build([_subset(tmp_path)], workers=1)
    judged, resp_list, settings = seen["judged"], seen["resp_list"], seen["settings"]
    # as before: every text assessed again by a fresh ensemble of its fold model, at the tuned settings
    cases, rows = [], []
    for model, texts in judged:
        ensemble = EnsembleClassifier(resp_list, Classifier(resp_list), model)
        assert (ensemble.keyword_weight, ensemble.temperature) == (settings["keyword_weight"], settings["temperature"])
        engine = build_engine(resp_list, model, KnowledgeBase(()), Thresholds.of(settings), nearest=None)
        for r in texts:
            assessed = ensemble.assess(r.text, None, context_for(r.channel), settings["dispatch_threshold"])
            cases.append(fitting.assist_case(ensemble, assessed, r, resp_list))
            rows.append(decided(engine, r.text, r.channel, r.item_code, r.urgent))
    chosen = [c for c in cases if c is not None]
    assert any(wanted for _, _, wanted in chosen)
    assert settings["assist_threshold"] == fitting.best_assist(chosen, resp_list)
    assert seen["report"]["summary"] == summary(rows)
