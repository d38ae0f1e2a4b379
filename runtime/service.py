"""Running a service's background loops (consumer, outbox relay, timers) beside its HTTP API.

Every loop is supervised: when it raises (the database restarted under it, the broker went away, a
bug), the failure is logged, the loop is reported not ready and it is started again after an
exponential backoff (tenacity) — the process never has to be restarted by hand. A loop that has run
`settle` seconds since its last restart counts as recovered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from runtime.logging import get_logger
from runtime.metrics import LOOP_RESTARTS

log = get_logger(__name__)

Loop = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class LoopState:
    restarts: int = 0
    last_error: str | None = None
    failing: bool = False  # died and waiting for its restart
    started_at: float = 0.0


@dataclass
class Loops:
    """Named background tasks sharing one stop signal, each restarted with backoff when it dies."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    states: dict[str, LoopState] = field(default_factory=dict)
    service: str = ""
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    settle: float = 2.0

    def start(self, name: str, loop: Loop) -> None:
        state = self.states[name] = LoopState()

        def died(retry: RetryCallState) -> None:
            exc = retry.outcome.exception() if retry.outcome else None
            state.failing, state.last_error, state.restarts = True, repr(exc), state.restarts + 1
            LOOP_RESTARTS.labels(self.service, name).inc()
            log.error("loop_died", loop=name, error=repr(exc), restarts=state.restarts,
                      retry_in=round(retry.upcoming_sleep, 2))

        async def supervised() -> None:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(Exception),  # never CancelledError: close() still works
                wait=wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max),
                before_sleep=died,
                reraise=True,
            ):
                with attempt:
                    if self.stop.is_set():
                        return
                    state.failing, state.started_at = False, asyncio.get_running_loop().time()
                    if state.restarts:
                        log.info("loop_restarted", loop=name, restarts=state.restarts)
                    await loop(self.stop)

        self.tasks[name] = asyncio.create_task(supervised(), name=name)

    def healthy(self, name: str) -> bool:
        """Running, and (after a failure) up for `settle` seconds since its restart."""
        state, task = self.states[name], self.tasks[name]
        if task.done() or state.failing:
            return False
        return state.restarts == 0 or asyncio.get_running_loop().time() - state.started_at >= self.settle

    def alive(self) -> bool:
        return all(self.healthy(name) for name in self.tasks)

    def report(self) -> dict[str, dict[str, object]]:
        return {name: {"healthy": self.healthy(name), "restarts": s.restarts, "last_error": s.last_error}
                for name, s in self.states.items()}

    async def close(self, grace: float = 5.0) -> None:
        """Signal stop; loops finish what they hold (a batch, a publish) within `grace`, then are cancelled."""
        self.stop.set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks.values(), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)


async def start_consumer(consumer: AIOKafkaConsumer, attempts: int = 30) -> None:
    """Join the group; the first join on a fresh broker may meet GroupCoordinatorNotAvailable."""
    for attempt in range(attempts):
        try:
            await consumer.start()
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)
