"""What the router and its decision worker say to each other over the worker's stdin and stdout:
length-prefixed pickles (the worker is the router's own child, started from the same code).

router → worker: `(request_id, [incident JSON, …])`; worker → router: first `(HELLO, digest)` once its
tables are loaded, then `(request_id, [packed routing, …] | None)` per request (None: it could not
decide that request; the router decides it itself). A routing is packed without the responsibility
item it names (the item's code instead): the router takes that item from its own tables, which the
digest says are the same."""

from __future__ import annotations

import pickle
import struct
from typing import Any

from services.router.domain.decide import Routing, RoutingTables

HELLO = -1
HEADER = struct.Struct(">I")
Packed = tuple[Any, ...]


def frame(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def unframe(body: bytes) -> Any:
    return pickle.loads(body)  # only ever our own child's (or parent's) output


def pack(routing: Routing) -> Packed:
    r = routing
    return (r.outcome, r.list_version, r.place, r.item.code if r.item else None, r.assignment, r.deadlines,
            r.candidates, r.explanation, r.model_version, r.urgent, r.answer)


def unpack(packed: Packed, tables: RoutingTables) -> Routing:
    outcome, list_version, place, code, *rest = packed
    item = tables.responsibility_list.by_code[code] if code is not None else None
    return Routing(outcome, list_version, place, item, *rest)
