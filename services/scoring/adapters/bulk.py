"""The rebuild's writes: a settled fold of the whole log, COPYed into the empty tables in one transaction
with the inbox rows of every event it folded and the offsets it folded up to (adapters/ledger.py is the
incremental path's one-statement-per-batch twin: same tables, same columns, same values)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

import asyncpg

from services.scoring.adapters.ledger import CASE_COLUMNS, case_column
from services.scoring.adapters.repository import WHOLE_TYPE
from services.scoring.domain.facts import CaseContext
from services.scoring.domain.fold import Settled
from services.scoring.domain.repeats import Closure, Opening
from services.scoring.domain.tallying import BatchTally, Recorded, latest_links

Offsets = Mapping[tuple[str, int], int]  # (topic, partition) → next offset


FACT_COLUMNS = ("event_id", "ordinal", "case_id", "period", "fact", "tag", "value", "department", "worker", "at",
                "traceparent")


def fact_rows(facts: Iterable[Recorded]) -> Iterable[tuple[object, ...]]:
    return ((r.event_id, r.ordinal, f.case_id, f.period, f.name.value, f.tag, f.value, f.department, f.worker, f.at,
             r.traceparent) for r in facts for f in (r.fact,))


class FactFeed:
    """The ledger's rows COPYed while the topics are still being read (a fact's row never depends on what
    its case becomes later): `offer` hands over the facts folded since the last call, `close` ends the COPY."""

    def __init__(self) -> None:
        self.sent = 0
        self._queue: asyncio.Queue[list[Recorded] | None] = asyncio.Queue()

    def offer(self, facts: list[Recorded]) -> None:
        if len(facts) > self.sent:
            self._queue.put_nowait(facts[self.sent:])
            self.sent = len(facts)

    def close(self) -> None:
        self._queue.put_nowait(None)

    async def _rows(self) -> AsyncIterator[tuple[object, ...]]:
        while (facts := await self._queue.get()) is not None:
            for row in fact_rows(facts):
                yield row

    async def copy(self, conn: asyncpg.Connection) -> None:
        """COPY every offered fact into `facts` (inside the caller's transaction) until `close`."""
        await conn.copy_records_to_table("facts", columns=list(FACT_COLUMNS), records=self._rows())


async def is_empty(conn: asyncpg.Connection) -> bool:
    """Nothing consumed yet: no event in the inbox, no case, no fact."""
    return not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM inbox) OR EXISTS (SELECT 1 FROM cases) "
                                   "OR EXISTS (SELECT 1 FROM facts) OR EXISTS (SELECT 1 FROM rebuilds)")


async def rebuilt_offsets(conn: asyncpg.Connection) -> dict[tuple[str, int], int]:
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM rebuilds")
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def _copy(conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]],
                n: int) -> int:
    if n:  # rows as they are encoded (a year's ledger is never held twice)
        await conn.copy_records_to_table(table, columns=list(columns), records=rows)
    return n


async def copy_text(conn: asyncpg.Connection, table: str, columns: Sequence[str], source: AsyncIterator[bytes]) -> None:
    """COPY rows already encoded in the text format (adapters/copy_text.py) by the processes that made them."""
    await conn.copy_to_table(table, source=source, columns=list(columns), format="text")


async def write(conn: asyncpg.Connection, settled: Settled, inbox: Iterable[tuple[str, str]],
                offsets: Offsets, facts_copied: int = 0) -> dict[str, int]:
    """Every table the incremental path reads and writes, from the settled fold (inside the caller's
    transaction); every (period, entity type) is marked dirty as a whole so the publisher computes its
    cards. `facts_copied`: the first so many of the settled facts are in `facts` already (a `FactFeed`).
    Returns the rows written per table."""
    events = list(inbox)
    written = {"inbox": await _copy(conn, "inbox", ("event_id", "topic"), events, len(events)),
               "cases": await _copy(conn, "cases", CASE_COLUMNS, (case_row(c) for c in settled.cases),
                                    len(settled.cases))}
    rest = settled.facts[facts_copied:]
    await _copy(conn, "facts", FACT_COLUMNS, fact_rows(rest), len(rest))
    written["facts"] = len(settled.facts)
    written.update(await write_sums(conn, settled.openings, settled.closures, settled.tally, offsets))
    return written


def case_row(context: CaseContext) -> tuple[object, ...]:
    return tuple(case_column(context, column) for column in CASE_COLUMNS)


async def write_sums(conn: asyncpg.Connection, openings: Sequence[Opening], closures: Sequence[Closure],
                     tally: BatchTally, offsets: Offsets) -> dict[str, int]:
    """The repeat-complaint halves, the running sums, a dirty mark per (period, entity type) and the offsets
    folded up to (`rebuilds`)."""
    written = {"openings": await _copy(conn, "openings", ("case_id", "item_code", "grid_id", "opened_at"),
                                       ((o.case_id, o.item_code, o.grid_id, o.opened_at) for o in openings),
                                       len(openings)),
               "closures": await _copy(conn, "closures", ("case_id", "item_code", "grid_id", "closed_at", "period",
                                                          "department", "repeat_at"),
                                       ((c.case_id, c.item_code, c.grid_id, c.closed_at, c.period, c.department,
                                         c.repeat_at) for c in closures), len(closures))}
    sums = [(*key, n, total) for key, (n, total) in sorted(tally.tallies.items()) if n]
    written["tallies"] = await _copy(conn, "tallies", ("period", "entity_type", "entity_id", "fact", "tag", "n",
                                                       "total"), sums, len(sums))
    written["entities"] = await _copy(
        conn, "entities", ("period", "entity_type", "entity_id", "parent_id", "as_of", "cases_counted", "links"),
        ((*row, d.parent_id, d.as_of, d.new_cases, json.dumps([list(link) for link in latest_links(d.links)]))
         for row, d in sorted(tally.entities.items())), len(tally.entities))
    groups = sorted({(period, etype) for period, etype, _ in tally.entities})
    written["dirty"] = await _copy(conn, "dirty", ("period", "entity_type", "entity_id"),
                                   [(p, t, WHOLE_TYPE) for p, t in groups], len(groups))
    written["rebuilds"] = await _copy(conn, "rebuilds", ("topic", "partition", "next_offset"),
                                      [(topic, partition, offset) for (topic, partition), offset in
                                       sorted(offsets.items())], len(offsets))
    return written
