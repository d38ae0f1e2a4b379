"""One text, one decision (classification side): answered, dispatch or manual; urgency; assisting items.

`decide.route` adds the place; the `classify` and `evaluate` commands use this directly, so all three
judge a text the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.router.classification.ensemble import Assessment, EnsembleClassifier
from services.router.classification.knowledge import Entry, KnowledgeBase
from services.router.classification.policy import Thresholds, Verdict, assisting, verdict
from services.router.classification.selective import DispatchRule, evidence
from services.router.classification.urgency import Urgency, assess
from services.router.classification.vague import says_nothing
from services.router.domain.classify import ClassifyContext
from services.router.domain.responsibility import ResponsibilityItem, ResponsibilityList

TextOutcome = Literal["dispatch", "manual", "answered"]
ENQUIRY = "咨询"
_QUESTION_MARKERS = ("吗", "怎么", "如何", "哪里", "哪儿", "多少", "什么时候", "能不能", "可以不", "是否", "?")


@dataclass(frozen=True)
class Engine:
    """Everything that judges a text, of one (list, model, knowledge) version."""

    responsibility_list: ResponsibilityList
    ensemble: EnsembleClassifier
    knowledge: KnowledgeBase
    thresholds: Thresholds
    rule: DispatchRule | None = None  # the artefact's dispatch rule (None: the department's probability is judged)

    @property
    def model_version(self) -> str | None:
        return self.ensemble.version


@dataclass(frozen=True)
class TextDecision:
    outcome: TextOutcome
    assessment: Assessment
    urgency: Urgency
    verdict: Verdict
    item: ResponsibilityItem | None
    assisting: tuple[ResponsibilityItem, ...]
    answer: Entry | None


@dataclass(frozen=True)
class TextRequest:
    """One text to judge and what the router knows beside it."""

    text: str
    hint: str | None
    context: ClassifyContext
    appeal_type: str | None
    reported_urgent: bool
    day: date


def decide_text(engine: Engine, text: str, hint: str | None, context: ClassifyContext, *,
                appeal_type: str | None, reported_urgent: bool, day: date) -> TextDecision:
    request = TextRequest(text, hint, context, appeal_type, reported_urgent, day)
    return _decide(engine, request, engine.ensemble.assess(text, hint, context, engine.thresholds.dispatch))


def decide_texts(engine: Engine, requests: Sequence[TextRequest]) -> list[TextDecision]:
    """`decide_text` of a batch (a poll's texts): the same decisions."""
    assessed = engine.ensemble.assess_many([(r.text, r.hint, r.context) for r in requests],
                                           engine.thresholds.dispatch)
    return [_decide(engine, r, a) for r, a in zip(requests, assessed, strict=True)]


def decide_assessed(engine: Engine, request: TextRequest, assessment: Assessment) -> TextDecision:
    """`decide_text` of a text `engine.ensemble` already assessed at `engine.thresholds.dispatch` (training
    judges the assessments it tuned on)."""
    return _decide(engine, request, assessment)


def _decide(engine: Engine, request: TextRequest, assessment: Assessment) -> TextDecision:
    settings = engine.ensemble.model.settings if engine.ensemble.model else {}
    text = request.text
    top = assessment.classification.top
    model = engine.ensemble.model
    urgent_item = top.item_code if top is not None and model is not None and top.item_code in model.urgent_items \
        else None
    urgency = assess(text, assessment.urgent_probability, settings.get("urgent_probability", 0.5),
                     request.reported_urgent, urgent_item)
    on_department = settings.get("dispatch_on_department", 0.0) >= 0.5
    by_code = engine.responsibility_list.by_code
    rule = None if engine.rule is None or top is None else engine.rule.judge(
        evidence(assessment, by_code, request.context.channel, text))
    judged = verdict(assessment.classification, urgency, engine.thresholds,
                     assessment.department_score if on_department else None, rule)
    if judged.dispatch and says_nothing(text):
        judged = Verdict(False, judged.threshold, "the text says nothing to route on (vague.py): the centre calls back",
                         judged.rule)
    item = by_code[top.item_code] if top is not None else None
    if not urgency.urgent and _enquiry(text, request.appeal_type, assessment,
                                       settings.get("enquiry_probability", 0.5)):
        codes = [c.item_code for c in assessment.classification.candidates[:3]]
        entry = engine.knowledge.answer(text, codes, request.day)
        if entry is not None:
            return TextDecision("answered", assessment, urgency, judged, item, (), entry)
    if not judged.dispatch or item is None:
        return TextDecision("manual", assessment, urgency, judged, item, (), None)
    helpers = assisting(engine.ensemble.clause_items(assessment.vector), item, by_code, engine.thresholds.assist)
    return TextDecision("dispatch", assessment, urgency, judged, item, helpers, None)


def _enquiry(text: str, appeal_type: str | None, assessment: Assessment, threshold: float) -> bool:
    if appeal_type is not None:
        return appeal_type == ENQUIRY
    if assessment.enquiry_probability is not None:
        return assessment.enquiry_probability >= threshold
    return any(marker in text for marker in _QUESTION_MARKERS)
