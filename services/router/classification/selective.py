"""Selective dispatch: is this decision right? A small logistic regression over the decision's own evidence.

The ensemble's department probability alone was the old rule (dispatch at ≥ 0.88). The dispatch rule
re-estimates the chance that the top item's department (owner) is right from a few facts about the decision
— the department's and the item's probability, the lead over the next department, whether the list's
keywords agree, the channel and the length of the text — and the text is dispatched when that chance
reaches the rule's threshold. `make train` fits the weights and the threshold on out-of-fold judgements of
the corpus (nested cross-validation, classification README); they live in the artefact's `dispatch_rule`,
and the explanation lists each fact's contribution, so it says why a text was dispatched or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.router.classification.ensemble import Assessment
from services.router.classification.model import sigmoid
from services.router.domain.responsibility import ResponsibilityItem

FEATURES = ("department_logit", "item_logit", "department_margin", "keywords_agree", "keywords_disagree",
            "hotline", "wechat", "log_length")
_CLIP = 1e-4


@dataclass(frozen=True)
class RuleJudgement:
    probability: float  # the rule's chance that the top item's department is right
    contributions: tuple[tuple[str, float], ...]  # feature → weight × value (log-odds), largest effect first

    def explain(self, threshold: float) -> dict[str, object]:
        return {"probability": round(self.probability, 4), "threshold": threshold,
                "contributions": {name: round(value, 3) for name, value in self.contributions}}

    def reasons(self, limit: int = 3) -> str:
        return ", ".join(f"{name} {value:+.2f}" for name, value in self.contributions[:limit])


@dataclass(frozen=True)
class DispatchRule:
    weights: tuple[float, ...]  # one per FEATURES name
    bias: float  # the threshold is the artefact's `dispatch_threshold` (on the rule's probability)

    @classmethod
    def of(cls, document: Mapping[str, Any] | None) -> DispatchRule | None:
        """The artefact's `dispatch_rule` (None: an artefact from before the rule judges the department's
        probability alone)."""
        if not document:
            return None
        by_name = dict(zip(document["features"], document["weights"], strict=True))
        return cls(tuple(float(by_name.get(name, 0.0)) for name in FEATURES), float(document["bias"]))

    def judge(self, evidence: Sequence[float]) -> RuleJudgement:
        parts = [w * x for w, x in zip(self.weights, evidence, strict=True)]
        z = self.bias + sum(parts)
        ranked = sorted(zip(FEATURES, parts, strict=True), key=lambda p: -abs(p[1]))
        return RuleJudgement(sigmoid(z), tuple((name, value) for name, value in ranked if value))


def evidence(assessment: Assessment, items: Mapping[str, ResponsibilityItem], channel: str,
             text: str) -> tuple[float, ...]:
    """The rule's inputs, in FEATURES order (`items`: the list's items by code)."""
    candidates = assessment.classification.candidates
    if not candidates:
        return (0.0,) * len(FEATURES)
    lead = items[candidates[0].item_code].owner
    department = assessment.department_score if assessment.department_score is not None else candidates[0].score
    others: dict[str, float] = {}
    for candidate in candidates:
        owner = items[candidate.item_code].owner
        if owner != lead:
            others[owner] = others.get(owner, 0.0) + candidate.score
    keywords = assessment.keyword_candidates
    agree = bool(keywords) and items[keywords[0].item_code].owner == lead
    return (_logit(department), _logit(candidates[0].score), department - max(others.values(), default=0.0),
            float(agree), float(bool(keywords) and not agree), float(channel == "hotline"),
            float(channel == "wechat"), math.log(max(len(text), 1)))


def _logit(p: float) -> float:
    p = min(max(p, _CLIP), 1 - _CLIP)
    return math.log(p / (1 - p))
