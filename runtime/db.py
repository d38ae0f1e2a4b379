"""PostgreSQL pool and ordered SQL migrations, one schema per service, safe to re-run concurrently."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import asyncpg

# The database is away (restarting, unreachable, shutting down): retry later, the data is not at fault.
DATABASE_OUTAGE: tuple[type[Exception], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect now
)


async def _session_kept(_: asyncpg.Connection) -> None:
    """No reset query on release (asyncpg still drops its own per-connection state)."""


async def create_pool(url: str, schema: str, *, min_size: int = 1, max_size: int = 10,
                      connect_timeout: float = 5.0, reset_sessions: bool = True) -> asyncpg.Pool:
    """A pool whose connections see the service's own schema first (a startup parameter, so the
    pool's `RESET ALL` on release keeps it). A connection attempt gives up after `connect_timeout`
    (not asyncpg's 60 s), so an outage is reported quickly instead of holding requests.

    `reset_sessions=False` skips asyncpg's reset query on release (`pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`): one more round trip per acquire, for a service whose statements leave
    no session state behind (no SET, LISTEN, session advisory locks or cursors outside a transaction)."""
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, server_settings={"search_path": f'"{schema}", public'},
        timeout=connect_timeout, reset=None if reset_sessions else _session_kept,
    )
    assert pool is not None
    return pool


def _lock_id(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)


SHARED_SQL = Path(__file__).resolve().parent / "sql"


async def migrate(url: str, schema: str, directory: Path, *, messaging: bool = True) -> list[str]:
    """Apply `NNN_*.sql` files in order, each once, in its own transaction. Returns those applied now.

    With `messaging`, the shared inbox/outbox migrations (runtime/sql/messaging*.sql) come first, as
    `000_messaging`, `000_messaging_<name>`, ….
    """
    files = sorted(directory.glob("*.sql"))  # noqa: ASYNC240 — a few small files, once at start-up
    if messaging:
        files[:0] = sorted(SHARED_SQL.glob("messaging*.sql"))
    conn: asyncpg.Connection = await asyncpg.connect(url)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_id(schema))
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations '
            "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')}
        for path in files:
            version = f"000_{path.stem}" if path.parent == SHARED_SQL else path.stem
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                await conn.execute(path.read_text())
                await conn.execute(f'INSERT INTO "{schema}".schema_migrations (version) VALUES ($1)', version)
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _lock_id(schema))
        await conn.close()
    return applied
