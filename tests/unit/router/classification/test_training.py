"""Training is deterministic, and the committed artefact was built from the committed corpus."""

from __future__ import annotations

import json
from pathlib import Path

from threadpoolctl import threadpool_limits

from services.router.classification import corpus
from services.router.classification.training.train import build, dump
from services.router.settings import RouterSettings

LABELLED = corpus.ROOT / "tests" / "data" / "classification_labelled.jsonl"


def _subset(tmp_path: Path) -> Path:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "subset.jsonl"
    path.write_text("\n".join(lines[:120]) + "\n", encoding="utf-8")
    return path


def test_training_twice_on_the_same_data_gives_the_same_bytes(tmp_path: Path) -> None:
    subset = _subset(tmp_path)
    with threadpool_limits(limits=1):
        first, _ = build([subset])
        second, _ = build([subset])
    assert dump(first) == dump(second)
    assert first["version"].startswith(first["list_version"] + "+m")


def test_the_committed_artefact_names_the_corpus_it_was_trained_on() -> None:
    """The artefact records each corpus file and its digest (the byte-for-byte rebuild from the corpus is
    tests/training/test_artefact_rebuilds.py, in `make test`: a full training takes minutes)."""
    document = json.loads(RouterSettings().model_path.read_bytes())
    recorded = document["corpus"]["files"]
    assert recorded and all((corpus.ROOT / name).exists() for name in recorded)
    assert all(len(digest) == 64 for digest in recorded.values())
    assert document["corpus"]["train"] >= document["corpus"]["dev"] > 0  # dev: texts judged out of fold


def test_the_split_is_a_fixed_function_of_the_text() -> None:
    rows = list(corpus.read([LABELLED]))
    assert [r.dev for r in rows] == [r.dev for r in corpus.read([LABELLED])]
    assert 0.1 < sum(r.dev for r in rows) / len(rows) < 0.3
