"""Fitting the dispatch rule (`classification/selective.py`) on out-of-fold judgements, with nested CV.

The rule is a logistic regression of "the top item's department is right" on the decision's evidence; its
threshold is the lowest whose precision, among the texts it would dispatch (not urgent) and judged by rules
that did not see them, reaches the target. `fit` chooses the threshold by cross-validation over the folds it
is given; `nested` repeats all of `fit` on four folds and measures on the fifth, so the reported precision
and share are of texts the rule never saw (the honest figures; the README quotes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from services.router.classification.selective import FEATURES, DispatchRule
from services.router.classification.training import config

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Judged:
    """Out-of-fold judgements, one row per labelled text."""

    evidence: Floats  # n × len(FEATURES)
    right: Bools  # the top item's department is the labelled one
    eligible: Bools  # not urgent: the rule may dispatch it (urgent texts go to the centre)
    fold: Ints
    channel: npt.NDArray[np.str_]
    baseline: Floats  # the old rule's score (the department's probability)
    urgent: Bools  # detected or labelled urgent
    item_right: Bools  # the top item itself is the labelled one (what an urgent text is judged by)

    def subset(self, mask: Bools) -> Judged:
        return Judged(self.evidence[mask], self.right[mask], self.eligible[mask], self.fold[mask],
                      self.channel[mask], self.baseline[mask], self.urgent[mask], self.item_right[mask])


def fit(judged: Judged) -> tuple[DispatchRule, float]:
    """Weights from all of `judged`; the threshold from cross-validated probabilities over its folds."""
    probability = np.zeros(len(judged.right))
    for k in np.unique(judged.fold):
        inside = judged.fold != k
        probability[~inside] = probabilities(_fit(judged.subset(inside)), judged.evidence[~inside])
    eligible = judged.eligible
    return _fit(judged), threshold(probability[eligible], judged.right[eligible], config.RULE_THRESHOLDS)


def nested(judged: Judged) -> dict[str, object]:
    """Outer folds measure what inner folds chose: the rule (weights and threshold) and, beside it, the old
    rule (a threshold on the department's probability), each chosen without the fold it is measured on."""
    rule = np.zeros(len(judged.right), dtype=bool)
    old = np.zeros(len(judged.right), dtype=bool)
    urgent = np.zeros(len(judged.right), dtype=bool)
    chosen = []
    for k in np.unique(judged.fold):
        inside, outside = judged.fold != k, judged.fold == k
        inner = judged.subset(inside)
        fitted, rule_threshold = fit(inner)
        old_threshold = threshold(inner.baseline[inner.eligible], inner.right[inner.eligible], config.THRESHOLDS)
        outer = probabilities(fitted, judged.evidence[outside])
        sure = urgent_threshold(probabilities(fitted, inner.evidence)[inner.urgent & ~inner.item_right], rule_threshold)
        rule[outside] = judged.eligible[outside] & (outer >= rule_threshold)
        old[outside] = judged.eligible[outside] & (judged.baseline[outside] >= old_threshold)
        urgent[outside] = judged.urgent[outside] & ~judged.eligible[outside] & (outer >= sure)
        chosen.append({"fold": int(k), "rule_threshold": rule_threshold, "old_threshold": old_threshold,
                       "urgent_threshold": sure})
    return {"rule": _measure(rule, judged), "department_threshold": _measure(old, judged), "chosen": chosen,
            "urgent_detected_dispatched": int(urgent.sum()),
            "urgent_detected_dispatched_wrong": int((urgent & ~judged.item_right).sum())}


def urgent_threshold(wrong: Floats, dispatch: float) -> float:
    """Above the highest confidence of an urgent text sent to the wrong item (`wrong`; + 0.02: an urgent text
    is right only at the right item, 电梯困人 not 电梯故障), at least `dispatch` + 0.1; 1.01 (never) at most."""
    highest = float(wrong.max()) if len(wrong) else 0.0
    return round(min(1.01, max(dispatch + 0.1, highest + 0.02)), 2)


def ships(report: dict[str, object]) -> bool:
    """The rule replaces the department threshold only if, nested, it dispatches more at no lower precision
    (or at the target)."""
    rule, old = report["rule"], report["department_threshold"]
    assert isinstance(rule, dict) and isinstance(old, dict)
    return bool(rule["dispatched_share"] > old["dispatched_share"]
                and rule["precision"] >= min(config.TARGET_PRECISION, old["precision"]))


def document(rule: DispatchRule, chosen: float, report: dict[str, object]) -> dict[str, object]:
    """The artefact's `dispatch_rule` (`chosen` also becomes its `dispatch_threshold`)."""
    return {"features": list(FEATURES), "weights": list(rule.weights), "bias": rule.bias, "threshold": chosen,
            "target_precision": config.TARGET_PRECISION, "nested_cv": report}


def probabilities(rule: DispatchRule, evidence: Floats) -> Floats:
    z = evidence @ np.asarray(rule.weights) + rule.bias
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def threshold(score: Floats, right: Bools, grid: tuple[float, ...]) -> float:
    """The lowest threshold whose precision among the (≥ 20) texts at or above it reaches the target."""
    for t in grid:
        picked = score >= t
        if picked.sum() >= 20 and right[picked].mean() >= config.TARGET_PRECISION:
            return t
    return grid[-1]


def _fit(judged: Judged) -> DispatchRule:
    model = LogisticRegression(C=config.C_RULE, max_iter=5000, tol=1e-10, solver="lbfgs")
    model.fit(judged.evidence, judged.right)
    return DispatchRule(tuple(round(float(w), 6) for w in model.coef_[0]), round(float(model.intercept_[0]), 6))


def _measure(dispatched: Bools, judged: Judged) -> dict[str, object]:
    def core(mask: Bools) -> dict[str, object]:
        picked = dispatched & mask
        return {"n": int(mask.sum()), "dispatched_share": round(float(picked.sum() / max(mask.sum(), 1)), 4),
                "precision": round(float(judged.right[picked].mean()), 4) if picked.any() else None}

    out = core(np.ones(len(dispatched), dtype=bool))
    out["by_channel"] = {c: core(judged.channel == c) for c in sorted(set(judged.channel.tolist()))}
    return out
