"""A background loop that dies (its database restarted, its broker went away) is started again with
backoff, is reported not ready meanwhile, and ready again once it has run a while — without anyone
restarting the process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from runtime.service import Loops


async def until(condition: Callable[[], bool], steps: int = 500) -> None:
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


def _loops() -> Loops:
    return Loops(backoff_initial=0.01, backoff_max=0.02, settle=0.05)


async def test_a_loop_that_raises_is_restarted_until_it_runs() -> None:
    loops = _loops()
    runs: list[int] = []
    running = asyncio.Event()

    async def flaky(stop: asyncio.Event) -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ConnectionResetError("the database restarted")
        running.set()
        await stop.wait()

    loops.start("outbox", flaky)
    await asyncio.wait_for(running.wait(), 5)
    assert len(runs) == 3
    assert loops.report()["outbox"]["restarts"] == 2
    await loops.close()


async def test_a_failing_loop_is_not_ready_while_it_fails_and_ready_after_it_settles() -> None:
    loops = _loops()
    outage = asyncio.Event()
    outage.set()
    failed = asyncio.Event()
    running = asyncio.Event()

    async def timer(stop: asyncio.Event) -> None:
        if outage.is_set():
            failed.set()
            raise OSError("connection refused")
        running.set()
        await stop.wait()

    loops.start("timer", timer)
    await asyncio.wait_for(failed.wait(), 5)
    assert not loops.alive()
    outage.clear()
    await asyncio.wait_for(running.wait(), 5)
    await until(loops.alive)  # settles by itself: no one restarts it
    assert loops.report()["timer"]["last_error"] == "OSError('connection refused')"
    await loops.close()


async def test_close_stops_a_loop_that_is_waiting_for_its_restart() -> None:
    loops = Loops(backoff_initial=60, backoff_max=60)

    async def broken(stop: asyncio.Event) -> None:
        raise RuntimeError("bug")

    loops.start("consumer", broken)
    await until(lambda: bool(loops.report()["consumer"]["restarts"]))
    await asyncio.wait_for(loops.close(grace=0.1), 5)
    assert loops.tasks["consumer"].done()


async def test_close_lets_a_loop_finish_what_it_holds() -> None:
    loops = _loops()
    finished: list[str] = []

    async def relay(stop: asyncio.Event) -> None:
        await stop.wait()
        await asyncio.sleep(0.01)  # the batch in hand is published before the loop returns
        finished.append("batch")

    loops.start("outbox", relay)
    await asyncio.sleep(0)
    await loops.close(grace=5)
    assert finished == ["batch"]
