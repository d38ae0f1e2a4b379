"""Consultations answered from the knowledge base: all match groups, valid that day, about a top item."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.router.classification.knowledge import Entry, KnowledgeBase, KnowledgeError, load_knowledge

CARD = Entry(id="KB-card", topic="社保卡", items=("D04.001",), match=(("社保卡",), ("补办", "丢了")),
             answer="到政务中心办理", source="指南", valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31))


def test_an_entry_answers_when_every_group_matches_and_its_item_is_a_candidate() -> None:
    kb = KnowledgeBase([CARD])
    assert kb.answer("我的社保卡丢了怎么办", ["D04.001", "D04.002"], date(2026, 6, 1)) == CARD


def test_no_answer_when_a_group_is_missing_or_the_item_is_not_a_candidate() -> None:
    kb = KnowledgeBase([CARD])
    assert kb.answer("社保卡怎么用", ["D04.001"], date(2026, 6, 1)) is None
    assert kb.answer("我的社保卡丢了", ["A01.001"], date(2026, 6, 1)) is None


def test_an_answer_outside_its_validity_is_not_given() -> None:
    kb = KnowledgeBase([CARD])
    assert kb.answer("社保卡丢了", ["D04.001"], date(2027, 1, 1)) is None
    assert kb.answer("社保卡丢了", ["D04.001"], date(2025, 12, 31)) is None


def test_the_most_specific_entry_wins() -> None:
    broad = CARD.model_copy(update={"id": "KB-broad", "match": (("社保卡",),)})
    assert KnowledgeBase([broad, CARD]).answer("社保卡丢了", ["D04.001"], date(2026, 6, 1)) == CARD


def test_duplicate_ids_and_bad_entries_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError):
        KnowledgeBase([CARD, CARD])
    (tmp_path / "bad.yaml").write_text("entries:\n  - {id: KB-x, topic: t, answer: a, source: s}\n")
    with pytest.raises(KnowledgeError, match=r"bad\.yaml entry 1"):
        load_knowledge(tmp_path)


def test_the_repository_knowledge_base_loads_and_names_only_list_items() -> None:
    from services.router.settings import RouterSettings
    from tests.unit.router._lists import REPO_LIST, load

    kb = load_knowledge(RouterSettings().knowledge_dir)
    codes = set(load(REPO_LIST).by_code)
    assert kb.entries and all(set(e.items) <= codes for e in kb.entries)
