"""Where a rebuild starts folding a partition (handlers/rebuild.py `start_offset`)."""

from __future__ import annotations

from services.scoring.handlers.rebuild import start_offset


def test_an_empty_schema_is_rebuilt_from_the_log_start_not_from_the_groups_old_place() -> None:
    # the service's own group has committed 9,000: that place belongs to the database that was lost
    assert start_offset(committed=9_000, beginning=120, from_committed=False) == 120


def test_a_group_created_for_the_replay_can_be_continued_from_its_committed_offsets() -> None:
    assert start_offset(committed=9_000, beginning=120, from_committed=True) == 9_000
    assert start_offset(committed=None, beginning=120, from_committed=True) == 120
