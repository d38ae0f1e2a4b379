"""The decision worker (services/router/decider): a second process that loads the same tables and
decides the next poll's incidents. Its routings are the very ones the router would make; the router
never waits for it to start, never uses an answer made under other tables, and decides itself what the
worker loses (it crashed, was killed, is stuck); a worker whose router dies goes with it."""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord

from bench.data import synthetic, to_incident, write_city_dir
from runtime.batch import Delivery
from schemas.cloudevents import decode, encode
from schemas.incident import IncidentReported
from schemas.topics import INTAKE_HOTLINE
from services.router.adapters.http import explain_routing
from services.router.decider.client import DecisionWorker
from services.router.decider.wire import pack, unframe, unpack
from services.router.domain.decide import Routing, RoutingTables, route_many
from services.router.domain.duplicates import DuplicatePolicy
from services.router.handlers.context import RouterContext, TablesHolder
from services.router.handlers.incidents import Asked, Decided, _parse, _route_all, prepare_incidents
from services.router.settings import RouterSettings
from services.router.tables import load_city, load_tables, reload

INCIDENTS = 120


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_city_dir(tmp_path_factory.mktemp("city"))


@pytest.fixture
def settings(city_dir: Path, tmp_path: Path) -> RouterSettings:
    """The repository's list copied where a test may change it (the model and knowledge as shipped)."""
    shutil.copytree(RouterSettings().responsibility_list_dir, tmp_path / "list")
    return RouterSettings(city_dir=city_dir, responsibility_list_dir=tmp_path / "list")


@pytest.fixture
def holder(settings: RouterSettings) -> TablesHolder:
    gazetteer, city = load_city(settings.city_dir)
    return TablesHolder(load_tables(settings, gazetteer, city), city)


@pytest.fixture
async def worker(settings: RouterSettings) -> AsyncIterator[DecisionWorker]:
    decider = DecisionWorker(settings)
    stop = asyncio.Event()
    await decider.start()
    running = asyncio.create_task(decider.run(stop))
    yield decider
    stop.set()
    await asyncio.wait_for(running, 30)


def _deliveries(n: int = INCIDENTS, seed: int = 11) -> list[Delivery]:
    out = []
    for k, inc in enumerate(synthetic(n, seed)):
        incident = to_incident(inc, f"HL-DW{k:05d}")
        record = encode(INTAKE_HOTLINE, incident.incident_id, incident, type="gov.gridline.incident.reported.v1",
                        source="/test", event_id=f"ev-{k}")
        raw = ConsumerRecord(INTAKE_HOTLINE, 0, k, 0, 0, record.key, record.value, None, 0, 0, record.headers)
        out.append(Delivery(raw, decode(record.key, record.value, record.headers)))
    return out


def _context(holder: TablesHolder, worker: DecisionWorker | None, timeout: float = 60) -> RouterContext:
    return RouterContext(pool=None, tables=holder, clock=lambda: None,  # type: ignore[arg-type, return-value]
                         duplicates=DuplicatePolicy(150, timedelta(hours=72)), decider=worker, decider_timeout=timeout)


async def _until(condition: Callable[[], bool], timeout: float = 120) -> None:
    """Wait (bounded, not timed) until the worker reached a state."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError


def _prepare(ctx: RouterContext, deliveries: list[Delivery]) -> None:
    for start in range(0, len(deliveries), 16):  # as the consumer loop calls it (runtime.consumer.PREPARE_CHUNK)
        prepare_incidents(ctx, deliveries[start:start + 16])


async def _decided(deliveries: list[Delivery], tables: RoutingTables, ctx: RouterContext) -> list[Routing]:
    incidents = [await _parse(d) for d in deliveries]
    return await _route_all(deliveries, incidents, tables, ctx)


def _as_json(routings: list[Routing]) -> list[object]:
    return [(r.outcome, r.item.code if r.item else None, explain_routing(r)) for r in routings]


def _expected(deliveries: list[Delivery], tables: RoutingTables) -> list[Routing]:
    return route_many([d.envelope.payload(IncidentReported) for d in deliveries], tables)


def test_a_routing_crosses_the_pipe_unchanged(holder: TablesHolder) -> None:
    tables = holder.current
    for routing in _expected(_deliveries(), tables):
        back = unpack(unframe(pickle.dumps(pack(routing))), tables)
        assert back == routing and back.item is routing.item and repr(back) == repr(routing)


async def test_the_worker_loads_the_same_tables_and_its_routings_are_the_routers(
    holder: TablesHolder, worker: DecisionWorker
) -> None:
    ctx = _context(holder, worker)
    early = _deliveries(16)
    _prepare(ctx, early)  # not ready yet: the router does not wait, it decides these itself
    assert all(isinstance(d.prepared, Decided) for d in early)
    await _until(lambda: worker.digest is not None)
    assert worker.digest == holder.current.digest != ""

    deliveries = _deliveries()
    _prepare(ctx, deliveries)
    assert all(isinstance(d.prepared, Asked) for d in deliveries)
    routings = await _decided(deliveries, holder.current, ctx)
    expected = _expected(deliveries, holder.current)
    assert routings == expected and _as_json(routings) == _as_json(expected)


async def test_after_a_reload_no_answer_made_under_the_old_list_is_used(
    settings: RouterSettings, holder: TablesHolder, worker: DecisionWorker
) -> None:
    ctx = _context(holder, worker)
    await _until(lambda: worker.digest is not None)
    old, first_pid = holder.current, worker.pid
    deliveries = _deliveries()
    _prepare(ctx, deliveries)
    assert all(isinstance(d.prepared, Asked) for d in deliveries)

    header = settings.responsibility_list_dir / "list.yaml"
    header.write_text(header.read_text(encoding="utf-8").replace(f'version: "{old.version}"', 'version: "2099.1-1"'),
                      encoding="utf-8")
    assert reload(settings, holder) == "2099.1-1" and holder.current.digest not in ("", old.digest)
    marked = {d: a for d in deliveries if isinstance(a := d.prepared, Asked)}
    assert all(a.digest == old.digest for a in marked.values())
    routings = await _decided(deliveries, holder.current, ctx)  # decided again, under the new tables
    assert all(r.item is None or r.item is holder.current.responsibility_list.by_code[r.item.code] for r in routings)
    assert routings == _expected(deliveries, holder.current)
    assert {r.list_version for r in routings} == {"2099.1-1"}

    _prepare(ctx, _deliveries(16))  # the worker holds other tables: not asked, and started again for these
    await _until(lambda: worker.digest == holder.current.digest)
    assert worker.pid != first_pid and worker.restarts == 1
    again = _deliveries(32, seed=12)
    _prepare(ctx, again)
    assert all(isinstance(d.prepared, Asked) for d in again)
    assert await _decided(again, holder.current, ctx) == _expected(again, holder.current)


async def test_a_killed_worker_loses_nothing_and_is_started_again(
    holder: TablesHolder, worker: DecisionWorker
) -> None:
    ctx = _context(holder, worker)
    await _until(lambda: worker.digest is not None)
    first_pid = worker.pid
    assert first_pid is not None
    deliveries = _deliveries(240, seed=13)
    _prepare(ctx, deliveries)
    os.kill(first_pid, signal.SIGKILL)  # in the middle of its requests
    routings = await _decided(deliveries, holder.current, ctx)
    assert routings == _expected(deliveries, holder.current)  # what it lost was decided here, nothing twice
    await _until(lambda: worker.digest is not None and worker.pid != first_pid)
    assert worker.restarts == 1


async def test_a_stuck_worker_is_not_waited_for_beyond_the_timeout(holder: TablesHolder,
                                                                   worker: DecisionWorker) -> None:
    ctx = _context(holder, worker, timeout=0.5)
    await _until(lambda: worker.digest is not None)
    stuck = worker.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)
    deliveries = _deliveries(32, seed=14)
    _prepare(ctx, deliveries)
    assert await _decided(deliveries, holder.current, ctx) == _expected(deliveries, holder.current)
    await _until(lambda: worker.digest is not None and worker.pid != stuck)  # killed and started again


ORPHAN = textwrap.dedent("""
    import asyncio, json, sys
    from services.router.decider.client import DecisionWorker
    from services.router.settings import RouterSettings

    async def main():
        worker = DecisionWorker(RouterSettings(**json.loads(sys.argv[1])))
        await worker.start()
        print(worker.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited (its new parent may not reap it)


def test_the_worker_dies_with_a_router_killed_by_sigkill(settings: RouterSettings) -> None:
    router = subprocess.Popen([sys.executable, "-c", ORPHAN, settings.model_dump_json(
        include={"city_dir", "responsibility_list_dir"})], stdout=subprocess.PIPE, text=True)
    try:
        assert router.stdout is not None
        pid = int(router.stdout.readline())
        assert not _gone(pid)
        router.kill()
        router.wait()
        for _ in range(600):  # bounded wait, not a timed assertion
            if _gone(pid):
                break
            time.sleep(0.1)
        assert _gone(pid)
    finally:
        router.kill()
