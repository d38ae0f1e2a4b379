"""From scores to a decision: dispatch or the centre's manual queue, and the assisting departments.

Thresholds come from the artefact (chosen on the development split, README): `dispatch_threshold` for
ordinary texts, the stricter `urgent_threshold` for urgent ones — an urgent text the model is unsure of
goes to the centre at once, flagged, never to a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.router.classification.selective import RuleJudgement
from services.router.classification.urgency import Urgency
from services.router.domain.classify import Classification
from services.router.domain.responsibility import ResponsibilityItem

LOCATIONAL = frozenset({"GRID", "COMMUNITY", "STREET"})


@dataclass(frozen=True)
class Thresholds:
    dispatch: float
    urgent: float
    assist: float

    @classmethod
    def of(cls, settings: Mapping[str, float], dispatch: float | None = None) -> Thresholds:
        base = dispatch if dispatch is not None else settings.get("dispatch_threshold", 0.55)
        return cls(dispatch=base, urgent=max(base, settings.get("urgent_threshold", 0.9)),
                   assist=settings.get("assist_threshold", 0.2))


@dataclass(frozen=True)
class Verdict:
    dispatch: bool
    threshold: float
    why_manual: str | None = None
    rule: RuleJudgement | None = None  # the dispatch rule's judgement, when the artefact has one


def verdict(classification: Classification, urgency: Urgency, thresholds: Thresholds,
            score: float | None = None, rule: RuleJudgement | None = None) -> Verdict:
    """`score`: the confidence judged against the threshold when it is not the top item's own (the
    department's, `dispatch_on_department` in the artefact); `rule`: the dispatch rule's judgement, whose
    probability is then what is judged (selective.py)."""
    threshold = thresholds.urgent if urgency.urgent else thresholds.dispatch
    top = classification.top
    if top is None:
        return Verdict(False, threshold, "no responsibility item matched")
    confidence = rule.probability if rule is not None else top.score if score is None else score
    if confidence >= threshold:
        return Verdict(True, threshold, rule=rule)
    why = f"{confidence:.2f} < {threshold:.2f}" + (f"; the rule's strongest evidence: {rule.reasons()}" if rule else "")
    if urgency.urgent:
        return Verdict(False, threshold, f"urgent and the classifier is unsure ({why}): to the centre at once", rule)
    return Verdict(False, threshold, f"no responsibility item matched with enough confidence ({why})", rule)


def assisting(clause_items: Sequence[tuple[str, float]], lead: ResponsibilityItem,
              items: Mapping[str, ResponsibilityItem], threshold: float) -> tuple[ResponsibilityItem, ...]:
    """协办: a clause of the text that on its own names, with probability ≥ `threshold`, an item owned by
    a department (not a place) other than the lead's; one assisting item per department."""
    chosen: list[ResponsibilityItem] = []
    owners = {lead.owner}
    for code, probability in clause_items:
        item = items.get(code)
        if item is None or probability < threshold or item.owner in owners or item.owner in LOCATIONAL:
            continue
        chosen.append(item)
        owners.add(item.owner)
    return tuple(chosen)
