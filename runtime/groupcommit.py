"""Group commit: callers that arrive while a group is being made durable share the next group, so N
concurrent callers pay for one transaction and one produce batch instead of N (the classic database
log's group commit). At most `in_flight` groups run at once; a group is everything queued when a slot
frees up (up to `max_group`). Each caller gets its own item's result, or the group's exception.
`submit_many` queues several items of one caller at once (a batch call), with no task per item."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Again:
    """The commit's answer for an item that must go through a later group (e.g. a second copy of an id
    already in this group: it meets the first one's result there)."""


AGAIN = Again()


class GroupCommit(Generic[T, R]):
    def __init__(self, commit: Callable[[list[T]], Awaitable[list[R | Again]]], *, max_group: int = 1000,
                 in_flight: int = 2, on_group: Callable[[int], None] | None = None) -> None:
        self.commit = commit
        self.max_group = max_group
        self._slots = asyncio.Semaphore(in_flight)
        self._queue: list[tuple[T, asyncio.Future[R | Again]]] = []
        self._runner: asyncio.Task[None] | None = None
        self._groups: set[asyncio.Task[None]] = set()
        self.sizes: deque[int] = deque(maxlen=10_000)  # the latest group sizes
        self.on_group = on_group  # told each group's size (a metric)

    async def submit(self, item: T) -> R:
        while True:
            result = await self._enqueue(item)
            if not isinstance(result, Again):
                return result

    async def submit_many(self, items: list[T]) -> list[R | BaseException]:
        """Each item's result, or the exception of the group it went through, in the order given."""
        futures = [self._enqueue(item) for item in items]
        results: list[R | BaseException] = []
        for item, future in zip(items, futures, strict=True):
            try:
                result = await future
                while isinstance(result, Again):
                    result = await self._enqueue(item)
            except Exception as exc:  # one group's failure is that group's items' answer, not the call's
                results.append(exc)
            else:
                results.append(result)
        return results

    def _enqueue(self, item: T) -> asyncio.Future[R | Again]:
        future: asyncio.Future[R | Again] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return future

    async def _run(self) -> None:
        while self._queue:
            await self._slots.acquire()
            group, self._queue = self._queue[: self.max_group], self._queue[self.max_group:]
            task = asyncio.create_task(self._one(group))
            self._groups.add(task)
            task.add_done_callback(self._groups.discard)

    async def _one(self, group: list[tuple[T, asyncio.Future[R | Again]]]) -> None:
        try:
            self.sizes.append(len(group))
            if self.on_group is not None:
                self.on_group(len(group))
            results = await self.commit([item for item, _ in group])
        except BaseException as exc:  # the group failed as one: so does every caller in it
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():  # a caller that went away still had its item committed
                    future.set_result(result)
        finally:
            self._slots.release()
