"""A publisher catching up on a long backlog publishes a month's cards once its events are consumed."""

from __future__ import annotations

from schemas.score import EntityType
from services.scoring.domain.catch_up import Deferral

JULY = ("2031-07", EntityType.DEPARTMENT)
AUGUST = ("2031-08", EntityType.DEPARTMENT)


def test_caught_up_every_dirty_group_is_recomputed_at_once() -> None:
    assert Deferral().due({JULY: 5, AUGUST: 9}, now=0.0, catching_up=False, max_wait=60.0) == [JULY, AUGUST]


def test_catching_up_a_group_still_being_marked_waits_for_a_round_without_new_marks() -> None:
    deferral = Deferral()
    assert deferral.due({JULY: 5}, now=0.0, catching_up=True, max_wait=60.0) == []
    assert deferral.due({JULY: 8, AUGUST: 9}, now=2.0, catching_up=True, max_wait=60.0) == []
    # July's events are all consumed (no new mark); August's still come.
    assert deferral.due({JULY: 8, AUGUST: 12}, now=4.0, catching_up=True, max_wait=60.0) == [JULY]
    assert deferral.due({AUGUST: 15}, now=6.0, catching_up=True, max_wait=60.0) == []


def test_catching_up_a_group_marked_without_pause_is_published_after_the_longest_wait() -> None:
    deferral = Deferral()
    assert deferral.due({JULY: 1}, now=0.0, catching_up=True, max_wait=60.0) == []
    assert deferral.due({JULY: 2}, now=59.0, catching_up=True, max_wait=60.0) == []
    assert deferral.due({JULY: 3}, now=60.0, catching_up=True, max_wait=60.0) == [JULY]
    # New marks after it was recomputed: it waits again from now.
    assert deferral.due({JULY: 4}, now=61.0, catching_up=True, max_wait=60.0) == []


def test_when_the_consumer_catches_up_the_deferred_groups_are_recomputed() -> None:
    deferral = Deferral()
    deferral.due({JULY: 5, AUGUST: 9}, now=0.0, catching_up=True, max_wait=60.0)
    assert deferral.due({JULY: 6, AUGUST: 10}, now=2.0, catching_up=False, max_wait=60.0) == [JULY, AUGUST]
