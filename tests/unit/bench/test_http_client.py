"""The load generator's client: requests share a few keep-alive connections, at most one request per
connection at a time, and a connection the server closes is opened again for the next request."""

from __future__ import annotations

import asyncio

import orjson

from bench.http_client import Connections


async def test_requests_share_keep_alive_connections_and_reopen_closed_ones() -> None:
    opened: list[int] = []
    served = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        opened.append(1)
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            body = await reader.readexactly(length)
            served += 1
            close = orjson.loads(body).get("close", False)
            answer = orjson.dumps({"echo": orjson.loads(body)})
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n%s\r\n" % (
                len(answer), b"Connection: close\r\n" if close else b"") + answer)
            await writer.drain()
            if close:
                writer.close()
                return

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Connections("127.0.0.1", port, size=2)
    try:
        answers = await asyncio.gather(*(client.post("/x", {"n": n}, {"X-Api-Key": "k"}) for n in range(10)))
        assert [a.status for a in answers] == [202] * 10
        assert [a.json() for a in answers] == [{"echo": {"n": n}} for n in range(10)]
        assert len(opened) == 2  # ten requests, two connections
        await client.post("/x", {"close": True}, {})
        await client.post("/x", {"n": 11}, {})
        assert served == 12 and len(opened) <= 3
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
