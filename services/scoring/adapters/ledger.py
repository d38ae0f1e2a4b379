"""Scoring's ingestion storage, batch-shaped: each function is one statement for a whole poll batch
(unnest of arrays), run inside the batch's transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg

from services.scoring.domain.facts import CaseContext, Fact, FactName
from services.scoring.domain.repeats import WINDOW, Closure, Opening
from services.scoring.domain.tallying import LINKS_PER_ENTITY, BatchTally, Recorded, latest_links

CASE_COLUMNS = ("case_id", "reported_period", "reporter", "level", "grid_id", "community_id", "street_id",
                 "resolved_at", "channel", "item_code", "handled_by", "escalated", "counted")
_CASE_TYPES = ("text", "text", "text", "text", "text", "text", "text", "timestamptz", "text", "text", "text", "bool",
               "jsonb")


def _context(row: asyncpg.Record) -> CaseContext:
    counted = frozenset((p, t, e) for p, t, e in json.loads(row["counted"]))
    return CaseContext(**{column: row[column] for column in CASE_COLUMNS[:-1]}, counted=counted)


def case_column(context: CaseContext, column: str) -> object:
    """A case's value for one column of `cases`, as stored."""
    if column == "counted":  # where the case is counted already: [[period, entity type, entity id], …]
        return json.dumps(sorted(context.counted), separators=(",", ":"))
    return getattr(context, column)


async def lock_cases(conn: asyncpg.Connection, case_ids: Iterable[str]) -> dict[str, CaseContext]:
    """The batch's cases, locked until commit (in id order, so instances never deadlock on them): an SLA
    event and its case's own events handled by two instances are serialised, and whichever commits
    second sees the other's facts or place. A case not seen before gets a placeholder row."""
    ids = sorted(set(case_ids))
    await conn.execute("INSERT INTO cases (case_id) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING", ids)
    rows = await conn.fetch("SELECT * FROM cases WHERE case_id = ANY($1::text[]) ORDER BY case_id FOR UPDATE", ids)
    return {row["case_id"]: _context(row) for row in rows}


async def load_cases(conn: asyncpg.Connection, case_ids: Iterable[str]) -> dict[str, CaseContext]:
    """Cases outside the batch (the closed case a repeat complaint counts against), locked like the
    batch's so a late location of that case sees the fact."""
    ids = sorted(set(case_ids))
    rows = await conn.fetch("SELECT * FROM cases WHERE case_id = ANY($1::text[]) ORDER BY case_id FOR UPDATE", ids)
    return {row["case_id"]: _context(row) for row in rows}


async def save_cases(conn: asyncpg.Connection, contexts: Sequence[CaseContext]) -> None:
    if not contexts:
        return
    columns = ", ".join(CASE_COLUMNS)
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_CASE_TYPES, start=1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in CASE_COLUMNS[1:])
    await conn.execute(f"INSERT INTO cases ({columns}) SELECT * FROM unnest({arrays}) "
                       f"ON CONFLICT (case_id) DO UPDATE SET {updates}",
                       *([case_column(c, column) for c in contexts] for column in CASE_COLUMNS))


async def case_facts(conn: asyncpg.Connection, case_ids: Iterable[str]) -> list[Recorded]:
    """Every stored fact of these cases (a case located late: its earlier facts now count there too)."""
    rows = await conn.fetch("SELECT * FROM facts WHERE case_id = ANY($1::text[]) ORDER BY event_id, ordinal",
                            sorted(set(case_ids)))
    return [Recorded(r["event_id"], r["ordinal"], Fact(
        name=FactName(r["fact"]), case_id=r["case_id"], period=r["period"], value=r["value"], tag=r["tag"],
        department=r["department"], worker=r["worker"], at=r["at"]), r["traceparent"]) for r in rows]


async def add_facts(conn: asyncpg.Connection, recorded: Sequence[Recorded]) -> list[Recorded]:
    """Store the facts; returns those that were new (a repeat complaint's fact, named by its pair, may
    be found by both halves)."""
    if not recorded:
        return []
    facts = [r.fact for r in recorded]
    rows = await conn.fetch(
        "INSERT INTO facts (event_id, ordinal, case_id, period, fact, tag, value, department, worker, at, traceparent) "
        "SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[], "
        "$7::numeric[], $8::text[], $9::text[], $10::timestamptz[], $11::text[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id, ordinal",
        [r.event_id for r in recorded], [r.ordinal for r in recorded], [f.case_id for f in facts],
        [f.period for f in facts], [f.name.value for f in facts], [f.tag for f in facts], [f.value for f in facts],
        [f.department for f in facts], [f.worker for f in facts], [f.at for f in facts],
        [r.traceparent for r in recorded],
    )
    new = {(r["event_id"], r["ordinal"]) for r in rows}
    return [r for r in recorded if (r.event_id, r.ordinal) in new]


def _place_lock(item_code: str, grid_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"scoring.place:{item_code}:{grid_id}".encode()).digest()[:8], "big",
                          signed=True)


async def lock_places(conn: asyncpg.Connection, places: Iterable[tuple[str, str]]) -> None:
    """Serialise the two halves of repeat complaints per (item, grid) until commit (in lock order):
    whichever commits second sees the other."""
    locks = sorted({_place_lock(item, grid) for item, grid in places})
    if locks:
        await conn.execute("SELECT pg_advisory_xact_lock(l) FROM unnest($1::bigint[]) AS l ORDER BY l", locks)


def _closure(row: asyncpg.Record) -> Closure:
    return Closure(row["case_id"], row["item_code"], row["grid_id"], row["closed_at"], row["period"],
                   row["department"], row["repeat_at"])


async def save_openings(conn: asyncpg.Connection, openings: Sequence[Opening]) -> list[tuple[Closure, Opening]]:
    """Store new cases with item and grid; returns, per stored closure one may repeat (same item and
    grid, closed within the window before it), the nearest of them — only where it is nearer than the
    closure's nearest so far (`repeat_at`): a farther one changes nothing. One statement: the insert is
    a CTE the lookup does not read."""
    if not openings:
        return []
    rows = await conn.fetch(
        "WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) "
        "AS n(case_id, item_code, grid_id, opened_at)), stored AS (INSERT INTO openings (case_id, item_code, "
        "grid_id, opened_at) SELECT * FROM n ON CONFLICT DO NOTHING) "
        "SELECT DISTINCT ON (c.case_id) n.case_id AS opening, c.* FROM n JOIN closures c ON "
        "c.item_code = n.item_code AND c.grid_id = n.grid_id AND c.closed_at < n.opened_at AND "
        "c.closed_at >= n.opened_at - $5::interval AND c.case_id <> n.case_id AND "
        "(c.repeat_at IS NULL OR n.opened_at < c.repeat_at) ORDER BY c.case_id, n.opened_at, n.case_id",
        [o.case_id for o in openings], [o.item_code for o in openings], [o.grid_id for o in openings],
        [o.opened_at for o in openings], WINDOW)
    by_id = {o.case_id: o for o in openings}
    return [(_closure(r), by_id[r["opening"]]) for r in rows]


async def save_closures(conn: asyncpg.Connection, closures: Sequence[Closure]) -> list[tuple[Closure, Opening]]:
    """Store closures (a case's first: closed again after reopening, it stays the stored one); returns
    the nearest stored case opened after each new one that may repeat it (the batch's own openings
    included: they were stored by the statement before)."""
    if not closures:
        return []
    rows = await conn.fetch(
        "WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], "
        "$6::text[]) AS n(case_id, item_code, grid_id, closed_at, period, department)), stored AS (INSERT INTO "
        "closures (case_id, item_code, grid_id, closed_at, period, department) SELECT * FROM n ON CONFLICT DO "
        "NOTHING RETURNING *) SELECT DISTINCT ON (s.case_id) s.case_id AS closure, o.* FROM stored s JOIN "
        "openings o ON o.item_code = s.item_code AND o.grid_id = s.grid_id AND o.opened_at > s.closed_at AND "
        "o.opened_at <= s.closed_at + $7::interval AND o.case_id <> s.case_id "
        "ORDER BY s.case_id, o.opened_at, o.case_id",
        [c.case_id for c in closures], [c.item_code for c in closures], [c.grid_id for c in closures],
        [c.closed_at for c in closures], [c.period for c in closures], [c.department for c in closures], WINDOW)
    by_id = {c.case_id: c for c in closures}
    return [(by_id[r["closure"]], Opening(r["case_id"], r["item_code"], r["grid_id"], r["opened_at"])) for r in rows]


async def pair_closures(conn: asyncpg.Connection, nearest: Sequence[tuple[str, datetime]]) -> None:
    """Remember each closure's nearest repeating opening so far (closure id, its opening time)."""
    if nearest:
        await conn.execute("UPDATE closures c SET repeat_at = u.repeat_at FROM unnest($1::text[], "
                           "$2::timestamptz[]) AS u(case_id, repeat_at) WHERE c.case_id = u.case_id",
                           [n[0] for n in nearest], [n[1] for n in nearest])


async def replace_facts(conn: asyncpg.Connection, recorded: Sequence[Recorded]) -> None:
    """Correct stored facts in place (same id: a repeat complaint's nearer opening changes its tag)."""
    if recorded:
        await conn.execute(
            "UPDATE facts f SET tag = u.tag, value = u.value, at = u.at, traceparent = u.traceparent FROM "
            "unnest($1::text[], $2::smallint[], $3::text[], $4::numeric[], $5::timestamptz[], $6::text[]) AS "
            "u(event_id, ordinal, tag, value, at, traceparent) WHERE f.event_id = u.event_id AND f.ordinal = u.ordinal",
            [r.event_id for r in recorded], [r.ordinal for r in recorded], [r.fact.tag for r in recorded],
            [r.fact.value for r in recorded], [r.fact.at for r in recorded], [r.traceparent for r in recorded])


async def add_tallies(conn: asyncpg.Connection, batch: BatchTally) -> None:
    """Add the batch's sums to the stored ones and mark the entities' cards dirty (two statements; the
    cases it counts for the first time are the batch's own arithmetic, kept with each case)."""
    if not batch.tallies:
        return
    keys = sorted(batch.entities)
    deltas = [batch.entities[k] for k in keys]
    dropped = [(*k, event_id) for k, d in zip(keys, deltas, strict=True) for event_id in sorted(d.dropped)]
    if dropped:  # a retracted fact's link leaves the card's links before the batch's own are merged in
        await conn.execute(
            "UPDATE entities e SET links = coalesce((SELECT jsonb_agg(l ORDER BY l->>0 DESC, l->>1) FROM "
            "jsonb_array_elements(e.links) AS l WHERE l->>1 <> ALL(d.ids)), '[]') FROM (SELECT period, entity_type, "
            "entity_id, array_agg(event_id) AS ids FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS "
            "u(period, entity_type, entity_id, event_id) GROUP BY 1, 2, 3) d WHERE e.period = d.period AND "
            "e.entity_type = d.entity_type AND e.entity_id = d.entity_id",
            *([row[i] for row in dropped] for i in range(4)))
    await conn.execute(
        "WITH summed AS (INSERT INTO entities AS e (period, entity_type, entity_id, parent_id, as_of, cases_counted, "
        "links) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], "
        "$7::jsonb[]) ON CONFLICT (period, entity_type, entity_id) DO UPDATE SET "
        "parent_id = LEAST(e.parent_id, EXCLUDED.parent_id), as_of = GREATEST(e.as_of, EXCLUDED.as_of), "
        "cases_counted = e.cases_counted + EXCLUDED.cases_counted, links = (SELECT coalesce(jsonb_agg(l ORDER BY "
        "l->>0 DESC, l->>1), '[]') FROM (SELECT l FROM (SELECT DISTINCT l FROM jsonb_array_elements(e.links || "
        f"EXCLUDED.links) AS l) d ORDER BY l->>0 DESC, l->>1 LIMIT {LINKS_PER_ENTITY}) newest) "
        "RETURNING period, entity_type, entity_id) "
        "INSERT INTO dirty (period, entity_type, entity_id) SELECT * FROM summed",
        [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [d.parent_id for d in deltas],
        [d.as_of for d in deltas], [d.new_cases for d in deltas],
        [json.dumps([list(link) for link in latest_links(d.links)]) for d in deltas])
    tally_keys = sorted(batch.tallies)
    await conn.execute(
        "INSERT INTO tallies AS t (period, entity_type, entity_id, fact, tag, n, total) SELECT * FROM "
        "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::numeric[]) "
        "ON CONFLICT (period, entity_type, entity_id, fact, tag) DO UPDATE SET n = t.n + EXCLUDED.n, "
        "total = t.total + EXCLUDED.total",
        *([k[i] for k in tally_keys] for i in range(5)), [batch.tallies[k][0] for k in tally_keys],
        [batch.tallies[k][1] for k in tally_keys])
    taken = [k for k in tally_keys if batch.tallies[k][0] < 0]  # retracted: a sum that may be none now
    if taken:
        await conn.execute("DELETE FROM tallies WHERE (period, entity_type, entity_id, fact, tag) IN (SELECT * FROM "
                           "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])) AND n = 0",
                           *([k[i] for k in taken] for i in range(5)))


_PLACE_COLUMN = {"grid": "grid_id", "community": "community_id", "street": "street_id"}
_PARENT_COLUMN = {"grid": "c.community_id", "community": "c.street_id", "street": "NULL"}


async def rebuild_places(conn: asyncpg.Connection, keys: Sequence[tuple[str, str, str]]) -> None:
    """Recompute the running sums of these (period, place type, place) from the ledger and the cases as
    they are now (after a case moved away): exactly what they would be had the case always been at its
    new place, whatever order its events and SLA events came in. Rare, so one query per place type."""
    if not keys:
        return
    args = ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
    wanted = "(period, entity_type, entity_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))"
    for table in ("tallies", "entities"):
        await conn.execute(f"DELETE FROM {table} WHERE {wanted}", *args)
    for etype, column in _PLACE_COLUMN.items():
        mine = [k for k in keys if k[1] == etype]
        if not mine:
            continue
        await conn.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS moved (period text, entity_type text, entity_id text, "
            "parent_id text, case_id text, fact text, tag text, value numeric, at timestamptz, event_id text, "
            "traceparent text) ON COMMIT DROP")
        await conn.execute("TRUNCATE moved")
        await conn.execute(
            f"INSERT INTO moved SELECT w.period, w.entity_type, w.entity_id, {_PARENT_COLUMN[etype]}, f.case_id, "
            "f.fact, f.tag, f.value, f.at, f.event_id, f.traceparent FROM unnest($1::text[], $2::text[], $3::text[]) "
            f"AS w(period, entity_type, entity_id) JOIN cases c ON c.{column} = w.entity_id JOIN facts f ON "
            "f.case_id = c.case_id AND f.period = w.period "
            "WHERE f.department IS NULL OR (f.department <> 'CENTER' AND f.fact <> 'assisted')",
            [k[0] for k in mine], [k[1] for k in mine], [k[2] for k in mine])
        await conn.execute("INSERT INTO tallies (period, entity_type, entity_id, fact, tag, n, total) "
                           "SELECT period, entity_type, entity_id, fact, tag, count(*), sum(value) FROM moved "
                           "GROUP BY 1, 2, 3, 4, 5")
        await conn.execute(
            "INSERT INTO entities (period, entity_type, entity_id, parent_id, as_of, cases_counted, links) "
            "SELECT a.period, a.entity_type, a.entity_id, min(a.parent_id), max(a.at), count(DISTINCT a.case_id), "
            "coalesce((SELECT jsonb_agg(jsonb_build_array(l.sort_at, l.event_id, l.traceparent) ORDER BY l.sort_at "
            "DESC, l.event_id) FROM (SELECT coalesce(to_char(b.at AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '') AS sort_at, b.event_id, b.traceparent FROM moved b "
            "WHERE b.entity_id = a.entity_id AND b.period = a.period AND b.traceparent IS NOT NULL "
            f"ORDER BY 1 DESC, 2 LIMIT {LINKS_PER_ENTITY}) l), '[]'::jsonb) FROM moved a GROUP BY 1, 2, 3")
    await conn.execute("INSERT INTO dirty (period, entity_type, entity_id) SELECT * FROM "
                       "unnest($1::text[], $2::text[], $3::text[])", *args)
