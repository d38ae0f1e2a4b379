"""Running a service's background loops (consumer, outbox relay, timers) beside its HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from runtime.logging import get_logger

log = get_logger(__name__)


@dataclass
class Loops:
    """Named background tasks sharing one stop signal; a task that dies makes the service not ready."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def start(self, name: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        async def guarded() -> None:
            try:
                await loop(self.stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("loop_died", loop=name)
                raise

        self.tasks[name] = asyncio.create_task(guarded(), name=name)

    def alive(self) -> bool:
        return all(not t.done() for t in self.tasks.values())

    async def close(self, grace: float = 5.0) -> None:
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
