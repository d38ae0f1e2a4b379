"""Live updates for open pages: every applied event becomes a small notice on each subscriber's queue;
the pages turn notices into fresh queries (server-sent events, adapters/http/events.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hub:
    queue_size: int = 500
    subscribers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.queue_size)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.subscribers.discard(queue)

    def publish(self, notice: dict[str, Any]) -> None:
        """Never blocks the consumer: a page too slow to keep up misses notices (it re-queries anyway)."""
        for queue in self.subscribers:
            if not queue.full():
                queue.put_nowait(notice)
