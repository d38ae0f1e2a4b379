"""From scores to decisions: the stricter threshold for urgent texts, and the assisting departments."""

from __future__ import annotations

from services.router.classification.policy import Thresholds, assisting, verdict
from services.router.classification.urgency import Urgency
from services.router.domain.classify import Candidate, Classification
from services.router.domain.responsibility import ResponsibilityList

CALM = Urgency(False, (), None, False)
DANGER = Urgency(True, ("燃气泄漏",), None, False)
LIMITS = Thresholds(dispatch=0.6, urgent=0.9, assist=0.2)


def ranked(*pairs: tuple[str, float, tuple[str, ...]]) -> Classification:
    return Classification.of([Candidate(item_code=c, score=s, matched_keywords=k, conditions_checked=())
                              for c, s, k in pairs], 0.6)


def test_a_confident_ordinary_text_is_dispatched() -> None:
    assert verdict(ranked(("A01.001", 0.7, ("垃圾",))), CALM, LIMITS).dispatch


def test_an_urgent_text_the_model_is_unsure_of_goes_to_the_centre_at_once() -> None:
    judged = verdict(ranked(("B02.004", 0.7, ("困人",))), DANGER, LIMITS)
    assert not judged.dispatch and judged.why_manual and "urgent" in judged.why_manual
    assert verdict(ranked(("B02.004", 0.95, ("困人",))), DANGER, LIMITS).dispatch


def test_when_the_department_is_sure_between_its_own_items_the_text_is_dispatched() -> None:
    # 电梯困人 vs 电梯故障: the item is a toss-up, the department owning both is not
    unsure_item = ranked(("B02.004", 0.5, ()), ("B02.005", 0.45, ()))
    assert not verdict(unsure_item, CALM, LIMITS).dispatch
    judged = verdict(unsure_item, CALM, LIMITS, score=0.95)
    assert judged.dispatch and judged.threshold == LIMITS.dispatch
    assert not verdict(unsure_item, CALM, LIMITS, score=0.55).dispatch


def test_no_candidate_means_the_manual_queue() -> None:
    assert not verdict(Classification.of([], 0.6), CALM, LIMITS).dispatch


def test_a_clause_naming_another_departments_problem_makes_it_assist(repo_list: ResponsibilityList) -> None:
    by_code = repo_list.by_code
    places = {"GRID", "COMMUNITY", "STREET"}
    lead = next(i for i in repo_list.items if i.owner not in places)
    other = next(i for i in repo_list.items if i.owner not in {lead.owner, *places})
    same = next(i for i in repo_list.items if i.owner == lead.owner and i.code != lead.code)
    grid = next(i for i in repo_list.items if i.owner == "GRID")
    clauses = [(lead.code, 0.9), (other.code, 0.8), (same.code, 0.9), (grid.code, 0.9), (other.code, 0.95)]
    assert assisting(clauses, lead, by_code, 0.5) == (other,)


def test_a_weakly_named_problem_does_not_assist(repo_list: ResponsibilityList) -> None:
    by_code = repo_list.by_code
    depts = [i for i in repo_list.items if i.owner not in {"GRID", "COMMUNITY", "STREET"}]
    lead, other = depts[0], next(i for i in depts if i.owner != depts[0].owner)
    assert assisting([(lead.code, 0.9), (other.code, 0.4)], lead, by_code, 0.5) == ()
    assert assisting([("Z99.999", 0.9)], lead, by_code, 0.5) == ()
