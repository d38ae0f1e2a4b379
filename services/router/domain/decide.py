"""The routing decision for a new incident: locate, classify, choose owner and level, set deadlines.

Every decision carries an explanation (which item, which keywords and conditions, what score, which
grid and how it was found) — shown on the case and by the `explain` command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from schemas.case import Assignment, Deadlines
from schemas.common import Level, Urgency
from schemas.incident import IncidentReported
from services.router.classification.decision import Engine, TextDecision, TextRequest, decide_texts
from services.router.classification.knowledge import Entry
from services.router.domain.classify import Classification, Classifier
from services.router.domain.conditions import ClassifyContext, DedicatedType, GridKind
from services.router.domain.departments import LOCATIONAL_OWNERS
from services.router.domain.locate import Gazetteer, Place
from services.router.domain.responsibility import ResponsibilityItem, ResponsibilityList

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
Outcome = Literal["dispatch", "manual", "on_the_spot", "answered"]


@dataclass(frozen=True)
class Routing:
    outcome: Outcome
    list_version: str
    place: Place | None
    item: ResponsibilityItem | None
    assignment: Assignment | None
    deadlines: Deadlines | None
    candidates: tuple[str, ...]  # next owners to try after a return (退单)
    explanation: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None
    urgent: bool = False  # detected danger to life or property (classification.urgency)
    answer: Entry | None = None  # outcome `answered`: the knowledge-base entry (直接答复)


@dataclass(frozen=True)
class RoutingTables:
    """One version of everything the router decides with (swapped atomically on hot reload)."""

    responsibility_list: ResponsibilityList
    classifier: Classifier
    gazetteer: Gazetteer
    confidence_threshold: float = 0.55
    engine: Engine | None = None  # the trained model, knowledge base and thresholds (classification/)
    digest: str = ""  # of the files these tables were read from ("": unknown); the decision worker's answers
    # are used only under tables of the same digest (services/router/decider)

    @property
    def version(self) -> str:
        return self.responsibility_list.version

    @property
    def model_version(self) -> str | None:
        return self.engine.model_version if self.engine else None


def locate(incident: IncidentReported, gazetteer: Gazetteer) -> Place | None:
    loc = incident.location
    if loc.point is not None and (found := gazetteer.at_point(loc.point.lon, loc.point.lat)):
        return found
    if loc.grid_id and (found := gazetteer.at_grid(loc.grid_id)):
        return found
    for text in (loc.address, incident.text):
        if text and (found := gazetteer.at_address(text)):
            return found
    return None


def route(incident: IncidentReported, tables: RoutingTables) -> Routing:
    return route_many([incident], tables)[0]


def route_many(incidents: Sequence[IncidentReported], tables: RoutingTables) -> list[Routing]:
    """`route` of a poll's incidents: the same decisions, the classifier's model run once over the batch."""
    places = [locate(incident, tables.gazetteer) for incident in incidents]
    by_code = tables.responsibility_list.by_code
    pending = {k: _request(incident, place) for k, (incident, place) in enumerate(zip(incidents, places, strict=True))
               if not (incident.category_code and incident.category_code in by_code)}
    decisions: dict[int, TextDecision] = {}
    if tables.engine is not None and pending:
        decisions = dict(zip(pending, decide_texts(tables.engine, list(pending.values())), strict=True))
    return [_route(incident, place, tables, pending.get(k), decisions.get(k))
            for k, (incident, place) in enumerate(zip(incidents, places, strict=True))]


def _route(incident: IncidentReported, place: Place | None, tables: RoutingTables, request: TextRequest | None,
           decision: TextDecision | None) -> Routing:
    explanation: dict[str, Any] = {"list_version": tables.version, "model_version": tables.model_version,
                                   "location": _explain_place(place)}
    item, classification = _choose_item(incident, tables, request, decision)
    explanation["classification"] = _explain_classification(item, classification)
    urgent = bool(decision and decision.urgency.urgent)
    if decision is not None:
        explanation["classification"].update(_explain_model(decision, tables))
        explanation["urgency"] = decision.urgency.explain()
        if decision.answer is not None:
            answer = decision.answer
            explanation["answer"] = {"entry_id": answer.id, "topic": answer.topic, "source": answer.source}
            held = queue_assignment(place, decision.item)
            return Routing("answered", tables.version, place, decision.item, held, None, (), explanation,
                           tables.model_version, False, answer)
    if item is None:
        explanation["why_manual"] = (decision.verdict.why_manual if decision and decision.verdict.why_manual
                                     else "no responsibility item matched with enough confidence")
        return Routing("manual", tables.version, place, None, queue_assignment(place), None, (), explanation,
                       tables.model_version, urgent)
    precise = place is not None and (place.grid_id is not None or item.owner not in LOCATIONAL_OWNERS)
    dispatch = assign(item, place) if precise else None
    if dispatch is None:
        explanation["why_manual"] = "the incident could not be located precisely enough for its owner"
        return Routing("manual", tables.version, place, item, queue_assignment(place), None, (), explanation,
                       tables.model_version, urgent)
    assignment = dispatch.assignment
    explanation["dispatch"] = dispatch.explanation
    if decision is not None and decision.assisting:
        assignment = assignment.model_copy(update={"assisting": tuple(i.owner for i in decision.assisting)})
        explanation["dispatch"] = {**dispatch.explanation, "lead": assignment.owner, "assisting": [
            {"owner": i.owner, "item_code": i.code, "item_name": i.name} for i in decision.assisting]}
    outcome: Outcome = "on_the_spot" if incident.on_the_spot and incident.on_the_spot.handled else "dispatch"
    return Routing(outcome, tables.version, place, item, assignment, dispatch.deadlines,
                   dispatch.candidates, explanation, tables.model_version, urgent)


@dataclass(frozen=True)
class Dispatch:
    """Who takes a case for an item in a place, at which level, within which limits (STYLE.md §22: the
    router's own dispatch and the centre's hand dispatch both come through `assign`)."""

    assignment: Assignment
    deadlines: Deadlines
    candidates: tuple[str, ...]  # next owners to try after a return (退单)
    explanation: dict[str, Any]


def assign(item: ResponsibilityItem, place: Place | None) -> Dispatch | None:
    """The item's owner resolved in the place, its level, limits and ladder; None when the owner is
    locational (grid, community, street) and the place does not name one."""
    where = place or Place("unlocated", "", None, None, None)
    owner, unit, level, first_choice = _owner(item, where)
    if owner in LOCATIONAL_OWNERS and unit is None:
        return None
    candidates = tuple(dict.fromkeys(a for a in (*first_choice, *item.alternates) if a != owner))
    assignment = Assignment(
        owner=owner, owner_unit=unit, level=level, item_code=item.code, item_name=item.name,
        grid_id=where.grid_id, community_id=where.community_id, street_id=where.street_id,
    )
    deadlines = Deadlines(
        accept_within=str(item.deadlines.accept), handle_within=str(item.deadlines.handle),
        clock=item.deadlines.clock, escalation=tuple(Level(step) for step in item.escalation),
        rung_limits={Level(step): str(limit) for step, limit in item.rung_limits.items()},
    )
    explanation = {
        "owner": owner, "owner_unit": unit, "level": level.value, "next_candidates": list(candidates),
        "rule": "dedicated grid: its unit first" if first_choice else "owner and level from the item",
    }
    return Dispatch(assignment, deadlines, candidates, explanation)


def queue_assignment(place: Place | None, item: ResponsibilityItem | None = None) -> Assignment:
    """A case waiting in the centre's queue (or answered by it): the centre holds it, and it keeps the
    place found for it (and the item, when the centre answered an enquiry about one)."""
    return Assignment(owner="CENTER", level=Level.DISTRICT, item_code=item.code if item else None,
                      item_name=item.name if item else None, grid_id=place.grid_id if place else None,
                      community_id=place.community_id if place else None,
                      street_id=place.street_id if place else None)


def _request(incident: IncidentReported, place: Place | None) -> TextRequest:
    context = ClassifyContext(
        channel=incident.channel,
        grid_kind=GridKind(place.kind) if place and place.kind else None,
        dedicated_type=DedicatedType(place.dedicated_type) if place and place.dedicated_type else None,
        urgency=incident.urgency,
        local_time=incident.reported_at.astimezone(LOCAL_TZ).time(),
    )
    return TextRequest(incident.text, incident.category_hint or incident.category_code, context,
                       appeal_type=incident.appeal_type.value if incident.appeal_type else None,
                       reported_urgent=incident.urgency is not Urgency.NORMAL,
                       day=incident.reported_at.astimezone(LOCAL_TZ).date())


def _choose_item(incident: IncidentReported, tables: RoutingTables, request: TextRequest | None,
                 decision: TextDecision | None) -> tuple[ResponsibilityItem | None, Classification | None]:
    by_code = tables.responsibility_list.by_code
    if request is None:
        return by_code[incident.category_code or ""], None  # grid workers pick the item in the app
    if decision is not None:
        chosen = decision.item if decision.outcome == "dispatch" else None
        return chosen, decision.assessment.classification
    result = tables.classifier.decide(request.text, request.hint, request.context, tables.confidence_threshold)
    if result.top is None or not result.confident:
        return None, result
    return by_code[result.top.item_code], result


def _owner(item: ResponsibilityItem, place: Place) -> tuple[str, str | None, Level, tuple[str, ...]]:
    """Owner, owner unit, level; dedicated grids send locational items to their unit first."""
    level = Level(item.level)
    if item.owner in LOCATIONAL_OWNERS and place.kind == "dedicated" and place.unit_department:
        return place.unit_department, place.unit, level, (item.owner,)
    if item.owner == "GRID":
        return "GRID", place.grid_id, level, ()
    if item.owner == "COMMUNITY":
        return "COMMUNITY", place.community_id, level, ()
    if item.owner == "STREET":
        return "STREET", place.street_id, level, ()
    return item.owner, None, level, ()


def escalate(assignment: Assignment, ladder: tuple[Level, ...]) -> Assignment | None:
    """The next rung above the current level, and who holds the case there (None: top of the ladder)."""
    order = list(Level)
    above = [step for step in ladder if order.index(step) > order.index(assignment.level)]
    if not above:
        return None
    level = above[0]
    owner, unit = assignment.owner, assignment.owner_unit
    if owner in LOCATIONAL_OWNERS or owner == "CENTER":
        if level is Level.COMMUNITY:
            owner, unit = "COMMUNITY", assignment.community_id
        elif level is Level.STREET:
            owner, unit = "STREET", assignment.street_id
        else:  # district and above: the command centre coordinates the departments (提级联办)
            owner, unit = "CENTER", None
    return assignment.model_copy(update={"level": level, "owner": owner, "owner_unit": unit})


def _explain_place(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {"method": place.method, "detail": place.detail, "grid_id": place.grid_id,
            "community_id": place.community_id, "street_id": place.street_id, "grid_kind": place.kind,
            "dedicated_type": place.dedicated_type, "unit": place.unit}


def _explain_classification(item: ResponsibilityItem | None, result: Classification | None) -> dict[str, Any]:
    if result is None:
        return {"method": "category_code", "item_code": item.code if item else None,
                "item_name": item.name if item else None}
    return {
        "method": "keywords",
        "item_code": item.code if item else None,
        "item_name": item.name if item else None,
        "confident": result.confident,
        "candidates": [
            {"item_code": c.item_code, "score": round(c.score, 4), "matched_keywords": list(c.matched_keywords),
             "conditions": list(c.conditions_checked)}
            for c in result.candidates[:3]
        ],
    }


def _explain_model(decision: TextDecision, tables: RoutingTables) -> dict[str, Any]:
    """Method, thresholds, strongest features and nearest labelled examples of the learned model."""
    assert tables.engine is not None
    verdict = decision.verdict
    return {"method": "model+keywords" if tables.engine.model_version else "keywords",
            "threshold": verdict.threshold, "confident": verdict.dispatch,
            "department_score": decision.assessment.department_score,
            **({"dispatch_rule": verdict.rule.explain(verdict.threshold)} if verdict.rule else {}),
            **tables.engine.ensemble.explain(decision.assessment)}


def local_time(at: datetime) -> datetime:
    return at.astimezone(LOCAL_TZ)
