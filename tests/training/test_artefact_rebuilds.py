"""The committed classifier artefact is exactly what `make train` builds from the committed corpus.

A full training (cross-validated calibration, then the served model on every text) takes a few minutes,
so this lives outside `tests/unit` (`make unit` and landing stay fast) and runs in `make test`, i.e. in
CI from a fresh clone: a corpus, list or training-code change without a retrained artefact fails here,
and so does a training that is not deterministic.
"""

from __future__ import annotations

import hashlib

from threadpoolctl import threadpool_limits

from services.router.classification import corpus
from services.router.classification.training.train import MODEL_PATH, build, dump


def test_training_from_the_committed_corpus_reproduces_the_committed_artefact_byte_for_byte() -> None:
    committed = MODEL_PATH.read_bytes()
    with threadpool_limits(limits=1):
        document, _ = build(corpus.corpus_files())
    rebuilt = dump(document)
    assert hashlib.sha256(rebuilt).hexdigest() == hashlib.sha256(committed).hexdigest(), (
        f"rebuilt {document['version']} ({len(rebuilt)} bytes) differs from the committed artefact "
        f"({len(committed)} bytes): run `make train` and commit services/router/data/model/classifier.json")
