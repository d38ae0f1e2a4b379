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
from services.router.domain.decide import RoutingTables
from services.router.domain.duplicates import DuplicatePolicy

SOURCE = "/gridline/router"


class TablesHolder:
    """The current routing tables; a reload swaps them atomically (in-flight decisions keep theirs)."""

    def __init__(self, tables: RoutingTables) -> None:
        self.current = tables


@dataclass
class RouterContext:
    pool: asyncpg.Pool
    tables: TablesHolder
    clock: Callable[[], datetime]
    duplicates: DuplicatePolicy


def case_records(events: Sequence[CaseEvent]) -> list[Outgoing]:
    return outbox_records(CASE_EVENTS, events, type_of=case_type, source=SOURCE)

