"""A text that says nothing routable goes to the centre, however confident the model is (vague.py)."""

from __future__ import annotations

from datetime import date

import pytest

from services.router.classification.decision import Engine, decide_text
from services.router.classification.evaluate import context_for
from services.router.classification.vague import content, says_nothing


@pytest.mark.parametrize("text", ["你好，我想问一下这个事情", "喂？", "您好 我想反映个问题", "在吗在吗😭",
                                  "我想问一下这个事情怎么办"])
def test_greetings_and_fillers_say_nothing(text: str) -> None:
    assert says_nothing(text)


@pytest.mark.parametrize(("text", "kept"), [("路灯坏了", "路灯坏"), ("垃圾", "垃圾"), ("电梯", "电梯"),
                                            ("楼下又停满了车 进不去", "楼下又停满车进不去")])
def test_a_short_text_with_a_subject_says_something(text: str, kept: str) -> None:
    assert content(text) == kept and not says_nothing(text)


def test_the_model_does_not_dispatch_a_text_that_says_nothing(engine: Engine) -> None:
    decision = decide_text(engine, "你好，我想问一下这个事情", None, context_for("hotline"), appeal_type=None,
                           reported_urgent=False, day=date(2026, 12, 1))
    assert decision.outcome == "manual" and decision.verdict.why_manual is not None
    assert "says nothing" in decision.verdict.why_manual
