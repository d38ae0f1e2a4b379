"""Scoring's batch-shaped path through the real broker and database: the running sums stay exactly what
the ledger says after redelivery and a failure in the middle of a batch; a case that moves tombstones the
cards of the places it leaves; the centre's 直接办结 and 协办 assisting departments are scored on their own
cards. Each test has its own schema, group, entity ids and month."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry import trace

from deploy.local.stack import Stack
from runtime.db import migrate
from schemas.case import CaseEvent, CaseEventKind, CaseState
from schemas.common import Level
from schemas.score import ScoreCard
from schemas.sla import SlaEventKind, SlaStage
from schemas.topics import CASE_EVENTS, SCORE_CARD_REMOVED, SCORING
from services.scoring.adapters import ledger
from services.scoring.app import create_app
from services.scoring.bootstrap import Scoring
from tests.integration.conftest import open_at_start, recorded_spans, serve
from tests.integration.test_scoring import (
    NEW_RULER,
    OLD_RULER,
    caught_up,
    input_end_offsets,
    produce,
    records,
    settings,
    start_group_at,
    traceparent,
    until_cards,
)
from tests.unit.scoring.builders import EXPECTED_MONTH, a_month_of_cases, assignment, case_event, local, sla_event

pytestmark = pytest.mark.integration

# The sums re-derived independently from the ledger and the cases as they are now (the GROUP BY the cards
# were computed with before running sums existed): places and the hotline through the case, the centre's
# and 协办 facts not the place's.
_ATTRIBUTED = """
WITH joined AS (
    SELECT f.*, c.grid_id, c.community_id, c.street_id, c.channel,
           (f.department IS NULL OR (f.department <> 'CENTER' AND f.fact <> 'assisted')) AS place_fact
    FROM facts f LEFT JOIN cases c ON c.case_id = f.case_id
)
SELECT 'department' AS entity_type, department AS entity_id, j.* FROM joined j
    WHERE department IS NOT NULL AND department <> 'CENTER' AND fact <> 'assisted'
UNION ALL SELECT 'assisting_department', department, j.* FROM joined j
    WHERE department IS NOT NULL AND fact = 'assisted'
UNION ALL SELECT 'center', department, j.* FROM joined j WHERE department = 'CENTER'
UNION ALL SELECT 'grid_worker', worker, j.* FROM joined j WHERE worker IS NOT NULL
UNION ALL SELECT 'grid', grid_id, j.* FROM joined j WHERE grid_id IS NOT NULL AND place_fact
UNION ALL SELECT 'community', community_id, j.* FROM joined j WHERE community_id IS NOT NULL AND place_fact
UNION ALL SELECT 'street', street_id, j.* FROM joined j WHERE street_id IS NOT NULL AND place_fact
UNION ALL SELECT 'hotline', '12345', j.* FROM joined j WHERE channel = 'hotline' AND place_fact
"""
FROM_LEDGER = (f"SELECT period, entity_type, entity_id, fact, tag, count(*) AS n, sum(value) AS total "
               f"FROM ({_ATTRIBUTED}) a GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5")
SUMS = "SELECT period, entity_type, entity_id, fact, tag, n, total FROM tallies ORDER BY 1, 2, 3, 4, 5"
ENTITIES_FROM_LEDGER = (f"SELECT period, entity_type, entity_id, count(DISTINCT case_id) AS cases, max(at) AS as_of "
                        f"FROM ({_ATTRIBUTED}) a GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
ENTITIES = "SELECT period, entity_type, entity_id, cases_counted AS cases, as_of FROM entities ORDER BY 1, 2, 3"
COUNTED_FROM_LEDGER = f"SELECT DISTINCT case_id, period, entity_type, entity_id FROM ({_ATTRIBUTED}) a"


def service_of(client: httpx.AsyncClient) -> Scoring:
    found: Scoring = client._transport.app.state.scoring  # type: ignore[attr-defined]
    return found


async def assert_sums_are_the_ledgers(service: Scoring) -> None:
    async with service.pool.acquire() as conn:
        assert [tuple(r) for r in await conn.fetch(SUMS)] == [tuple(r) for r in await conn.fetch(FROM_LEDGER)]
        assert [tuple(r) for r in await conn.fetch(ENTITIES)] == [
            tuple(r) for r in await conn.fetch(ENTITIES_FROM_LEDGER)]
        counted: dict[str, set[tuple[str, str, str]]] = {}
        for r in await conn.fetch(COUNTED_FROM_LEDGER):
            counted.setdefault(r["case_id"], set()).add((r["period"], r["entity_type"], r["entity_id"]))
        remembered = {r["case_id"]: {tuple(row) for row in json.loads(r["counted"])}
                      for r in await conn.fetch("SELECT case_id, counted FROM cases WHERE counted <> '[]'")}
        assert remembered == counted  # each case knows where it is counted: the next batch counts it once


async def until(client: httpx.AsyncClient, params: dict[str, str], done: Callable[[list[ScoreCard]], bool],
                within: float = 60) -> list[ScoreCard]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        response = await client.get("/v1/scores", params=params)
        assert response.status_code == 200, response.text
        cards = [ScoreCard.model_validate(c) for c in response.json()["cards"]]
        if done(cards):
            return cards
        assert loop.time() < deadline, f"not reached within {within} s: {cards}"
        await asyncio.sleep(0.3)


async def test_a_failure_in_the_middle_of_a_batch_and_redelivery_leave_the_sums_exact(
    stack: Stack, uid: str, schema: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch's facts are written, then the statement adding its sums fails: the whole transaction rolls
    back and the loop does the batch again — nothing counted twice, every event delivered twice too."""
    failures = {"left": 2}
    add_tallies = ledger.add_tallies

    async def failing_once(conn: asyncpg.Connection, batch: Any) -> None:
        async with conn.transaction():  # a savepoint: proves the facts of the batch are in the transaction
            assert await conn.fetchval("SELECT count(*) FROM facts") > 0
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("crash after the facts, before the sums")
        await add_tallies(conn, batch)

    monkeypatch.setattr(ledger, "add_tallies", failing_once)
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    batch = records(a_month_of_cases(uid, 2033, 1))
    async with serve(create_app(settings(stack, uid, group))) as client:
        await produce(stack.bootstrap, batch + batch)
        await until_cards(client, "2033-01", uid, EXPECTED_MONTH)
        service = service_of(client)
        await caught_up(service, await input_end_offsets(stack.bootstrap))
        assert failures["left"] == 0
        await assert_sums_are_the_ledgers(service)


async def tombstones_and_cards(bootstrap: str, keys: set[str]) -> dict[str, list[bytes | None]]:
    """Every record of these keys on scoring.v1, in order: their values (None for a tombstone)."""
    consumer, tps = await open_at_start(bootstrap, SCORING)
    try:
        end = await consumer.end_offsets(tps)
        found: dict[str, list[bytes | None]] = {}
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for r in batch:
                    key = (r.key or b"").decode()
                    if key in keys:
                        assert r.value is not None or dict(r.headers)["ce_type"] == SCORE_CARD_REMOVED.encode()
                        found.setdefault(key, []).append(r.value)
        return found
    finally:
        await consumer.stop()


async def test_a_case_that_moves_tombstones_the_cards_of_the_places_it_left(
    stack: Stack, uid: str, schema: str,
) -> None:
    """M is the only case of grid GX (community CX); the centre corrects its place to GY (CY): GX's and
    CX's cards are removed from the compacted topic (a null value), GY and CY count the case instead."""
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    dept, street = f"DEPT_M_{uid}", f"SX_{uid}"
    gx = assignment(dept, grid=f"GX_{uid}", community=f"CX_{uid}", street=street)
    gy = assignment(dept, grid=f"GY_{uid}", community=f"CY_{uid}", street=street)
    case, at = f"M-{uid}", local(2033, 4, 3, 9)
    k = CaseEventKind
    first = [case_event(case, 1, k.CREATED, at, assigned=gx), case_event(case, 2, k.DISPATCHED, at, assigned=gx),
             sla_event(case, SlaEventKind.MET, SlaStage.ACCEPT, local(2033, 4, 3, 10), dept)]
    moved = [case_event(case, 3, k.DISPATCHED, local(2033, 4, 3, 11), assigned=gy, actor="CENTER:op"),
             case_event(case, 4, k.RESOLVED, local(2033, 4, 4, 9), assigned=gy, actor=dept,
                        state=CaseState.RESOLVED)]
    places = {"period": "2033-04", "ruler": NEW_RULER}
    async with serve(create_app(settings(stack, uid, group))) as client:
        await produce(stack.bootstrap, records(first))
        await until(client, {**places, "entity_type": "grid"}, lambda cs: f"GX_{uid}" in {c.entity_id for c in cs})
        await produce(stack.bootstrap, records(moved))
        grids = await until(client, {**places, "entity_type": "grid"},
                            lambda cs: {c.entity_id for c in cs} & {f"GX_{uid}", f"GY_{uid}"} == {f"GY_{uid}"})
        gy_card = next(c for c in grids if c.entity_id == f"GY_{uid}")
        assert gy_card.cases_counted == 1 and gy_card.parent_id == f"CY_{uid}"
        for ruler in (OLD_RULER, NEW_RULER):
            communities = await until(client, {"period": "2033-04", "ruler": ruler, "entity_type": "community"},
                                      lambda cs: f"CX_{uid}" not in {c.entity_id for c in cs})
            assert f"CY_{uid}" in {c.entity_id for c in communities}
        service = service_of(client)
        await caught_up(service, await input_end_offsets(stack.bootstrap))
        await service.publisher.publish_dirty(service.publisher.clock())
        await assert_sums_are_the_ledgers(service)
        async with service.pool.acquire() as conn:
            while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
                service.plumbing.relay.kick.set()
                await asyncio.sleep(0.2)
    left = {f"2033-04:grid:GX_{uid}@{NEW_RULER}", f"2033-04:community:CX_{uid}@{OLD_RULER}",
            f"2033-04:community:CX_{uid}@{NEW_RULER}"}
    history = await tombstones_and_cards(stack.bootstrap, left)
    assert set(history) == left
    for key, values in history.items():
        assert values[0] is not None and values[-1] is None, key  # a card, then its tombstone last


async def test_the_centres_direct_answers_and_assisting_departments_have_their_own_cards(
    stack: Stack, uid: str, schema: str,
) -> None:
    """Q1 the centre answers itself (直接办结); Q2 goes to A with B assisting (协办); Q3 to A alone. The
    centre's card: 1 answered of 3 cases; B's assisting card: 1 case; neither is ranked among departments."""
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    da, db = f"DEPT_A_{uid}", f"DEPT_B_{uid}"
    k, at = CaseEventKind, local(2033, 6, 8, 9)
    lead = assignment(da, level=Level.DISTRICT, grid=f"GQ_{uid}", community=f"CQ_{uid}", street=f"SQ_{uid}")
    assisted = lead.model_copy(update={"assisting": (db,)})
    events = [case_event(f"Q1-{uid}", 1, k.CREATED, at),
              case_event(f"Q1-{uid}", 2, k.ANSWERED, at, actor="CENTER:op", state=CaseState.CLOSED),
              case_event(f"Q2-{uid}", 1, k.CREATED, at, assigned=assisted),
              case_event(f"Q2-{uid}", 2, k.DISPATCHED, at, assigned=assisted),
              case_event(f"Q3-{uid}", 1, k.CREATED, at, assigned=lead),
              case_event(f"Q3-{uid}", 2, k.DISPATCHED, at, assigned=lead)]
    month = {"period": "2033-06", "ruler": NEW_RULER}
    app = create_app(settings(stack, uid, group))
    with recorded_spans() as spans:
        async with serve(app) as client:
            await produce(stack.bootstrap, records(events + events))  # delivered twice
            [centre] = await until(client, {**month, "entity_type": "center"},
                                   lambda cs: len(cs) == 1 and cs[0].indicators[0].denominator == 3)
            share = centre.indicators[0]
            assert (centre.entity_id, share.code, share.numerator, share.denominator, str(share.raw)) == (
                "CENTER", "direct_closure_share", 1, 3, "33.33")
            assert str(centre.total) == "83.33" and centre.rank == 1  # 33.33 % of the 40 % that scores 100
            helpers = await until(client, {**month, "entity_type": "assisting_department"},
                                  lambda cs: db in {c.entity_id for c in cs})
            b = next(c for c in helpers if c.entity_id == db)
            assert [(i.code, i.numerator) for i in b.indicators] == [("assistance", 1)] and str(b.total) == "10.00"
            departments = await until(client, {**month, "entity_type": "department"},
                                      lambda cs: da in {c.entity_id for c in cs})
            assert {c.entity_id for c in departments} == {da}  # not the centre, not B's assistance
            service = service_of(client)
            await caught_up(service, await input_end_offsets(stack.bootstrap))
            await service.publisher.publish_dirty(service.publisher.clock())
            await assert_sums_are_the_ledgers(service)
    # each record is processed in its own event's trace (a CONSUMER span whose parent is the event's)
    answered = events[1]
    processed = [sp for sp in spans.get_finished_spans() if sp.name == f"{CASE_EVENTS} process"
                 and sp.attributes and sp.attributes.get("cloudevents.event_id") == answered.event_id]
    assert processed and processed[0].kind is trace.SpanKind.CONSUMER
    assert f"{processed[0].context.trace_id:032x}" == traceparent(answered.event_id).split("-")[1]


async def test_a_nearer_repeat_complaint_arriving_later_corrects_the_closures_one_fact(
    stack: Stack, uid: str, schema: str,
) -> None:
    """R1 is closed on 3 January; cases on its item and grid open 40 and 35 days later (one delivery),
    then one 3 days later (the next, delivered twice): R1 keeps ONE repeat fact, corrected from 35 whole
    days to 3 — its department's 重复投诉率 (within 30 days) goes from 0 of 1 closure to 1 of 1, and the
    sums stay what the ledger says (the 35 retracted, not added to)."""
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    dept = f"DEPT_R_{uid}"
    there = assignment(dept, grid=f"GR_{uid}", community=f"CR_{uid}", street=f"SR_{uid}")
    k, closed = CaseEventKind, local(2034, 1, 3, 10)

    def opened(case: str, days: int) -> CaseEvent:
        return case_event(f"{case}-{uid}", 1, k.CREATED, closed + timedelta(days=days, hours=1), assigned=there)

    first = [case_event(f"R1-{uid}", 1, k.CREATED, local(2034, 1, 2, 9), assigned=there),
             case_event(f"R1-{uid}", 2, k.DISPATCHED, local(2034, 1, 2, 9), assigned=there),
             case_event(f"R1-{uid}", 3, k.RESOLVED, local(2034, 1, 3, 9), assigned=there, actor=dept,
                        state=CaseState.RESOLVED),
             case_event(f"R1-{uid}", 4, k.CLOSED, closed, assigned=there, state=CaseState.CLOSED),
             opened("R4", 40), opened("R3", 35)]
    month = {"period": "2034-01", "ruler": NEW_RULER, "entity_type": "department"}

    def repeats(cards: list[ScoreCard]) -> tuple[int | None, int | None]:
        card = next((c for c in cards if c.entity_id == dept), None)
        rate = next((i for i in card.indicators if i.code == "repeat_complaint_rate"), None) if card else None
        return (rate.numerator, rate.denominator) if rate else (None, None)

    async def stored(service: Scoring) -> list[tuple[str, str]]:
        async with service.pool.acquire() as conn:
            return [tuple(r) for r in await conn.fetch(
                "SELECT event_id, tag FROM facts WHERE fact = 'repeat_complaint' ORDER BY 1")]

    async with serve(create_app(settings(stack, uid, group))) as client:
        service = service_of(client)
        await produce(stack.bootstrap, records(first))
        await caught_up(service, await input_end_offsets(stack.bootstrap))
        assert await stored(service) == [(f"RPT-R1-{uid}", "35")]  # the nearer of the two, once
        assert repeats(await until(client, month, lambda cs: repeats(cs) == (0, 1))) == (0, 1)
        await produce(stack.bootstrap, records([opened("R2", 3)] * 2))
        await until(client, month, lambda cs: repeats(cs) == (1, 1))
        await caught_up(service, await input_end_offsets(stack.bootstrap))
        assert await stored(service) == [(f"RPT-R1-{uid}", "3")]
        await assert_sums_are_the_ledgers(service)
        # the card's span links are the events that feed its value now: R2's, which the fact names, and no
        # longer R3's, whose fact was retracted
        async with service.pool.acquire() as conn:
            links = json.loads(await conn.fetchval("SELECT links::text FROM entities WHERE period = '2034-01' AND "
                                                   "entity_type = 'department' AND entity_id = $1", dept))
        fed_by = {link[2].split("-")[1] for link in links}  # traces (the span is the producer's)
        assert traceparent(opened("R2", 3).event_id).split("-")[1] in fed_by
        assert traceparent(opened("R3", 35).event_id).split("-")[1] not in fed_by


SQL = Path(ledger.__file__).resolve().parents[1] / "sql"


def _migrations_before(directory: Path, version: str) -> Path:
    """A directory holding scoring's migrations numbered before `version` (a database not yet upgraded)."""
    for path in sorted(SQL.glob("*.sql")):
        if path.name < version:
            shutil.copy(path, directory / path.name)
    return directory


async def test_migration_007_leaves_one_repeat_complaint_per_closure_and_the_sums_the_ledgers(
    stack: Stack, schema: str, tmp_path: Path,
) -> None:
    """A database scored before migration 007: K1's closure paired with three later cases (three facts,
    tags 40, 5 and 3, summed for its department and places). After it: one fact `RPT-K1` tagged 3, the
    closure remembers that case's time, the sums are what the ledger says and the cards are marked."""
    await migrate(stack.database_url, schema, _migrations_before(tmp_path, "007"))
    closed = datetime(2034, 1, 3, 2, tzinfo=UTC)
    places = {"department": "D", "grid": "G", "community": "C", "street": "S", "hotline": "12345"}
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": schema})
    try:
        await conn.execute("INSERT INTO cases (case_id, grid_id, community_id, street_id, channel, item_code, "
                           "handled_by) VALUES ('K1', 'G', 'C', 'S', 'hotline', 'A01', 'D')")
        await conn.execute("INSERT INTO closures VALUES ('K1', 'A01', 'G', $1, '2034-01', 'D')", closed)
        for case, days in (("K2", 40), ("K3", 5), ("K4", 3)):
            opened = closed + timedelta(days=days, hours=1)
            await conn.execute("INSERT INTO openings VALUES ($1, 'A01', 'G', $2)", case, opened)
            await conn.execute("INSERT INTO facts (event_id, ordinal, case_id, period, fact, tag, value, department, "
                               "at) VALUES ($1, 0, 'K1', '2034-01', 'repeat_complaint', $2, 1, 'D', $3)",
                               f"RPT-K1-{case}", str(days), opened)
            await conn.executemany("INSERT INTO tallies VALUES ('2034-01', $1, $2, 'repeat_complaint', $3, 1, 1)",
                                   [(etype, entity, str(days)) for etype, entity in places.items()])
    finally:
        await conn.close()
    assert (await migrate(stack.database_url, schema, SQL))[0] == "007_one_repeat_per_closure"  # later ones follow
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": schema})
    try:
        assert [tuple(r) for r in await conn.fetch("SELECT event_id, tag, at FROM facts")] == [("RPT-K1", "3", closed)]
        assert await conn.fetchval("SELECT repeat_at FROM closures") == closed + timedelta(days=3, hours=1)
        assert [tuple(r) for r in await conn.fetch(SUMS)] == [tuple(r) for r in await conn.fetch(FROM_LEDGER)]
        assert len(await conn.fetch(SUMS)) == len(places)
        assert {(r["entity_type"], r["entity_id"]) for r in await conn.fetch("SELECT * FROM dirty")} == set(
            places.items())
    finally:
        await conn.close()


async def test_migrations_recompute_an_as_of_a_pre_007_repeat_complaint_set(
    stack: Stack, schema: str, tmp_path: Path,
) -> None:
    """Before 007 a repeat complaint was a fact per (closure, later case) `at` the later case's time, so an
    entity's `as_of` (its card's computed_at) could be a case opened 40 days after the closure. 007 moves the
    fact to the closure's time; after the migrations every such `as_of` is the latest time among the entity's
    facts again (what a replay into an empty database gives) and its card is marked, while an entity whose
    `as_of` comes from its own facts is left as it is."""
    await migrate(stack.database_url, schema, _migrations_before(tmp_path, "007"))
    closed = datetime(2034, 1, 3, 2, tzinfo=UTC)
    late = closed + timedelta(days=40, hours=1)
    resolved = closed - timedelta(hours=5)
    places = {"department": "D", "grid": "G", "community": "C", "street": "S", "hotline": "12345"}
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": schema})
    try:
        await conn.execute("INSERT INTO cases (case_id, grid_id, community_id, street_id, channel, item_code, "
                           "handled_by) VALUES ('K1', 'G', 'C', 'S', 'hotline', 'A01', 'D'), "
                           "('K9', 'G9', 'C9', 'S9', 'app', 'B02', 'E')")
        await conn.execute("INSERT INTO closures VALUES ('K1', 'A01', 'G', $1, '2034-01', 'D')", closed)
        await conn.execute("INSERT INTO openings VALUES ('K2', 'A01', 'G', $1)", late)
        await conn.executemany(
            "INSERT INTO facts (event_id, ordinal, case_id, period, fact, tag, value, department, at) "
            "VALUES ($1, 0, $2, '2034-01', $3, $4, 1, $5, $6)",
            [("RPT-K1-K2", "K1", "repeat_complaint", "40", "D", late), ("E-K1-9", "K1", "resolved", "", "D", resolved),
             ("E-K9-3", "K9", "resolved", "", "E", late)])  # E's own fact: its as_of is right
        await conn.executemany("INSERT INTO entities (period, entity_type, entity_id, as_of) "
                               "VALUES ('2034-01', $1, $2, $3)",
                               [(etype, entity, late) for etype, entity in [*places.items(), ("department", "E")]])
    finally:
        await conn.close()
    await migrate(stack.database_url, schema, SQL)
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": schema})
    try:
        as_of = {(r["entity_type"], r["entity_id"]): r["as_of"] for r in await conn.fetch("SELECT * FROM entities")}
        assert as_of == {**{k: closed for k in places.items()}, ("department", "E"): late}
        assert {(r["entity_type"], r["entity_id"]) for r in await conn.fetch("SELECT * FROM dirty")} == set(
            places.items())
    finally:
        await conn.close()
