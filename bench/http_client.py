"""A small HTTP/1.1 client for the end-to-end load generator: a fixed set of keep-alive connections to
one server, each carrying one request at a time; a request waits for a free connection on a queue.

Why not httpx here: at a few hundred requests a second its pool bookkeeping and per-request objects cost
the generator more CPU than intake spends on the request (the generator shares 2 cores with intake,
router, sla, Kafka and PostgreSQL), and with a cap on open requests the offer waited on the client: the
previous run "offered" 500/s and sent 15–32/s. Here the connections are the only cap, a request costs
a write and a parse, and the caller sees how long it waited for a connection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> object:
        return orjson.loads(self.body)


class Connections:
    """`size` keep-alive connections to `host:port`, opened when first needed, reopened after an error.

    A kept-alive connection the server closed while it was idle (uvicorn's keep-alive timeout, 5 s by
    default) answers nothing: the request is sent once more on a fresh connection, as HTTP clients do
    with a pooled connection (RFC 9112 9.3.1). Every request the generator posts is safe to repeat:
    a ticket carries its number and an action its id, which intake deduplicates."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self._free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(size):
            self._free.put_nowait(None)  # a slot whose connection is not open yet

    async def post(self, path: str, body: object, headers: dict[str, str]) -> Answer:
        """POST `body` as JSON; raises OSError or asyncio.IncompleteReadError if the connection fails,
        ValueError if the answer is not HTTP."""
        payload = orjson.dumps(body)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(payload)}\r\n{head}\r\n").encode() + payload
        conn = await self._free.get()
        try:
            if conn is not None:
                try:
                    answer, keep = await _exchange(conn, request)
                except ConnectionError:  # closed while idle (or reset on the write)
                    conn[1].close()
                    conn = None
            if conn is None:
                conn = await asyncio.open_connection(self.host, self.port)
                answer, keep = await _exchange(conn, request)
        except BaseException:
            if conn is not None:
                conn[1].close()
            self._free.put_nowait(None)
            raise
        if keep:
            self._free.put_nowait(conn)
        else:
            conn[1].close()
            self._free.put_nowait(None)
        return answer

    async def close(self) -> None:
        while not self._free.empty():
            conn = self._free.get_nowait()
            if conn is not None:
                conn[1].close()


class _ClosedWhileIdle(ConnectionResetError):
    """The server closed the connection before sending a byte of the answer."""


async def _exchange(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                    request: bytes) -> tuple[Answer, bool]:
    reader, writer = conn
    writer.write(request)
    return await _read_answer(reader)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise _ClosedWhileIdle("the server closed the connection without an answer")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2:
        raise ValueError(f"not an HTTP status line: {status_line[:80]!r}")
    status = int(parts[1])
    length, keep = 0, True
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
    return Answer(status, await reader.readexactly(length) if length else b""), keep
