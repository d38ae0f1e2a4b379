"""The cases-per-state gauge (`gridline_cases{state}`), refreshed from the router's own table."""

from __future__ import annotations

import asyncio

import asyncpg

from runtime.metrics import CASES


async def count_cases(pool: asyncpg.Pool, stop: asyncio.Event, interval: float = 15.0) -> None:
    while not stop.is_set():
        for row in await pool.fetch("SELECT state, count(*) AS n FROM cases GROUP BY state"):
            CASES.labels(row["state"]).set(row["n"])
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
