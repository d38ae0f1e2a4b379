"""The decision worker's process: `python -m services.router.decider '<settings JSON>' <router pid>`.

It loads the routing tables from the same files as the router, says which (their digest), then answers
requests until its stdin closes: when the router stops it, or dies (kill -9 included: the kernel closes
the pipe, and on Linux the worker is also sent SIGKILL the moment its parent goes, PR_SET_PDEATHSIG)."""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
from typing import IO, Any

from runtime.logging import configure_logging, get_logger
from schemas.incident import IncidentReported
from services.router.decider.wire import HEADER, HELLO, Packed, frame, pack, unframe
from services.router.domain.decide import RoutingTables, route_many
from services.router.settings import RouterSettings
from services.router.tables import load_city, load_tables

log = get_logger(__name__)
PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    answers = os.fdopen(os.dup(1), "wb")  # the protocol's own copy of stdout …
    os.dup2(2, 1)  # … and anything printed goes to stderr
    settings_json, parent = argv
    _die_with(int(parent))
    settings = RouterSettings(**json.loads(settings_json))
    configure_logging("router-decisions", settings.log_level)
    gazetteer, city = load_city(settings.city_dir)
    tables = load_tables(settings, gazetteer, city)
    gc.collect()
    gc.freeze()  # as the router does: the tables are never collected (runtime.plumbing)
    _send(answers, (HELLO, tables.digest))
    requests = sys.stdin.buffer
    while (message := _receive(requests)) is not None:
        request_id, values = message
        _send(answers, (request_id, decide(values, tables)))
    return 0


def decide(values: list[bytes], tables: RoutingTables) -> list[Packed] | None:
    """`route_many` over a request's incidents; None when anything fails (the router decides those itself
    and names the record that fails)."""
    try:
        return [pack(r) for r in route_many([IncidentReported.model_validate_json(v) for v in values], tables)]
    except Exception as exc:
        log.info("decide_failed", error=type(exc).__name__)
        return None


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        raise SystemExit(0)


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    body = stream.read(size)
    return unframe(body) if len(body) == size else None


def _send(stream: IO[bytes], message: object) -> None:
    stream.write(frame(message))
    stream.flush()
