"""The garbage collector while a service runs: what start-up loaded stays out of its passes, young
collections run less often, and shut-down puts it back as it was."""

from __future__ import annotations

import gc

from runtime.app import service_app
from runtime.heap import GEN0_THRESHOLD, settled_heap
from runtime.settings import PlatformSettings


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



class _Service:
    async def close(self) -> None:
        pass


async def _start() -> _Service:
    return _Service()


async def test_every_service_app_runs_with_the_settled_heap() -> None:
    """Router, sla and scoring (runtime.app.service_app) as intake: a poll batch of the router allocates
    its cases, events and routings by the tens of thousands (docs/benchmarks.md, router seventh pass)."""
    before = gc.get_threshold()
    app = service_app("heap-test", "", PlatformSettings(), _start, [])  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == (GEN0_THRESHOLD, before[1], before[2]) and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
