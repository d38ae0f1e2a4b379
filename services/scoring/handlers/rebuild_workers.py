"""The rebuild's fold in several processes (`--workers N`, handlers/rebuild.py): the log split BY CASE.

Every record of both topics is keyed by its case id (runtime/outbox.py), so worker i of N reads every
partition with librdkafka and folds only the records whose key hashes to i (crc32 mod N) — every event of
a case, in its partition's order, lands in one worker; a record whose case id is not its key's share
stops the rebuild (`Misrouted`: nothing is written, rebuild.py folds in one process instead). What the
workers fold is what one process folds, cut along cases; what crosses cases is joined here:

1. read: each worker folds its share and hands over its facts as COPY text (adapters/copy_text.py) while
   it reads; this process forwards them into `facts` in its one transaction (PostgreSQL on the other core);
2. pair: the workers' first openings and closures (with their cases' traces) are paired here at once
   (`fold.paired`, the one rule); the repeat facts go into `facts` after the workers' and each worker gets
   those of its closures;
3. settle: each worker counts its facts and repeats with its cases (`fold.count`, letting each fact go
   once counted) while it hands over its inbox rows, then its cases as COPY text and its sums; the sums
   are added as they come (`tallying.add_to`: a case counts in one worker only) and written with the
   halves, the dirty marks and the offsets (bulk.write_sums).

Everything a worker hands over after its read goes one chunk a message (SUMS_CHUNK sums or halves, or
copy_text.CHUNK_ROWS rows): a worker never holds its share twice, as objects and as one pickled message,
and the command COPYs the cases as they come.

The tables hold the same rows as after a rebuild in one process (the integration test compares both),
so the publisher computes byte-identical cards and ce_ids.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import itertools
import multiprocessing
import resource
import threading
import time
import traceback
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from runtime.consumer import dead_letter
from services.scoring.adapters import bulk, copy_text
from services.scoring.adapters.ledger import CASE_COLUMNS
from services.scoring.domain.fold import Fold, cases_counted, count, halves, paired, with_repeats
from services.scoring.domain.repeats import Closure, Opening
from services.scoring.domain.tallying import BatchTally, Recorded, add_to
from services.scoring.handlers import rebuild_read as one
from services.scoring.settings import ScoringSettings

QUEUE_CHUNKS = 8  # chunks waiting in this process per worker: a worker ahead of PostgreSQL waits
SUMS_CHUNK = 5_000  # sums (tallies, entities) or halves a message: a worker's share never in one message
PROGRESS_FACTS = 100_000  # while counting, a worker reports after this many facts (it is never silent for long)


def owner(key: bytes | None, workers: int) -> int:
    """The worker that folds a record keyed so (its case id): the same for every event of the case."""
    return zlib.crc32(key or b"") % workers


@dataclass
class Read:
    """What a worker hands over when its share is folded (after its facts and its halves): its counts and
    what it would dead-letter."""

    report: one.Report
    dead: list[one.DeadLetter]
    facts: int  # how many it handed over


@dataclass
class Halves:
    """The halves of repeat complaints with the traces of their cases: a slice of them a message ("halves",
    at most SUMS_CHUNK of each), or all of a worker's put together."""

    openings: list[Opening] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    traces: dict[str, str | None] = field(default_factory=dict)

    def add(self, more: Halves) -> None:
        self.openings += more.openings
        self.closures += more.closures
        self.traces.update(more.traces)


@dataclass
class Settled:
    """The last word of a worker (after its cases and sums): how many cases it handed over, and its peak
    resident memory (ru_maxrss, KiB)."""

    n_cases: int
    peak_rss_kb: int


class WorkerFailed(RuntimeError):
    """A fold worker stopped: its error, it exited (killed), or it sent nothing for too long (hung)."""


class Outbox:
    """A worker's end of its pipe: whole messages, from its main thread and its sender thread alike."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.lock = threading.Lock()

    def send(self, message: tuple[str, Any]) -> None:
        with self.lock:
            self.pipe.send(message)

    def recv(self) -> Any:
        return self.pipe.recv()

    def close(self) -> None:
        self.pipe.close()


def fold_part(index: int, workers: int, settings: ScoringSettings, bounds: one.Bounds, pipe: Connection) -> None:
    """A worker process: fold share `index` of `workers`, hand it over as described above."""
    out = Outbox(pipe)
    try:
        _fold_part(index, workers, settings, bounds, out)
    except BaseException as exc:  # to the parent, which stops the rebuild (nothing is committed)
        out.send(("failed", (isinstance(exc, one.Misrouted), f"failed: {type(exc).__name__}: {exc}",
                             traceback.format_exc())))
    finally:
        out.close()


def _progress(facts: Iterable[Recorded], pipe: Outbox) -> Iterator[Recorded]:
    """The facts, with a word to the command after every PROGRESS_FACTS of them (it is counting, not hung)."""
    for n, recorded in enumerate(facts, 1):
        if n % PROGRESS_FACTS == 0:
            pipe.send(("progress", None))
        yield recorded


def _fold_part(index: int, workers: int, settings: ScoringSettings, bounds: one.Bounds, pipe: Outbox) -> None:
    gc.freeze()
    gc.disable()  # as in one process: the fold's live objects are never garbage
    fold, inbox, report, dead = Fold(contexts={}), dict[str, str](), one.Report(), list[one.DeadLetter]()

    def owned(case_id: str) -> bool:
        return owner(case_id.encode(), workers) == index

    reader = one.bulk_reader(settings)
    sent = 0
    try:
        records = one.Bounded(reader, bounds)
        while records.left:
            batch = reader.consume(one.READ_BATCH, 1.0)
            for topic, message in records.take(batch):
                if owner(message.key(), workers) == index:
                    found = one.fold_record(message, topic, fold, inbox, report, owned)
                    if found is not None:
                        dead.append(found)
            _send(pipe, "facts", copy_text.chunks(map(copy_text.fact_line, fold.facts[sent:])))
            sent = len(fold.facts)
            if batch:
                pipe.send(("progress", None))  # it reads: a worker whose read stops is taken for hung
            records.check_positions()
    finally:
        reader.close()
    _hand_over(fold, inbox, report, dead, pipe)


def _hand_over(fold: Fold, inbox: dict[str, str], report: one.Report, dead: list[one.DeadLetter],
               pipe: Outbox) -> None:
    """The rest of a worker's share, once read, one chunk a message — a worker holds its share once, as
    objects, never also as one pickled message: its halves, its counts, then (given its repeat complaints)
    its inbox rows while it counts its facts, letting each go once counted, then its cases and its sums."""
    openings, closures = halves(fold)
    for i in range(0, max(len(openings), len(closures)), SUMS_CHUNK):
        some = Halves(openings[i:i + SUMS_CHUNK], closures[i:i + SUMS_CHUNK])
        some.traces = {c: fold.traces.get(c) for c in itertools.chain((o.case_id for o in some.openings),
                                                                      (c.case_id for c in some.closures))}
        pipe.send(("halves", some))
    del openings, closures
    fold.openings, fold.closures, fold.traces = [], [], {}  # handed over: nothing here needs them again
    report.events = len(inbox)
    pipe.send(("read", Read(report, dead, len(fold.facts))))
    kind, repeats = pipe.recv()
    assert kind == "repeats"
    rows = copy_text.chunks(f"{copy_text.text(event_id)}\t{topic}\n" for event_id, topic in inbox.items())
    sender = threading.Thread(target=_send, args=(pipe, "inbox", rows, True))
    sender.start()  # PostgreSQL takes the inbox while this process counts (the pipe's writes release the GIL)
    facts, fold.facts = fold.facts, []
    tally = count(fold, _progress(itertools.chain(_let_go(facts), repeats), pipe))
    sender.join()
    inbox.clear()
    n_cases = [0]

    def case_rows() -> Iterator[str]:
        for case in cases_counted(fold, tally):
            n_cases[0] += 1
            yield copy_text.row_line(bulk.case_row(case))

    _send(pipe, "cases", copy_text.chunks(case_rows()))
    for kind, sums in (("tallies", tally.tallies), ("entities", tally.entities)):
        items = iter(sums.items())
        while chunk_of := dict(itertools.islice(items, SUMS_CHUNK)):
            pipe.send((kind, chunk_of))
    pipe.send(("settled", Settled(n_cases[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))


def _let_go(items: list[Recorded]) -> Iterator[Recorded]:
    """The list's items in order, each let go once handed out (counting a year's facts frees them as it
    goes, instead of holding them all until the sums are made)."""
    held: list[Recorded | None] = items  # type: ignore[assignment]
    for i in range(len(held)):
        item, held[i] = held[i], None
        assert item is not None
        yield item
    held.clear()


def _send(pipe: Outbox, kind: str, chunks: Iterable[bytes], done: bool = False) -> None:
    for chunk in chunks:
        pipe.send((kind, chunk))
    if done:
        pipe.send((f"{kind}_done", None))


class Workers:
    """The worker processes and what they send, as one queue in this process's event loop."""

    def __init__(self, settings: ScoringSettings, bounds: one.Bounds, workers: int) -> None:
        self.n = workers
        self.silence = settings.rebuild_worker_silence_seconds
        # per worker: since when this process waits on it (None: it waits on this process, for its repeats)
        self.heard: list[float | None] = [time.monotonic()] * workers
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[int, str, Any]] = asyncio.Queue(maxsize=QUEUE_CHUNKS * workers)
        self.stopping = threading.Event()
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no sockets, threads or locks of ours
        self.pipes: list[Connection] = []
        self.processes = []
        self.threads = []
        for i in range(workers):
            mine, theirs = context.Pipe()
            process = context.Process(target=fold_part, args=(i, workers, settings, bounds, theirs),
                                      name=f"scoring-rebuild-fold-{i}", daemon=True)
            process.start()
            theirs.close()
            thread = threading.Thread(target=self._relay, args=(i, mine), name=f"scoring-rebuild-relay-{i}",
                                      daemon=True)
            thread.start()
            self.pipes.append(mine)
            self.processes.append(process)
            self.threads.append(thread)

    def _relay(self, index: int, pipe: Connection) -> None:
        """What worker `index` sends, into the queue; its end (EOF) or its silence as a failure. The silence
        is timed only while this process waits on the worker: not while the queue is full (PostgreSQL is
        behind), nor while the worker waits for its repeats."""
        while not self.stopping.is_set():
            since = self.heard[index]
            if not pipe.poll(0.5):
                if since is None or time.monotonic() - since < self.silence:
                    continue
                kind, payload = "failed", (False, f"sent nothing for {self.silence:g} s (hung)", "")
            else:
                try:
                    kind, payload = pipe.recv()
                except (EOFError, OSError):
                    kind, payload = "failed", (False, "exited", "")
            if kind == "read":
                self.heard[index] = None  # it waits for this process's repeats (send() starts the clock again)
            put = asyncio.run_coroutine_threadsafe(self.queue.put((index, kind, payload)), self.loop)
            while not self.stopping.is_set():
                try:
                    put.result(timeout=0.5)
                    break
                except concurrent.futures.TimeoutError:
                    continue
            if kind in ("settled", "failed"):
                return
            if self.heard[index] is not None:
                self.heard[index] = time.monotonic()

    def named(self, index: int) -> str:
        return f"fold worker {index} (pid {self.processes[index].pid})"

    async def _failed(self, index: int, reason: str, trace: str = "", misrouted: bool = False) -> Exception:
        """The error that stops the rebuild: which worker, and why (for one that exited, its exit code:
        -9 is SIGKILL, e.g. the kernel out of memory)."""
        process = self.processes[index]
        if reason == "exited":
            await asyncio.to_thread(process.join, 5)
            reason += f" (exit code {process.exitcode})"
        elif not trace and process.is_alive():
            process.kill()  # hung: it is stopped here, not left behind
        return (one.Misrouted if misrouted else WorkerFailed)(f"{self.named(index)} {reason}\n{trace}".rstrip())

    async def next(self) -> tuple[int, str, Any]:
        index, kind, payload = await self.queue.get()
        if kind == "failed":
            misrouted, reason, trace = payload
            raise await self._failed(index, reason, trace, misrouted)
        return index, kind, payload

    async def send(self, index: int, message: tuple[str, Any]) -> None:
        """To worker `index`; one that dies or stops reading meanwhile fails the rebuild."""
        sending = asyncio.ensure_future(asyncio.to_thread(self.pipes[index].send, message))
        sending.add_done_callback(lambda f: f.cancelled() or f.exception())  # its error is raised below
        try:
            await asyncio.wait_for(asyncio.shield(sending), self.silence)
        except TimeoutError:
            raise await self._failed(index, f"took nothing for {self.silence:g} s (hung)") from None
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
            raise await self._failed(index, "exited") from None
        self.heard[index] = time.monotonic()

    def stop(self) -> None:
        self.stopping.set()
        for process in self.processes:
            if process.is_alive():
                process.kill()
            process.join(timeout=10)
        for pipe in self.pipes:
            pipe.close()


async def fold_and_write(conn: asyncpg.Connection, settings: ScoringSettings, bounds: one.Bounds,
                         offsets: bulk.Offsets, workers: int, producer: AIOKafkaProducer,
                         report: one.Report, dead_sent: set[one.Origin]) -> dict[str, float]:
    """Fold the bounded log in `workers` processes and write it in the caller's transaction (the tables
    locked and empty); `report` gets the counts and rows written, `dead_sent` where each record it
    dead-lettered came from (a fold again after a failure does not send them twice). Returns when each
    phase ended."""
    marks: dict[str, float] = {}
    crew = Workers(settings, bounds, workers)
    try:
        reads: dict[int, Read] = {}
        halved = [Halves() for _ in range(workers)]
        pairs: dict[str, tuple[Closure, Opening]] = {}
        facts_written: list[int] = []
        tally = BatchTally()  # the workers' sums, added up as they come
        early: list[bytes] = []  # cases a worker sent while another's inbox was still being written
        settled: dict[int, Settled] = {}

        def took(index: int, kind: str, payload: Any) -> None:
            """What may come at any time after the read: sums, cases before their COPY, the last word."""
            if kind in ("tallies", "entities"):
                add_to(tally, BatchTally(tallies=payload) if kind == "tallies" else BatchTally(entities=payload))
            elif kind == "cases":
                early.append(payload)
            elif kind == "settled":
                settled[index] = payload
                if len(settled) == workers:
                    marks["settle"] = time.perf_counter()

        async def facts() -> AsyncIterator[bytes]:
            while len(reads) < workers:
                index, kind, payload = await crew.next()
                if kind == "facts":
                    yield payload
                elif kind == "halves":
                    halved[index].add(payload)
                elif kind == "read":
                    reads[index] = payload
            marks["read_and_fold"] = time.perf_counter()
            for d in (d for i in range(workers) for d in reads[i].dead):  # as the consumer would, before the commit
                await dead_letter(producer, one.SERVICE, d.record, d.reason, d.kind, d.envelope)
                dead_sent.add(one.origin(d.record))
            traces = {c: t for h in halved for c, t in h.traces.items()}
            found, repeats = paired([c for h in halved for c in h.closures], [o for h in halved for o in h.openings],
                                    traces)
            del traces
            pairs.update(found)
            share: list[list[Recorded]] = [[] for _ in range(workers)]
            for r in repeats:
                share[owner(r.fact.case_id.encode(), workers)].append(r)
            for i in range(workers):
                await crew.send(i, ("repeats", share[i]))
            facts_written.append(sum(r.facts for r in reads.values()) + len(repeats))
            for chunk in copy_text.chunks(map(copy_text.fact_line, repeats)):
                yield chunk

        await bulk.copy_text(conn, "facts", bulk.FACT_COLUMNS, facts())
        done: set[int] = set()

        async def inbox() -> AsyncIterator[bytes]:
            while len(done) < workers:
                index, kind, payload = await crew.next()
                if kind == "inbox":
                    yield payload
                elif kind == "inbox_done":
                    done.add(index)
                else:
                    took(index, kind, payload)

        await bulk.copy_text(conn, "inbox", ("event_id", "topic"), inbox())

        async def cases() -> AsyncIterator[bytes]:
            while early:
                yield early.pop(0)
            while len(settled) < workers:
                index, kind, payload = await crew.next()
                took(index, kind, payload)
                while early:
                    yield early.pop(0)

        await bulk.copy_text(conn, "cases", CASE_COLUMNS, cases())
        openings = [o for h in halved for o in h.openings]
        closures = with_repeats((c for h in halved for c in h.closures), pairs)
        for i in range(workers):
            r = reads[i].report
            report.records += r.records
            report.duplicates += r.duplicates
            report.dead_lettered += r.dead_lettered
            report.events += r.events
        report.peak_rss_mb = {f"worker_{i}": settled[i].peak_rss_kb // 1024 for i in range(workers)}
        report.written = {"inbox": report.events, "cases": sum(p.n_cases for p in settled.values()),
                          "facts": facts_written[0],
                          **await bulk.write_sums(conn, openings, closures, tally, offsets)}
        return marks
    finally:
        crew.stop()
