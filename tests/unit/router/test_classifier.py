"""The classifier ranks responsibility items for an incident text, within the item's conditions."""

from __future__ import annotations

from datetime import time
from itertools import product

import jieba

from schemas.common import Channel, Urgency
from services.router.domain.classify import Candidate, Classification, Classifier, ClassifyContext
from services.router.domain.conditions import DedicatedType, GridKind, PassedMemo
from services.router.domain.responsibility import ResponsibilityItem, ResponsibilityList
from tests.unit.router._lists import item

HOTLINE = ClassifyContext(channel=Channel.HOTLINE, local_time=time(10, 0))


def small_list(*items: dict[str, object]) -> ResponsibilityList:
    parsed = tuple(ResponsibilityItem.model_validate(raw) for raw in items)
    return ResponsibilityList(version="t", effective_from="2026-11-01", classes=(), items=parsed)


def codes(candidates: list[object]) -> list[str]:
    return [c.item_code for c in candidates]  # type: ignore[attr-defined]


def test_manhole_text_classifies_to_manhole_item(classifier: Classifier) -> None:
    [top, *_] = classifier.classify("人民路口的井盖不见了，晚上很危险", None, HOTLINE)
    assert top.item_code == "A04.001"
    assert "井盖" in top.matched_keywords


def test_candidates_are_sorted_with_scores_between_zero_and_one(classifier: Classifier) -> None:
    candidates = classifier.classify("小区停水了，楼道里的水管还在漏水", None, HOTLINE)
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    assert codes(candidates)[:2] == ["A05.001", "A05.002"]


def test_keyword_is_found_whether_jieba_splits_it_or_swallows_it() -> None:
    classifier = Classifier(small_list(item("A01.001", keywords={"停水": 3.0}),
                                       item("A01.002", keywords={"水压低": 3.0})))
    assert codes(classifier.classify("今天停水停电了", None, HOTLINE))[:1] == ["A01.001"]
    assert codes(classifier.classify("六楼水压低得很", None, HOTLINE))[:1] == ["A01.002"]


def test_a_keyword_inside_a_longer_keyword_of_the_same_item_is_not_counted_twice() -> None:
    classifier = Classifier(small_list(item("A01.001", keywords={"下水道盖": 3.0, "下水道": 2.5})))
    [top] = classifier.classify("路口的下水道盖丢了", None, HOTLINE)
    assert top.matched_keywords == ("下水道盖",)


def test_a_keyword_counts_once_however_often_it_is_repeated() -> None:
    classifier = Classifier(small_list(item("A01.001", keywords={"井盖": 3.0}),
                                       item("A01.002", keywords={"路灯": 2.0, "灯杆": 2.0})))
    [top, second] = classifier.classify("井盖井盖井盖，路灯灯杆", None, HOTLINE)
    assert (top.item_code, second.item_code) == ("A01.002", "A01.001")


def test_a_feared_event_counts_less_than_a_reported_one() -> None:
    classifier = Classifier(small_list(item("A01.001", keywords={"着火": 3.0}),
                                       item("A01.002", keywords={"电线": 2.0})))
    assert codes(classifier.classify("楼道里乱拉电线，万一着火怎么办", None, HOTLINE))[0] == "A01.002"
    assert codes(classifier.classify("楼道里乱拉电线，已经着火了", None, HOTLINE))[0] == "A01.001"


def test_items_whose_conditions_fail_are_excluded(classifier: Classifier) -> None:
    text = "医院门诊大厅有号贩子倒卖专家号"
    assert "D06.001" not in codes(classifier.classify(text, None, HOTLINE))


def test_dedicated_hospital_grid_routes_to_health_first(classifier: Classifier) -> None:
    context = ClassifyContext(channel=Channel.GRID, grid_kind=GridKind.DEDICATED,
                              dedicated_type=DedicatedType.HOSPITAL, local_time=time(9, 0))
    [top, *_] = classifier.classify("病房里患者家属和医生发生冲突", None, context)
    assert top.item_code == "D06.001"
    assert top.conditions_checked == ("grid_kinds", "dedicated_types")


def test_night_construction_goes_to_the_night_item_by_priority(classifier: Classifier) -> None:
    text = "旁边工地还在打桩"
    night = HOTLINE.model_copy(update={"local_time": time(23, 30)})
    [top, second, *_] = classifier.classify(text, None, night)
    assert (top.item_code, second.item_code) == ("A03.002", "A03.001")
    assert top.score > second.score and top.conditions_checked == ("hours",)
    assert codes(classifier.classify(text, None, HOTLINE))[0] == "A03.001"


def test_a_grid_worker_reaches_a_code_only_item_by_its_code(classifier: Classifier) -> None:
    grid = ClassifyContext(channel=Channel.GRID, local_time=time(9, 0))
    decision = classifier.decide("入户走访，门锁坏了已修好", "D07.001", grid)
    assert decision.top is not None and decision.top.item_code == "D07.001"
    assert decision.confident


def test_code_only_items_are_not_reached_by_text_or_from_other_channels(classifier: Classifier) -> None:
    assert "D07.001" not in codes(classifier.classify("网格员入户走访发现的一般问题", None, HOTLINE))
    assert "D07.001" not in codes(classifier.classify("门锁坏了", "D07.001", HOTLINE))


def test_a_class_or_group_hint_favours_its_items() -> None:
    classifier = Classifier(small_list(item("A01.001", keywords={"噪音": 1.0}),
                                       item("B01.001", keywords={"噪音": 1.0})))
    assert codes(classifier.classify("噪音很大", "B01", HOTLINE))[0] == "B01.001"
    assert codes(classifier.classify("噪音很大", None, HOTLINE))[0] == "A01.001"


def test_a_free_text_hint_adds_weaker_evidence(classifier: Classifier) -> None:
    [top, *_] = classifier.classify("麻烦尽快处理一下", "路灯不亮", HOTLINE)
    assert top.item_code == "A04.002"
    assert top.score < classifier.classify("路灯不亮", None, HOTLINE)[0].score


def test_text_without_any_keyword_has_no_candidates_and_is_not_confident(classifier: Classifier) -> None:
    decision = classifier.decide("您好，我想问一下", None, HOTLINE)
    assert decision == Classification(candidates=(), top=None, confident=False)


def test_confidence_follows_the_threshold(classifier: Classifier) -> None:
    text = "小区从早上开始停水，到现在还没水"
    assert classifier.decide(text, None, HOTLINE, threshold=0.5).confident
    assert not classifier.decide(text, None, HOTLINE, threshold=0.99).confident


def test_the_global_jieba_dictionary_is_left_alone() -> None:
    Classifier(small_list(item("A01.001", keywords={"网格专用怪词": 3.0})))
    assert "网格专用怪词" not in jieba.dt.FREQ


def test_built_candidates_and_classifications_are_what_model_construct_makes() -> None:
    built = Candidate.built("A01.001", 0.75, ("垃圾",), ("channels",))
    constructed = Candidate.model_construct(item_code="A01.001", score=0.75, matched_keywords=("垃圾",),
                                            conditions_checked=("channels",))
    validated = Candidate(item_code="A01.001", score=0.75, matched_keywords=("垃圾",), conditions_checked=("channels",))
    for other in (constructed, validated):
        assert built == other and hash(built) == hash(other)
        assert list(built.__dict__.items()) == list(other.__dict__.items())
        assert built.model_fields_set == other.model_fields_set
        assert (built.__pydantic_extra__, built.__pydantic_private__) == \
            (other.__pydantic_extra__, other.__pydantic_private__)
        assert built.model_dump_json() == other.model_dump_json()
    chosen = Classification.of([built], 0.5)
    assert chosen == Classification.model_construct(candidates=(built,), top=built, confident=True)
    assert list(chosen.__dict__) == ["candidates", "top", "confident"]
    assert chosen.model_fields_set == {"candidates", "top", "confident"}
    assert Classification.of([], 0.5) == Classification(candidates=(), top=None, confident=False)


def test_remembered_conditions_are_judged_as_the_conditions_judge_them(repo_list: ResponsibilityList) -> None:
    """`PassedMemo` (the classifiers judge an item's conditions once per channel, grid kind, dedicated type
    and urgency) answers what `Conditions.passed` answers for every context; an item with hours is judged
    at the context's own time, never from memory."""
    items = repo_list.items
    memo = PassedMemo([listed.conditions for listed in items])
    kinds = [None, *GridKind]
    dedicated = [None, *DedicatedType]
    times = [None, time(3, 0), time(12, 0), time(23, 30)]
    assert any(listed.conditions.hours is not None for listed in items)
    for _ in range(2):  # the second round answers from memory
        for channel, kind, dedicated_type, urgency, at in product(Channel, kinds, dedicated, Urgency, times):
            context = ClassifyContext(channel=channel, grid_kind=kind, dedicated_type=dedicated_type,
                                      urgency=urgency, local_time=at)
            for index, listed in enumerate(items):
                assert memo.passed(index, context) == listed.conditions.passed(context)
