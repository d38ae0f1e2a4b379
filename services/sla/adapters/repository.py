"""SLA storage: plain parameterised SQL over the sla schema (asyncpg)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from runtime.outbox import outbox_insert
from schemas.common import Level
from schemas.sla import SlaStage
from services.sla.domain.deadlines import CaseClocks, Deadline, DeadlineState
from services.sla.domain.documents import IssuedDocument

_COLS = ("case_id, gen, rev, stage, state, limit_text, working, started_at, allowed_s, due_at, warn_at, warned, "
         "remaining_s, owner, owner_unit, level, street_id, ladder, ended_at, warnings, breached, rung, provisional, "
         "community_id, run_from, run_for_s, assisting")
_NCOLS = len(_COLS.split(","))
_OPEN = "('running', 'paused', 'overdue')"


async def load_cases(conn: asyncpg.Connection, case_ids: Sequence[str]) -> dict[str, CaseClocks]:
    """A batch's cases with their open stage, locked in id order (created on first sight): three queries."""
    ids = sorted(set(case_ids))
    await conn.execute("INSERT INTO sla_cases (case_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids)
    rows = await conn.fetch(
        "SELECT case_id, last_seq, escalations, next_gen, suspended, extension_pending, traceparent, tracestate "
        "FROM sla_cases "
        "WHERE case_id = ANY($1::text[]) ORDER BY case_id FOR UPDATE", ids)
    open_rows = await conn.fetch(
        f"SELECT {_COLS} FROM deadlines WHERE case_id = ANY($1::text[]) AND state IN {_OPEN}", ids)
    open_by_case = {r["case_id"]: _deadline(r) for r in open_rows}
    return {r["case_id"]: _clocks(r["case_id"], r, open_by_case.get(r["case_id"])) for r in rows}


def _clocks(case_id: str, row: Any, open_deadline: Deadline | None) -> CaseClocks:
    return CaseClocks(case_id=case_id, last_seq=row["last_seq"], escalations=row["escalations"],
                      next_gen=row["next_gen"], open=open_deadline, suspended=row["suspended"],
                      extension_pending=row["extension_pending"], traceparent=row["traceparent"],
                      tracestate=row["tracestate"])


async def save_case(conn: asyncpg.Connection, case: CaseClocks, touched: list[Deadline]) -> None:
    await save_cases(conn, [case], touched)


async def save_cases(conn: asyncpg.Connection, cases: Sequence[CaseClocks], touched: Sequence[Deadline]) -> None:
    """Write a batch's cases and the last version of each stage it touched (two round trips)."""
    if cases:
        await conn.executemany(
            "UPDATE sla_cases SET last_seq = $2, escalations = $3, next_gen = $4, suspended = $5, "
            "extension_pending = $6, traceparent = $7, tracestate = $8, updated_at = now() WHERE case_id = $1",
            [(c.case_id, c.last_seq, c.escalations, c.next_gen, c.suspended, c.extension_pending, c.traceparent,
              c.tracestate) for c in cases])
    latest = {(d.case_id, d.gen): d for d in touched}
    # closing rows first keeps the one-open-stage index true at every statement
    rows = sorted(latest.values(), key=lambda d: d.is_open)
    if rows:
        await conn.executemany(_UPSERT_DEADLINE, [_deadline_values(d) for d in rows])


_UPSERT_DEADLINE = (
    f"INSERT INTO deadlines ({_COLS}) VALUES ({', '.join(f'${i}' for i in range(1, _NCOLS + 1))}) "
    "ON CONFLICT (case_id, gen) DO UPDATE SET " + ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}"
                                                           for c in _COLS.split(",")[2:])
)


def _deadline_values(d: Deadline) -> tuple[object, ...]:
    return (d.case_id, d.gen, d.rev, d.stage.value, d.state.value, d.limit, d.working, d.started_at,
            d.allowed.total_seconds(), d.due_at, d.warn_at, d.warned,
            d.remaining.total_seconds() if d.remaining is not None else None, d.owner, d.owner_unit,
            d.level.value if d.level else None, d.street_id, json.dumps([s.value for s in d.ladder]), d.ended_at,
            d.warnings, d.breached, d.rung, d.provisional, d.community_id, d.run_from,
            d.run_for.total_seconds() if d.run_for is not None else None, list(d.assisting))


async def due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[CaseClocks, Deadline]]:
    """Running stages whose deadline, then those whose warning point has come, at most `limit`, locked with
    their case; rows another instance (or the consumer) holds are skipped, so timers on several instances
    never fire twice. Two claims, each an ordered scan of its own partial index that stops after `limit`
    rows (one query with `OR` cannot use either order and may read the whole due index)."""
    out = await _claim(conn, DUE_CLAIM, now, limit)
    if len(out) < limit:  # stages already claimed above are past due: excluded here
        out += await _claim(conn, WARN_CLAIM, now, limit - len(out))
    return out


def _locked_sql(where: str, order: str, limit_arg: int) -> str:
    """Claim the first rows matching `where` on `deadlines` alone (narrow rows: the partial index's scan and
    sort stay small however many are due), then read them whole with their case, locking the case too.
    A row whose case is held elsewhere (the consumer is applying one of its events) is left out of the
    batch — claimed until this transaction ends, fired by a later one."""
    cols = ", ".join("d." + c.strip() for c in _COLS.split(","))
    return (f"WITH claimed AS (SELECT case_id, gen FROM deadlines d WHERE {where} ORDER BY {order} "
            f"LIMIT ${limit_arg} FOR UPDATE SKIP LOCKED) "
            f"SELECT {cols}, c.last_seq, c.escalations, c.next_gen, c.suspended, c.extension_pending, "
            "c.traceparent, c.tracestate "
            "FROM claimed JOIN deadlines d USING (case_id, gen) JOIN sla_cases c ON c.case_id = d.case_id "
            f"ORDER BY {order} FOR UPDATE OF c SKIP LOCKED")


DUE_CLAIM = _locked_sql("d.state = 'running' AND d.due_at <= $1", "d.due_at", 2)
"""The timer's claims ($1 now, $2 how many), also EXPLAINed at 1,000,000 rows by bench/sla.py."""
WARN_CLAIM = _locked_sql("d.state = 'running' AND NOT d.warned AND d.warn_at <= $1 AND d.due_at > $1", "d.warn_at", 2)


async def save_fired(conn: asyncpg.Connection, touched: Sequence[Deadline], escalated: Sequence[CaseClocks],
                     documents: Sequence[IssuedDocument], outbox: Sequence[Sequence[object]]) -> None:
    """What a timer batch changed, in one statement (one round trip) whatever the batch size: the fields a
    tick writes (`domain.timers.FIELDS_TICK_WRITES`) of each stage, the escalation count of each case that
    escalated, the documents its decisions issued (a decision's second document would violate `decision`
    UNIQUE, and the whole statement with it) and its events' outbox rows (`runtime.outbox.outbox_columns`)."""
    if not (touched or escalated or documents):
        return
    document_columns = [list(c) for c in zip(*_document_rows(documents), strict=True)] or [[]] * _DOCUMENT_COLUMNS
    await conn.execute(
        _SAVE_FIRED,
        [d.case_id for d in touched], [d.gen for d in touched], [d.state.value for d in touched],
        [d.warn_at for d in touched], [d.warned for d in touched], [d.warnings for d in touched],
        [d.breached for d in touched],
        [c.case_id for c in escalated], [c.escalations for c in escalated],
        *document_columns, *outbox,
    )


_DOCUMENT_COLUMNS = 12


def _document_rows(docs: Sequence[IssuedDocument]) -> list[tuple[object, ...]]:
    return [(d.doc_id, d.doc_no, d.district, d.year, d.kind.value, d.serial, d.case_id, d.decision, d.addressee,
             d.issued_at, d.text, d.html) for d in docs]


_SAVE_FIRED = (
    "WITH stages AS (UPDATE deadlines d SET state = t.state, warn_at = t.warn_at, warned = t.warned, "
    "warnings = t.warnings, breached = t.breached FROM unnest($1::text[], $2::int[], $3::text[], "
    "$4::timestamptz[], $5::bool[], $6::int[], $7::bool[]) AS t(case_id, gen, state, warn_at, warned, warnings, "
    "breached) WHERE d.case_id = t.case_id AND d.gen = t.gen), "
    "cases AS (UPDATE sla_cases c SET escalations = t.escalations, updated_at = now() "
    "FROM unnest($8::text[], $9::int[]) AS t(case_id, escalations) WHERE c.case_id = t.case_id), "
    "documents AS (INSERT INTO documents (doc_id, doc_no, district, year, kind, serial, case_id, decision, "
    "addressee, issued_at, text_body, html) SELECT * FROM unnest($10::text[], $11::text[], $12::text[], "
    "$13::int[], $14::text[], $15::int[], $16::text[], $17::text[], $18::text[], $19::timestamptz[], "
    "$20::text[], $21::text[])) " + outbox_insert(22)
)


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    """When the next running stage's warning point or deadline comes (two index lookups)."""
    at: datetime | None = await conn.fetchval(
        "SELECT least((SELECT min(due_at) FROM deadlines WHERE state = 'running'), "
        "(SELECT min(warn_at) FROM deadlines WHERE state = 'running' AND NOT warned))")
    return at


async def _locked(conn: asyncpg.Connection, where: str, order: str, *args: Any) -> list[tuple[CaseClocks, Deadline]]:
    """Deadlines matching `where` with their case, both locked; rows held elsewhere are skipped. The last
    argument is the row limit."""
    return await _claim(conn, _locked_sql(where, order, len(args)), *args)


async def _claim(conn: asyncpg.Connection, sql: str, *args: Any) -> list[tuple[CaseClocks, Deadline]]:
    out = []
    for r in await conn.fetch(sql, *args):
        d = _deadline(r)
        out.append((_clocks(r["case_id"], r, d), d))
    return out


@dataclass(frozen=True)
class Filters:
    """The centre's filters (each None: any)."""

    level: str | None = None
    department: str | None = None  # owner: a department code, or a grid / community / street id
    street: str | None = None
    community: str | None = None
    assisting: str | None = None  # 协办: an assisting department of the lead's case


_LISTED = "(state = 'overdue' OR (state IN ('running', 'paused') AND rung > 0))"
_FILTER = ("($1::text IS NULL OR level = $1) AND ($2::text IS NULL OR owner = $2 OR owner_unit = $2) "
           "AND ($3::text IS NULL OR street_id = $3) AND ($4::text IS NULL OR community_id = $4) "
           "AND ($5::text IS NULL OR assisting @> ARRAY[$5::text])")
_COUNTED = {"level": "level", "department": "owner", "street": "street_id", "community": "community_id",
            "assisting": "unnest(assisting)"}


async def overdue(conn: asyncpg.Connection, f: Filters, limit: int) -> list[Deadline]:
    """Open stages past their deadline, and stages of escalated cases still open (with their rung)."""
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM deadlines WHERE {_LISTED} AND {_FILTER} ORDER BY due_at NULLS LAST LIMIT $6",
        *_args(f), limit)
    return [_deadline(r) for r in rows]


async def due_soon(conn: asyncpg.Connection, f: Filters, now: datetime, until: datetime,
                   limit: int) -> list[Deadline]:
    """Running stages not yet breached whose deadline comes before `until`, soonest first."""
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM deadlines WHERE {DUE_SOON_WHERE} AND {_FILTER} "
        "ORDER BY due_at LIMIT $8", *_args(f), now, until, limit)
    return [_deadline(r) for r in rows]


async def counts(conn: asyncpg.Connection, f: Filters, where: str, *args: Any) -> dict[str, dict[str, int]]:
    """For the dashboard: how many listed stages per value of each filter (level, department, street,
    community, assisting department), under the filters given. `where` is one of the two views' conditions."""
    out: dict[str, dict[str, int]] = {}
    for name, column in _COUNTED.items():
        rows = await conn.fetch(
            f"SELECT value, count(*) AS n FROM (SELECT {column} AS value FROM deadlines WHERE {where} AND {_FILTER}) "
            "AS listed GROUP BY value ORDER BY n DESC, value", *_args(f), *args)
        out[name] = {str(r["value"]): r["n"] for r in rows if r["value"] is not None}
    return out


LISTED_WHERE = _LISTED
DUE_SOON_WHERE = "state = 'running' AND due_at > $6 AND due_at <= $7"


def _args(f: Filters) -> tuple[str | None, ...]:
    return f.level, f.department, f.street, f.community, f.assisting


async def provisional_open(conn: asyncpg.Connection, after: str, limit: int) -> list[tuple[CaseClocks, Deadline]]:
    """Open stages whose deadline was computed without official calendar data, locked with their case,
    by case id after `after` (a cursor: those still provisional are not read again)."""
    return await _locked(conn, "d.provisional AND d.state IN ('running', 'paused') AND d.case_id > $1",
                         "d.case_id", after, limit)


async def for_case(conn: asyncpg.Connection, case_id: str) -> list[Deadline]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM deadlines WHERE case_id = $1 ORDER BY gen", case_id)
    return [_deadline(r) for r in rows]


@functools.lru_cache(maxsize=256)
def _ladder(stored: str) -> tuple[Level, ...]:
    """A stored ladder (jsonb text); the list has a handful of distinct ladders, the timer reads thousands."""
    return tuple(Level(s) for s in json.loads(stored))


_STAGES = {s.value: s for s in SlaStage}
_STATES = {s.value: s for s in DeadlineState}
_LEVELS = {s.value: s for s in Level}
"""Stored values to their enum members by lookup (an `Enum(value)` call costs ~0.5 µs; the timer decodes
thousands of rows a second); an unknown value still raises (KeyError)."""


def _deadline(r: Any) -> Deadline:
    return Deadline(
        case_id=r["case_id"], gen=r["gen"], stage=_STAGES[r["stage"]], limit=r["limit_text"], working=r["working"],
        started_at=r["started_at"], allowed=timedelta(seconds=r["allowed_s"]), due_at=r["due_at"],
        warn_at=r["warn_at"], owner=r["owner"], owner_unit=r["owner_unit"],
        level=_LEVELS[r["level"]] if r["level"] else None, street_id=r["street_id"],
        ladder=_ladder(r["ladder"]), state=_STATES[r["state"]], rev=r["rev"],
        remaining=timedelta(seconds=r["remaining_s"]) if r["remaining_s"] is not None else None,
        warned=r["warned"], ended_at=r["ended_at"], warnings=r["warnings"], breached=r["breached"], rung=r["rung"],
        provisional=r["provisional"], community_id=r["community_id"], run_from=r["run_from"],
        run_for=timedelta(seconds=r["run_for_s"]) if r["run_for_s"] is not None else None,
        assisting=tuple(r["assisting"] or ()),
    )


async def reserve_serials(conn: asyncpg.Connection, district: str,
                          wanted: dict[tuple[int, str], int]) -> dict[tuple[int, str], int]:
    """Reserve `n` consecutive numbers per (year, kind) of the district in one statement; returns the
    first of each. The counter rows stay locked until commit (numbers stay gapless: a rolled-back batch
    gives its numbers back) and are taken in (year, kind) order, so two replicas never deadlock."""
    keys = sorted(wanted)
    rows = await conn.fetch(
        "INSERT INTO document_counters (district, year, kind, last_no) "
        "SELECT $1, t.year, t.kind, t.n FROM unnest($2::int[], $3::text[], $4::int[]) AS t(year, kind, n) "
        "ORDER BY t.year, t.kind "
        "ON CONFLICT (district, year, kind) DO UPDATE SET last_no = document_counters.last_no + EXCLUDED.last_no "
        "RETURNING year, kind, last_no",
        district, [y for y, _ in keys], [k for _, k in keys], [wanted[k] for k in keys])
    return {(r["year"], r["kind"]): r["last_no"] - wanted[(r["year"], r["kind"])] + 1 for r in rows}


async def documents_of(conn: asyncpg.Connection, case_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT doc_id, doc_no, kind, serial, year, addressee, issued_at, decision FROM documents "
        "WHERE case_id = $1 ORDER BY issued_at, doc_id", case_id)
    return [dict(r) for r in rows]


async def document(conn: asyncpg.Connection, doc_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT doc_id, doc_no, district, year, kind, serial, case_id, decision, addressee, issued_at, text_body, "
        "html FROM documents WHERE doc_id = $1", doc_id)
    return dict(row) if row else None
