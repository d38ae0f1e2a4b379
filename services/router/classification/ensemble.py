"""The learned model and the list's keywords and conditions, combined into one calibrated ranking.

score(item) ∝ exp((log p_model(item) + keyword_weight × keyword confidence(item)) / temperature) over the
items whose conditions pass (code-only items only through their code). `keyword_weight` and
`temperature` are fitted on the development split by `make train` and stored in the artefact, so the
score is a calibrated probability (README: reliability table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.router.classification.features import Featuriser
from services.router.classification.model import LinearModel, Scores, Vector
from services.router.classification.nearest import NearestExamples
from services.router.domain.classify import Candidate, Classification, Classifier, ClassifyContext
from services.router.domain.conditions import PassedMemo
from services.router.domain.responsibility import ResponsibilityList

_FLOOR = 1e-6  # model probability of an item it was never trained on
_LIMIT = 5
_CLAUSE = re.compile(r"[，。；！？,.;!?\n]|还有|另外|同时|而且|并且|此外|以及")
_CLAUSE_MIN = 4
_CLAUSES = 6


def clause_spans(clean: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of a normalised text long enough to judge on their own."""
    cuts = [0, *(i for m in _CLAUSE.finditer(clean) for i in m.span()), len(clean)]
    return [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=True) if b - a >= _CLAUSE_MIN]


@dataclass(frozen=True)
class Components:
    found: tuple[Candidate, ...]  # the keyword classifier's candidates (conditions passed)
    vector: Vector | None
    scores: Scores | None  # the model's heads on the text
    log_p: npt.NDArray[np.float64]  # model log-probability per list item
    keyword_score: npt.NDArray[np.float64]  # keyword confidence per list item (0: no keyword)
    allowed: npt.NDArray[np.bool_]  # conditions pass; code-only items only through their code
    passed: dict[int, tuple[str, ...]]


@dataclass(frozen=True)
class Assessment:
    """Everything the router decides with for one text."""

    classification: Classification
    vector: Vector | None
    keyword_candidates: tuple[Candidate, ...]
    enquiry_probability: float | None
    urgent_probability: float | None
    department_score: float | None = None  # probability that the top item's owner is right (Σ over its items)


class EnsembleClassifier:
    """Built once per (list, model) version; `assess` is then pure."""

    def __init__(self, responsibility_list: ResponsibilityList, keywords: Classifier, model: LinearModel | None,
                 nearest: NearestExamples | None = None) -> None:
        self.keywords = keywords
        self.model = model
        self.nearest = nearest
        self._items = responsibility_list.items
        self._codes = [item.code for item in self._items]
        self._position = {code: i for i, code in enumerate(self._codes)}
        self._code_only = np.array([item.code_only for item in self._items])
        self._owners = np.array([item.owner for item in self._items])
        self._owner_ids = np.unique(self._owners, return_inverse=True)[1]  # the same groups, compared as ints
        self._conditional = [i for i, item in enumerate(self._items) if item.conditions != type(item.conditions)()]
        self._conditions = PassedMemo([item.conditions for item in self._items])
        if model is not None:
            classes = model.heads["item"].classes
            self._model_columns = np.array([self._position.get(c, -1) for c in classes])
            self._known = self._model_columns >= 0
            model.featuriser = Featuriser(keywords.segmenter)  # one segmentation of a text for both
        self.keyword_weight = model.settings["keyword_weight"] if model else 1.0
        self.temperature = model.settings["temperature"] if model else 1.0

    @property
    def version(self) -> str | None:
        return self.model.version if self.model else None

    def components(self, text: str, hint: str | None, context: ClassifyContext) -> Components:
        """The ensemble's inputs per list item (training fits `keyword_weight` and `temperature` on them)."""
        found = tuple(self.keywords.classify(text, hint, context))
        keyword_score = np.zeros(len(self._codes))
        for candidate in found:
            keyword_score[self._position[candidate.item_code]] = candidate.score
        allowed = ~self._code_only | (keyword_score > 0)
        passed: dict[int, tuple[str, ...]] = {}
        for i in self._conditional:
            result = self._conditions.passed(i, context)
            if result is None:
                allowed[i] = False
            else:
                passed[i] = result
        log_p = np.full(len(self._codes), np.log(_FLOOR))
        vector = scores = None
        if self.model is not None:
            vector = self.model.vector(text)
            scores = self.model.scores([vector])[0]
            logits = scores.item_logits
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            log_p[self._model_columns[self._known]] = np.log(probabilities[self._known] + _FLOOR)
        return Components(found, vector, scores, log_p, keyword_score, allowed, passed)

    def combine(self, parts: Components, keyword_weight: float, temperature: float) -> npt.NDArray[np.float64]:
        """Calibrated probabilities over the list's items (0 where conditions fail)."""
        if self.model is None:
            z = parts.keyword_score * 10.0
        else:
            z = (parts.log_p + keyword_weight * parts.keyword_score) / temperature
        z = np.where(parts.allowed, z, -np.inf)
        if not np.isfinite(z).any():
            return np.zeros(len(z))
        q = np.exp(z - z.max())
        return np.asarray(q / q.sum(), dtype=np.float64)

    def assess(self, text: str, hint: str | None, context: ClassifyContext, threshold: float) -> Assessment:
        return self._assessment(self.components(text, hint, context), threshold)

    def assess_many(self, requests: Sequence[tuple[str, str | None, ClassifyContext]],
                    threshold: float) -> list[Assessment]:
        """`assess` of a batch (a poll's texts), text by text: the keyword classifier and the featuriser
        then see one text after the other, so its blocks are segmented once for both (segment.py's memo);
        featurising the whole poll first segmented every block twice (the memo holds one text's blocks)."""
        return [self.assess(text, hint, context, threshold) for text, hint, context in requests]

    def _assessment(self, parts: Components, threshold: float) -> Assessment:
        if self.model is None or parts.vector is None or parts.scores is None:
            return Assessment(Classification.of(parts.found, threshold), None, parts.found, None, None)
        q = self.combine(parts, self.keyword_weight, self.temperature)
        by_code = {c.item_code: c for c in parts.found}
        candidates = []
        best = (-q).argsort(kind="stable")[:_LIMIT]
        for i, score in zip(best.tolist(), q[best].tolist(), strict=True):  # Python ints and the same floats
            if score <= 0:
                break
            code = self._codes[i]
            kw = by_code.get(code)
            candidates.append(Candidate.built(code, round(score, 4), kw.matched_keywords if kw else (),
                                              parts.passed.get(i, ())))
        owners = self._owner_ids
        department = round(float(q[owners == owners[int(q.argmax())]].sum()), 4) if q.any() else None
        return Assessment(Classification.of(candidates, threshold), parts.vector, parts.found,
                          parts.scores.enquiry, parts.scores.urgent, department)

    @property
    def owners(self) -> npt.NDArray[np.str_]:
        return self._owners

    @property
    def codes(self) -> list[str]:
        return self._codes

    def clause_items(self, vector: Vector | None) -> list[tuple[str, float]]:
        """Each clause of a text naming several problems, on its own: (top item, model probability).

        Texts of one clause give nothing; only the learned model judges (code-only items never)."""
        if self.model is None or vector is None:
            return []
        spans = clause_spans(vector.clean)
        if len(spans) < 2:
            return []
        head = self.model.heads["item"]
        out = []
        for start, end in spans[:_CLAUSES]:
            part = self.model.span_vector(vector, start, end)
            logits = head.logits(part.indices, part.values)
            p = np.exp(logits - logits.max())
            p /= p.sum()
            for k in (-p).argsort(kind="stable")[:2]:
                code = head.classes[int(k)]
                position = self._position.get(code)
                if position is not None and not self._code_only[position]:
                    out.append((code, float(p[k])))
                    break
        return out

    def explain(self, assessment: Assessment) -> dict[str, object]:
        """Strongest features and nearest labelled examples of the top candidate."""
        top = assessment.classification.top
        if top is None or self.model is None or assessment.vector is None:
            return {}
        out: dict[str, object] = {
            "strongest_features": self.model.strongest_features(assessment.vector, top.item_code),
            "keyword_candidates": [{"item_code": c.item_code, "score": c.score}
                                   for c in assessment.keyword_candidates[:3]],
        }
        if self.nearest is not None:
            out["nearest_examples"] = self.nearest.nearest(assessment.vector, top.item_code)
        return out
