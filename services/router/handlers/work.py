"""The unit of work of one poll batch: the cases it touches are loaded once (locked), changed in memory by
the per-record handlers in record order, and written back together with the batch's timeline entries,
merges and outbox records when the batch ends — a handful of round trips per batch, not per record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from schemas.case import CaseEvent, CaseEventKind, CaseState
from schemas.cloudevents import Outgoing
from services.router.adapters import repository as repo
from services.router.domain.case import Case
from services.router.domain.lifecycle import Returned
from services.router.handlers.context import case_records

_CLOSED = {CaseState.MERGED, CaseState.REJECTED, CaseState.CLOSED}


class CaseWork:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._cases: dict[str, Case | None] = {}  # loaded (locked) or created in this batch; None: absent
        self._dirty: dict[str, Case] = {}
        self._events: list[CaseEvent] = []
        self._outgoing: list[Outgoing] = []
        self._merges: list[tuple[str, str, datetime]] = []
        self._incidents: set[str] = set()  # incidents that have a case (in the database or this batch)
        self._open_by_item: dict[str, list[Case]] = {}
        self._bodies: dict[str, bytes] = {}  # event id → its JSON, made once for outbox and timeline

    async def preload(self, case_ids: Sequence[str]) -> None:
        """Load (and lock) the cases the batch will touch, in one query."""
        wanted = [c for c in set(case_ids) if c not in self._cases]
        if not wanted:
            return
        found = await repo.load_many(self.conn, wanted)
        for case_id in wanted:
            self._cases[case_id] = found.get(case_id)

    async def preload_incidents(self, incident_ids: Sequence[str], near: Sequence[repo.Near], since: datetime,
                                radius_m: float) -> None:
        """Which incidents already have a case, and the open cases near the incidents being dispatched
        (their items locked first, so duplicate detection is serialised per item across instances)."""
        self._incidents |= await repo.incidents_with_cases(self.conn, incident_ids)
        await repo.lock_items(self.conn, [n.item_code for n in near])
        self._open_by_item.update(await repo.open_cases_near(self.conn, near, since, radius_m))

    async def load(self, case_id: str) -> Case | None:
        if case_id not in self._cases:
            self._cases[case_id] = await repo.load(self.conn, case_id)
        return self._cases[case_id]

    async def unruled_returns(self, case_id: str) -> list[Returned]:
        """退单 of the case after its last 仲裁 ruling, counting the batch's own timeline entries."""
        returns = await repo.unruled_returns(self.conn, case_id)
        for e in self._events:
            if e.case_id != case_id:
                continue
            if e.kind is CaseEventKind.DISPATCHED and e.return_rulings:
                returns = []
            elif e.kind is CaseEventKind.RETURNED and e.assignment is not None:
                returns.append(Returned(e.assignment.owner, e.seq, e.at))
        return returns

    def has_case_for(self, incident_id: str) -> bool:
        return incident_id in self._incidents

    def open_cases_for_item(self, item_code: str, since: datetime) -> list[Case]:
        """Open cases of the item near the batch's incidents: those read for the batch plus those the
        batch opened before (`find_duplicate` keeps the ones near the incident at hand)."""
        return [c for c in self._open_by_item.get(item_code, [])
                if c.closed_at is None and c.state not in _CLOSED and c.opened_at >= since]

    def save(self, case: Case, events: Sequence[CaseEvent]) -> None:
        """Keep the case's new state and timeline entries for the end of the batch."""
        if case.case_id not in self._cases:
            self._incidents.add(case.incident_id)
            if case.assignment is not None and case.assignment.item_code is not None:
                self._open_by_item.setdefault(case.assignment.item_code, []).append(case)
        self._cases[case.case_id] = case
        self._dirty.pop(case.case_id, None)  # re-inserted: saved after the cases saved before it
        self._dirty[case.case_id] = case
        self._events.extend(events)

    def publish(self, events: Sequence[CaseEvent], extra: Sequence[Outgoing] = ()) -> None:
        """Queue the events for the outbox (with the current trace context), after the batch's earlier ones."""
        records = case_records(events)
        for event, record in zip(events, records, strict=True):
            assert record.value is not None  # a case event always has a body (only scoring writes tombstones)
            self._bodies[event.event_id] = record.value
        self._outgoing.extend([*records, *extra])

    def merged(self, incident_id: str, case_id: str, at: datetime) -> None:
        self._merges.append((incident_id, case_id, at))

    async def flush(self) -> list[Outgoing]:
        """Write everything the batch decided; returns its outbox records for the consumer loop."""
        await repo.save_many(self.conn, list(self._dirty.values()), self._events, self._bodies)
        await repo.record_merges(self.conn, self._merges)
        return self._outgoing
