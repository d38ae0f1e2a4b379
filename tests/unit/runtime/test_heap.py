"""The garbage collector while a service runs: what start-up loaded stays out of its passes, young
collections run less often, and shut-down puts it back as it was."""

from __future__ import annotations

import gc

from runtime.heap import GEN0_THRESHOLD, settled_heap


def test_start_up_objects_are_frozen_out_of_collections_while_the_service_runs() -> None:
    loaded = [{"module": i} for i in range(1000)]  # what imports and bootstrap leave behind
    with settled_heap():
        assert gc.get_freeze_count() >= len(loaded)
    assert gc.get_freeze_count() == 0


def test_young_collections_wait_for_more_allocations_until_shut_down() -> None:
    before = gc.get_threshold()
    with settled_heap():
        assert gc.get_threshold() == (GEN0_THRESHOLD, before[1], before[2])
    assert gc.get_threshold() == before

