"""`make run`: the whole of Gridline on this machine, with a live demo stream, until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import yaml

from deploy.local import stack as local_stack
from deploy.local.demo import Departments, Summary, feed, watch
from deploy.local.processes import ROOT, ServiceSet, available, console_urls
from simcity.export import write_city
from simcity.generate import generate_city

CODES = Path(__file__).resolve().parent / "demo_item_codes.yaml"


def _say(text: str) -> None:
    print(f"gridline ▸ {text}", file=sys.stderr, flush=True)


async def _demo(bootstrap: str, intake: str, rate: float) -> None:
    summary, stats = Summary(), Counter[str]()
    codes = yaml.safe_load(CODES.read_text()) if CODES.exists() else {}
    departments = Departments(intake, random.Random(7))
    tasks = [asyncio.create_task(watch(bootstrap, summary, departments)),
             asyncio.create_task(feed(intake, rate, stats, codes))]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 3)
        print(summary.render(stats), flush=True)
        for t in tasks:
            if t.done() and t.exception():
                raise t.exception()  # type: ignore[misc]
    for t in tasks:
        t.cancel()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops everything the way Ctrl-C does


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    _say("starting Kafka (KRaft) and PostgreSQL …")
    stack = local_stack.up(local_stack.stack_for("run"))
    _say(f"kafka {stack.bootstrap}  postgres {stack.database_url}")
    city_dir = ROOT / ".local" / "city"
    write_city(generate_city(), city_dir)
    names = available(offset=int(os.environ.get("GRIDLINE_PORT_OFFSET", "0")))
    env = {**stack.env(), "ROUTER_CITY_DIR": str(city_dir), "CONSOLE_CITY_DIR": str(city_dir),
           "INTAKE_OPEN311_CITY_DIR": str(city_dir), **console_urls(names)}
    services = ServiceSet(env=env, logs=ROOT / ".local" / "run" / "logs")
    try:
        services.start(names)
        _say(f"starting services {', '.join(f'{n}:{p}' for n, p in names.items())} (logs in .local/run/logs)")
        services.wait_ready(names)
        _say("all services ready — feeding the demo stream (Ctrl-C stops everything)")
        if "console" in names:
            _say(f"console: http://127.0.0.1:{names['console']}/console/  (demo sign-in centre / centre-demo)")
        asyncio.run(_demo(stack.bootstrap, f"http://127.0.0.1:{names['intake']}", rate=4.0))
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while stopping used to interrupt the teardown half-way (after the services,
        # before PostgreSQL): teardown ignores it and always reaches PostgreSQL.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _say("stopping services, Kafka and PostgreSQL …")
        try:
            services.stop()
        finally:
            local_stack.down(stack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
