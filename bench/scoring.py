"""Scoring: events scored per second beside a floor measured in the same run, and a replay of the topics.

Synthetic cases (simcity's incident generator, spread over one year) are given a closed loop each —
created, dispatched, accepted, resolved, verified, rated, closed, and SLA `met`/`overdue` for accept and
handle — and produced to `case.events.v1` and `sla.events.v1` (untimed). Then, on the same records:

- **floor** (the inbox passthrough, bench/floors.py (b)): consume → one PostgreSQL transaction per
  batch (inbox ids, a state upsert and an outbox row per record) → produce every record → commit;
- **scoring**: the service in-process, a fresh schema and group, from the moment its consumer holds
  partitions until every record is committed, no card is dirty and the outbox is drained (every card
  published). The same run is the replay of the topics into an empty database;
- **rebuild**: the replay by rebuild (`python -m services.scoring rebuild`, handlers/rebuild.py) into
  another fresh schema and group, in-process: from its start until the state is written, the group handed
  over and every card published.

`python -m bench scoring` runs it alone; `--year` replays ~1,000,000 cases (a synthetic year) by rebuild
beside the floor (the incremental consumer is not run on the year: over an hour on a shared 2-core machine,
docs/benchmarks.md), `--year-months M` the first M months of it at
the same density (83,333 cases a month) and `--year-days D` its first D days (a short profile at that
density); otherwise the replay time of a year is projected from the measured rate, and labelled as such.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from bench import floors
from bench.data import synthetic
from bench.infra import wait_assigned
from bench.profile import hottest, sampler, stop_sampler
from bench.timing import Rate, Ratio
from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState, ReporterRef
from schemas.cloudevents import Outgoing, encode
from schemas.common import Channel, Level
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from schemas.topics import CASE_EVENTS, SLA_EVENTS, case_type, sla_type
from services.scoring.app import create_app
from services.scoring.handlers.rebuild import rebuild
from services.scoring.settings import ScoringSettings
from simcity.generate import generate_city

SCORED_RATE = "scoring: events → facts → cards published"
REBUILT_RATE = "scoring rebuild: backlog folded → COPY → group handed over → cards published"
FLOOR_RATE = "inbox passthrough (floor)"
YEAR_CASES = 1_000_000
YEAR = timedelta(days=365)
DEPARTMENTS = tuple(f"DEPT{i:02d}" for i in range(24))
FLOOR_AT_MOST = 1_000_000  # the floor is a rate: on the year it runs over the first million records (≈ 2 min)


@dataclass(frozen=True)
class ScoringSizes:
    cases: int = 800  # ≈ 7,000 events: a few minutes at today's rate (docs/benchmarks.md), more once it is faster
    rounds: int = 1
    year_months: int = 0  # replay that many months of a synthetic year at its density (`--year` = 12)
    year_days: int = 0  # or that many days of it (a short run at a year's density, for profiles)
    timeout: float = 7200.0  # a round's floor and rebuilds (the year rebuilt twice: ~1 h on a shared box)
    profile: Path | None = None  # py-spy output (raw collapsed stacks) for the last round's scoring
    incremental: bool = True  # also score the records with the ordinary consumer (not on the year: > 1 h)
    rebuild_workers: tuple[int, ...] = (ScoringSettings().rebuild_workers,)  # one rebuild per entry, in order


def case_events(n: int, seed: int, year_start: datetime, span: timedelta = YEAR) -> list[CaseEvent | SlaEvent]:
    """`n` cases, their reported times spread evenly over `span` (a year), each through the closed loop."""
    return [e for case in each_case(n, seed, year_start, span) for e in case]


def each_case(n: int, seed: int, year_start: datetime, span: timedelta = YEAR,
              part: int = 0, parts: int = 1) -> Iterator[list[CaseEvent | SlaEvent]]:
    """`case_events`, one case's events at a time (a year's 8.7 M events are produced without holding them);
    `part` of `parts`: only every `parts`-th case from the `part`-th (the same cases, split)."""
    city = generate_city()
    grids = {g.grid_id: g for g in city.grids}
    for i, inc in enumerate(synthetic(n, seed=seed)):
        if i % parts != part:
            continue
        out: list[CaseEvent | SlaEvent] = []
        grid = grids[inc.true_grid_id]
        case_id = f"C-BENCH-{seed}-{i:07d}"
        owner = DEPARTMENTS[int(hashlib.blake2b(inc.true_kind.encode(), digest_size=2).hexdigest(), 16) % 24]
        where = Assignment(owner=owner, level=Level.DISTRICT, item_code=inc.true_kind, grid_id=grid.grid_id,
                           community_id=grid.community_id, street_id=grid.street_id)
        at = year_start + span * i / n
        reporter = ReporterRef(kind="grid_worker", id=inc.worker_id) if inc.worker_id else None
        steps: list[tuple[CaseEventKind, CaseState, timedelta, str, dict[str, Any]]] = [
            (CaseEventKind.CREATED, CaseState.REPORTED, timedelta(0), "router", {"reporter": reporter}),
            (CaseEventKind.DISPATCHED, CaseState.DISPATCHED, timedelta(0), "router", {}),
            (CaseEventKind.ACCEPTED, CaseState.ACCEPTED, timedelta(hours=1), owner, {}),
            (CaseEventKind.RESOLVED, CaseState.RESOLVED, timedelta(days=1), owner, {}),
            (CaseEventKind.VERIFIED, CaseState.VERIFIED, timedelta(days=1, hours=3), grid.worker_id, {}),
        ]
        if inc.channel != "grid":
            steps.append((CaseEventKind.RATED, CaseState.VERIFIED, timedelta(days=2), "CENTER:bench",
                          {"satisfaction": 1 + i % 5}))
        steps.append((CaseEventKind.CLOSED, CaseState.CLOSED, timedelta(days=2), "CENTER:bench", {}))
        for seq, (kind, state, after, actor, extra) in enumerate(steps, start=1):
            out.append(CaseEvent(event_id=f"CE-{case_id}-{seq}", case_id=case_id, kind=kind, state=state, seq=seq,
                                 at=at + after, actor=actor, channel=Channel(inc.channel), assignment=where, **extra))
        for stage, after, late in ((SlaStage.ACCEPT, timedelta(hours=1), i % 7 == 0),
                                   (SlaStage.HANDLE, timedelta(days=1), i % 5 == 0)):
            kind = SlaEventKind.OVERDUE if late else SlaEventKind.MET
            out.append(SlaEvent(event_id=f"SLA-{case_id}-{stage.value}", case_id=case_id, kind=kind, stage=stage,
                                at=at + after, owner=owner))
        yield out


def _record(e: CaseEvent | SlaEvent) -> Outgoing:
    if isinstance(e, CaseEvent):
        return encode(CASE_EVENTS, e.case_id, e, type=case_type(e.kind.value), source="/gridline/router",
                      subject=e.case_id, event_id=e.event_id, time=e.at)
    return encode(SLA_EVENTS, e.case_id, e, type=sla_type(e.kind.value), source="/gridline/sla", subject=e.case_id,
                  event_id=e.event_id, time=e.at)


async def _offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in (CASE_EVENTS, SLA_EVENTS) for p in consumer.partitions_for_topic(t) or ()]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        return ends
    finally:
        await consumer.stop()


async def _produce(bootstrap: str, cases: Iterable[list[CaseEvent | SlaEvent]]) -> int:
    """Produce every case's events (in batches of about 2,000); returns how many."""
    producer = make_producer(bootstrap, client_id="bench-scoring-feeder")
    await producer.start()
    produced = 0
    try:
        batch: list[Outgoing] = []
        for case in cases:
            batch += [_record(e) for e in case]
            if len(batch) >= 2000:
                await publish(producer, batch)
                produced, batch = produced + len(batch), []
        await publish(producer, batch)
        return produced + len(batch)
    finally:
        await producer.stop()


PRODUCERS_FROM = 20_000  # cases: from this many, the records are made and produced by 2 processes


def _produce_share(bootstrap: str, n: int, seed: int, year_start: datetime, span: timedelta, part: int,
                   parts: int) -> int:
    return asyncio.run(_produce(bootstrap, each_case(n, seed, year_start, span, part, parts)))


async def produce_cases(bootstrap: str, n: int, seed: int, year_start: datetime, span: timedelta) -> int:
    """Every case's events, produced (untimed) — by 2 processes for a large round, each making and producing
    every other case (a case's events stay in order: one producer, one key)."""
    parts = 2 if n >= PRODUCERS_FROM else 1
    if parts == 1:
        return await _produce(bootstrap, each_case(n, seed, year_start, span))
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(parts, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = await asyncio.gather(*(loop.run_in_executor(pool, _produce_share, bootstrap, n, seed, year_start,
                                                             span, part, parts) for part in range(parts)))
    return sum(counts)


async def floor(stack: Stack, start: dict[TopicPartition, int], n: int) -> float:
    """Events/s of the router's floor (b) over the same records (bench/floors.py): consume → one
    PostgreSQL transaction per batch (inbox, state upsert, outbox) → produce every record → commit."""
    await floors.prepare(stack, partitions=max(1, len(start)))
    return await floors.consume_produce(stack, start, n, database=True)


async def _settled(pool: asyncpg.Pool, consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if (await consumer.committed(tp) or 0) < offset:
            return False
    pending = await pool.fetchval("SELECT (SELECT count(*) FROM dirty) + (SELECT count(*) FROM outbox "
                                  "WHERE sent_at IS NULL)")
    return not pending


async def _group_at(stack: Stack, group: str, start: dict[TopicPartition, int]) -> None:
    """A new group committed at the round's first records (not at everyone's history)."""
    committer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign(list(start))
        await committer.commit({tp: OffsetAndMetadata(o, "") for tp, o in start.items()})
    finally:
        await committer.stop()


async def rebuild_all(stack: Stack, start: dict[TopicPartition, int], profile: Path | None = None,
                      workers: int = 1) -> tuple[float, dict[str, Any]]:
    """(seconds, what it did) of a rebuild into an EMPTY schema from the round's first records: read and
    fold, COPY, hand the group over, compute and publish every card."""
    tag = uuid.uuid4().hex[:8]
    group = f"bench-rebuild-{tag}"
    await _group_at(stack, group, start)
    settings = ScoringSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url,
                               schema_name=f"bench_rebuild_{tag}", group_id=group, log_level="WARNING")
    spy = sampler(profile, subprocesses=workers > 1)  # the fold workers are sampled too
    peak_reset = _reset_peak_rss()
    began = time.perf_counter()
    try:
        report = await rebuild(settings, from_committed=True, workers=workers)
    finally:
        took = time.perf_counter() - began
        stop_sampler(spy)
    return took, {"workers": report.workers, "events": report.events, "cards": report.cards,
                  "phase_seconds": report.seconds, "fell_back": report.fell_back,
                  "peak_rss_mb": {**report.peak_rss_mb, **({"command": _peak_rss_mb()} if peak_reset else {})},
                  "rows_written": report.written}


def _reset_peak_rss() -> bool:
    """This process's peak resident memory (VmHWM) from now on (Linux: `5` to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> int:
    """VmHWM of this process since the last reset, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


async def score_all(stack: Stack, start: dict[TopicPartition, int], end: dict[TopicPartition, int],
                    profile: Path | None = None) -> tuple[float, float, dict[str, int]]:
    """(seconds, start-up seconds, what was stored) of an in-process scoring into an EMPTY schema, from
    the moment it holds partitions until every record is consumed and every card published."""
    tag = uuid.uuid4().hex[:8]
    group = f"bench-scoring-{tag}"
    await _group_at(stack, group, start)
    settings = ScoringSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url,
                               schema_name=f"bench_scoring_{tag}", group_id=group, publish_interval_seconds=2.0,
                               log_level="WARNING", from_committed=True)
    app = create_app(settings)
    booting = time.perf_counter()
    async with app.router.lifespan_context(app):
        service = app.state.scoring
        consumer = service.plumbing.consumer
        await wait_assigned(consumer)
        statements = await _statements_reset(service.pool)
        began = time.perf_counter()
        spy = sampler(profile)
        try:
            while not await _settled(service.pool, consumer, end):  # noqa: ASYNC110 — polls the database and offsets
                await asyncio.sleep(0.5)
        finally:
            stop_sampler(spy)
        took = time.perf_counter() - began
        stored: dict[str, Any] = {name: int(await service.pool.fetchval(f"SELECT count(*) FROM {name}"))
                                  for name in ("facts", "cards", "cases")}
        if statements:
            stored["statements"] = await _statements(service.pool)
    return took, began - booting, stored


async def _statements_reset(pool: asyncpg.Pool) -> bool:
    """pg_stat_statements from here on, when the stack loads it (`GRIDLINE_PG_STAT_STATEMENTS=1`)."""
    try:
        await pool.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await pool.execute("SELECT pg_stat_statements_reset()")
    except asyncpg.PostgresError:
        return False
    return True


async def _statements(pool: asyncpg.Pool, top: int = 15) -> list[dict[str, Any]]:
    """The statements that took the most time during the replay: total ms, calls, ms per call."""
    rows = await pool.fetch("SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query, calls, "
                            "round(total_exec_time::numeric, 1)::float8 AS total_ms, "
                            "round((total_exec_time / calls)::numeric, 3)::float8 AS ms_per_call "
                            "FROM pg_stat_statements "
                            "ORDER BY total_exec_time DESC LIMIT $1", top)
    return [dict(r) for r in rows]


async def run(stack: Stack, sizes: ScoringSizes) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    floors: list[float] = []
    scored: list[float] = []
    rebuilt: dict[int, list[float]] = {}
    startup: list[float] = []
    facts: dict[str, Any] = {}
    months = sizes.year_months
    share = months / 12 if months else sizes.year_days / 365  # of the synthetic year replayed at its density
    rounds = 1 if share else sizes.rounds
    cases = round(YEAR_CASES * share) if share else sizes.cases
    span = YEAR * share if share else YEAR
    incremental = sizes.incremental and months != 12
    rebuild_profile = sizes.profile.with_name("profile-scoring-rebuild.txt") if sizes.profile else None
    events_per_round = 0
    for round_no in range(rounds):
        start = await _offsets(stack.bootstrap)
        producing = time.perf_counter()
        events_per_round = await produce_cases(stack.bootstrap, cases, 2000 + round_no,
                                               datetime(2030 + round_no, 1, 1, tzinfo=UTC), span)
        facts[f"produce_round_{round_no}_seconds (untimed for the rates)"] = round(time.perf_counter() - producing, 1)
        end = await _offsets(stack.bootstrap)
        last = round_no == rounds - 1
        async with asyncio.timeout(sizes.timeout):
            floors.append(await floor(stack, start, min(events_per_round, FLOOR_AT_MOST)))
            for workers in sizes.rebuild_workers:
                profile = rebuild_profile and rebuild_profile.with_name(f"profile-scoring-rebuild-w{workers}.txt")
                took, done = await rebuild_all(stack, start, profile if last else None, workers)
                rebuilt.setdefault(workers, []).append(events_per_round / took)
                facts[f"rebuild_round_{round_no}_workers_{workers}"] = {"cases": cases,
                                                                       "replay_seconds": round(took, 1), **done}
            if incremental:
                took, boot, stored = await score_all(stack, start, end, sizes.profile if last else None)
                scored.append(events_per_round / took)
                startup.append(boot)
                facts[f"round_{round_no}"] = {"cases": cases, "events": events_per_round,
                                              "replay_seconds": round(took, 1), **stored}
    base = Rate(FLOOR_RATE, "events", tuple(floors), events_per_round,
                "consume → one PostgreSQL transaction per batch (inbox, state, outbox) → produce → commit"
                + (f" (over the first {FLOOR_AT_MOST:,} records)" if events_per_round > FLOOR_AT_MOST else ""))
    rates, ratios = [base], []
    for workers, rebuilt_rates in rebuilt.items():
        by_rebuild = Rate(f"{REBUILT_RATE} ({workers} {'process' if workers == 1 else 'fold workers'})", "events",
                          tuple(rebuilt_rates), events_per_round,
                          "in-process rebuild into an empty schema; clock from its start to every card published "
                          "(a year in < 300 s: ≥ 29,000/s)")
        rates.append(by_rebuild)
        ratios.append(Ratio(f"rebuild ({workers}) / inbox passthrough", by_rebuild, base,
                            "fraction of the floor's speed"))
    fastest = max(rates[1:], key=lambda r: r.median)
    if incremental:
        rate = Rate(SCORED_RATE, "events", tuple(scored), events_per_round,
                    "in-process scoring into an empty schema; clock from partitions held to every card published "
                    "(target ≥ 5,000/s)", {"startup_seconds": [round(s, 2) for s in startup]})
        rates.append(rate)
        ratios.append(Ratio("scoring / inbox passthrough", rate, base, "fraction of the floor's speed"))
    replayed = min(facts[f"rebuild_round_0_workers_{w}"]["replay_seconds"] for w in sizes.rebuild_workers)
    if months == 12:
        facts["year_replay_seconds (by rebuild)"] = replayed
    elif share:
        slice_ = f"{months}_months" if months else f"{sizes.year_days}_days"
        facts[f"{slice_}_at_a_year's_density_rebuild_seconds"] = replayed
        facts["year_replay_projected_seconds (by rebuild: that ÷ the share of the year; not measured)"] = round(
            replayed / share)
    else:
        facts["year_replay_projected_seconds (by rebuild, at this rate; not measured; --year measures it)"] = round(
            YEAR_CASES * events_per_round / cases / fastest.median)
    facts["year_replay_target_seconds"] = 300
    profiles = [("profile", sizes.profile)] + [
        (f"rebuild_profile_workers_{w}", rebuild_profile.with_name(f"profile-scoring-rebuild-w{w}.txt"))
        for w in sizes.rebuild_workers if rebuild_profile is not None]
    for name, path in profiles:
        if path is not None and path.exists():
            facts[name] = {"file": str(path), **hottest(path)}
    return rates, ratios, facts


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.scoring` = `python -m bench scoring`."""
    from bench.__main__ import main as bench_main

    return bench_main(["--only", "scoring", *(argv or [])])


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
