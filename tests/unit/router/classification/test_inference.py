"""Serving's fast path gives what the plain path gives, on every labelled text of the corpus.

The plain path is the one training uses: a fresh segmenter (here jieba's walk in Python, not the native
jieba-rs cut serving uses, so the served words are checked too), a `Counter` of the text's features,
`vectorise`, and each head's own `logits`. The router serves a poll's texts through `decide_texts`; the
explanation recorded on the case is built from what that returns. Any speed-up of inference must keep
the probabilities (to 1e-12), the decisions and the explanations of every text exactly as they were.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.router.classification import corpus
from services.router.classification.decision import Engine, TextDecision, TextRequest, decide_text, decide_texts
from services.router.classification.ensemble import clause_spans
from services.router.classification.evaluate import EVALUATION_DAY, context_for
from services.router.classification.features import Featuriser, span_terms, vectorise
from services.router.classification.model import Vector
from services.router.domain.segment import Segmenter

POLL = 500
TOLERANCE = 1e-12


class PythonWalk(Segmenter):
    """The segmenter's own Python walk (jieba's algorithm) for every text, never the native cut."""

    def cut(self, text: str) -> list[str]:
        return self._cut(text, 0)


@pytest.fixture(scope="module")
def requests() -> list[TextRequest]:
    texts = corpus.read(corpus.corpus_files())
    return [TextRequest(t.text, None, context_for(t.channel), appeal_type=None, reported_urgent=False,
                        day=EVALUATION_DAY) for t in texts]


@pytest.fixture(scope="module")
def served(engine: Engine, requests: list[TextRequest]) -> list[TextDecision]:
    return [d for start in range(0, len(requests), POLL) for d in decide_texts(engine, requests[start:start + POLL])]


def test_vectors_and_probabilities_are_those_of_the_plain_path(engine: Engine, requests: list[TextRequest],
                                                               served: list[TextDecision]) -> None:
    model = engine.ensemble.model
    assert model is not None
    plain = Featuriser(PythonWalk())
    vectors = [d.assessment.vector for d in served]
    assert all(v is not None for v in vectors)
    scores = [s for start in range(0, len(vectors), POLL) for s in model.scores(vectors[start:start + POLL])]  # type: ignore[arg-type]
    for request, decision, vector, score in zip(requests, served, vectors, scores, strict=True):
        assert vector is not None
        indices, values = vectorise(plain.terms(request.text), model.vocabulary, model.idf)
        assert vector.indices.tolist() == indices.tolist(), request.text
        np.testing.assert_allclose(vector.values, values, rtol=0, atol=TOLERANCE)
        reference = Vector(indices, values)
        expected = np.asarray(list(model.item_probabilities(reference).values()))
        p = np.exp(score.item_logits - score.item_logits.max())
        np.testing.assert_allclose(p / p.sum(), expected, rtol=0, atol=TOLERANCE)
        for head, got in (("urgent", decision.assessment.urgent_probability),
                          ("enquiry", decision.assessment.enquiry_probability)):
            assert got is not None
            assert math.isclose(got, model.probability(head, reference), rel_tol=0, abs_tol=TOLERANCE), request.text


def test_decisions_and_explanations_are_those_of_one_text_at_a_time(engine: Engine, requests: list[TextRequest],
                                                                   served: list[TextDecision]) -> None:
    for request, batch in zip(requests, served, strict=True):
        one = decide_text(engine, request.text, request.hint, request.context, appeal_type=request.appeal_type,
                          reported_urgent=request.reported_urgent, day=request.day)
        assert (batch.outcome, batch.item, batch.assisting, batch.answer, batch.urgency, batch.verdict) == \
            (one.outcome, one.item, one.assisting, one.answer, one.urgency, one.verdict), request.text
        assert batch.assessment.classification == one.assessment.classification
        assert batch.assessment.department_score == one.assessment.department_score
        assert engine.ensemble.explain(batch.assessment) == engine.ensemble.explain(one.assessment), request.text
        assert engine.ensemble.clause_items(batch.assessment.vector) == \
            engine.ensemble.clause_items(one.assessment.vector)


def test_clause_vectors_are_those_of_the_plain_path(engine: Engine, served: list[TextDecision]) -> None:
    """Each clause's vector (assisting departments) from the text's known-feature occurrences is the plain
    path's `Counter` of the clause's n-grams and words, `vectorise`d: the same indices and floats."""
    model = engine.ensemble.model
    assert model is not None
    clauses = 0
    for decision in served:
        vector = decision.assessment.vector
        assert vector is not None and vector.occurrences is not None
        for start, end in [(0, len(vector.clean)), *clause_spans(vector.clean)]:
            part = model.span_vector(vector, start, end)
            indices, values = vectorise(span_terms(vector.clean, vector.words, start, end), model.vocabulary,
                                        model.idf)
            assert (part.indices.tolist(), part.values.tolist()) == (indices.tolist(), values.tolist()), \
                (vector.clean, start, end)
            clauses += 1
    assert clauses > 2 * len(served)


def test_nearest_examples_similarities_are_those_of_the_examples_matrix(engine: Engine,
                                                                     served: list[TextDecision]) -> None:
    """The nearest examples' cosines, from the feature-major store, are bit for bit the product of the
    examples × features matrix's gathered columns (the explanation's order and rounding rest on them)."""
    nearest = engine.ensemble.nearest
    assert nearest is not None
    compared = 0
    for decision in served[::3]:
        vector, top = decision.assessment.vector, decision.assessment.classification.top
        if vector is None or top is None:
            continue
        got = nearest.similarity(vector, top.item_code)
        columns, by_example = nearest.examples(top.item_code)
        matrix = np.ascontiguousarray(by_example)  # the examples × features matrix as it was stored
        at = np.minimum(np.searchsorted(columns, vector.indices), len(columns) - 1)
        shared = columns[at] == vector.indices
        if not shared.any():
            assert got is None
            continue
        expected = matrix[:, at[shared]] @ vector.values[shared].astype(np.float32)
        assert got is not None and got.tobytes() == expected.tobytes(), request_text(decision)
        compared += 1
    assert compared > len(served) // 4


def request_text(decision: TextDecision) -> str:
    vector = decision.assessment.vector
    return vector.clean if vector is not None else ""
