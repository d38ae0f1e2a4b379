"""What every router handler works with; built once in bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.outbox import case_records as outbox_records
from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing
from schemas.topics import CASE_EVENTS, case_type
from services.router.decider.client import DecisionWorker
from services.router.domain.decide import RoutingTables
from services.router.domain.duplicates import DuplicatePolicy

SOURCE = "/gridline/router"


class TablesHolder:
    """The current routing tables; a reload swaps them atomically (in-flight decisions keep theirs).
    `city_digest`: of the city files the tables' gazetteer was read from (kept across reloads)."""

    def __init__(self, tables: RoutingTables, city_digest: str = "") -> None:
        self.current = tables
        self.city_digest = city_digest


@dataclass
class RouterContext:
    pool: asyncpg.Pool
    tables: TablesHolder
    clock: Callable[[], datetime]
    duplicates: DuplicatePolicy
    decider: DecisionWorker | None = None  # decides the next poll on the other core (None: in the loop)
    decider_timeout: float = 10.0  # seconds a batch waits for its answers before deciding them itself


def case_records(events: Sequence[CaseEvent]) -> list[Outgoing]:
    return outbox_records(CASE_EVENTS, events, type_of=case_type, source=SOURCE)

