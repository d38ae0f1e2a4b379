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
    """`size` keep-alive connections to `host:port`, opened when first needed, reopened after an error."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self._free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(size):
            self._free.put_nowait(None)  # a slot whose connection is not open yet

    async def post(self, path: str, body: object, headers: dict[str, str]) -> Answer:
        """POST `body` as JSON; raises OSError or asyncio.IncompleteReadError if the connection fails."""
        payload = orjson.dumps(body)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(payload)}\r\n{head}\r\n").encode() + payload
        conn = await self._free.get()
        try:
            if conn is None:
                conn = await asyncio.open_connection(self.host, self.port)
            reader, writer = conn
            writer.write(request)
            answer, keep = await _read_answer(reader)
        except BaseException:
            if conn is not None:
                conn[1].close()
            self._free.put_nowait(None)
            raise
        if keep:
            self._free.put_nowait(conn)
        else:
            writer.close()
            self._free.put_nowait(None)
        return answer

    async def close(self) -> None:
        while not self._free.empty():
            conn = self._free.get_nowait()
            if conn is not None:
                conn[1].close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, keep = 0, True
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
    return Answer(status, await reader.readexactly(length) if length else b""), keep
