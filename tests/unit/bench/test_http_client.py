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


async def test_a_kept_alive_connection_the_server_closed_while_idle_is_opened_again() -> None:
    """uvicorn closes a connection idle for its keep-alive timeout without a word; the next request on
    it reads an empty line. That request is sent again on a fresh connection, once."""
    served = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        await reader.readexactly(length)
        served += 1
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")  # keep-alive, then close
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Connections("127.0.0.1", port, size=1)
    try:
        assert (await client.post("/x", {}, {})).status == 202
        await asyncio.sleep(0.05)  # the server has closed the idle connection
        assert (await client.post("/x", {}, {})).status == 202
        assert served == 2
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_a_fresh_connection_closed_before_an_answer_is_a_connection_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Connections("127.0.0.1", port, size=1)
    try:
        try:
            await client.post("/x", {}, {})
        except ConnectionResetError:
            pass
        else:
            raise AssertionError("an answer was read from a closed connection")
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
