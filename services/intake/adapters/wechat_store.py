"""PostgreSQL rows of WeChat pushes waiting to be paired (table `wechat_pending`), plain SQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.intake.domain.wechat import Pending, WechatMessage


@dataclass(frozen=True)
class Stored:
    message: WechatMessage
    state: str
    incident_id: str | None
    received_at: datetime
    reply: str


def _stored(row: asyncpg.Record) -> Stored:
    payload: dict[str, Any] = json.loads(row["payload"])
    return Stored(WechatMessage.from_payload(payload), row["state"], row["incident_id"], row["received_at"],
                  row["reply"])


def _pending(row: asyncpg.Record) -> Pending:
    return Pending(row["msg_id"], row["kind"], row["received_at"], row["incident_id"], row["account"],
                   row["openid"])


_COLUMNS = "account, openid, msg_id, kind, payload, received_at, incident_id, state, reply"


class WechatTx:
    """Statements inside one transaction (the unit of work the inbox and the flusher commit)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock_citizen(self, account: str, openid: str) -> None:
        """Serialises one citizen's pushes (and WeChat's retries of them) so pairing sees every row."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                f"wx:{account}:{openid}")

    async def find(self, account: str, openid: str, msg_id: str) -> Stored | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM wechat_pending WHERE account = $1 AND openid = $2 AND msg_id = $3",
            account, openid, msg_id,
        )
        return _stored(row) if row else None

    async def waiting(self, account: str, openid: str, since: datetime) -> list[Pending]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM wechat_pending WHERE account = $1 AND openid = $2 AND state = 'waiting' "
            "AND received_at >= $3 ORDER BY received_at FOR UPDATE",
            account, openid, since,
        )
        return [_pending(r) for r in rows]

    async def add(
        self, account: str, msg: WechatMessage, received_at: datetime, state: str, incident_id: str | None,
        reply: str,
    ) -> None:
        await self.conn.execute(
            f"INSERT INTO wechat_pending ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)",
            account, msg.openid, msg.msg_id, msg.kind, json.dumps(msg.payload(), ensure_ascii=False),
            received_at, incident_id, state, reply,
        )

    async def update(
        self, account: str, openid: str, msg_id: str, state: str, incident_id: str | None
    ) -> None:
        await self.conn.execute(
            "UPDATE wechat_pending SET state = $4, incident_id = COALESCE($5, incident_id) "
            "WHERE account = $1 AND openid = $2 AND msg_id = $3",
            account, openid, msg_id, state, incident_id,
        )

    async def due(self, cutoff: datetime, limit: int) -> list[Pending]:
        """Waiting rows older than the cutoff; rows another flusher or a request holds are skipped."""
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM wechat_pending WHERE state = 'waiting' AND received_at < $1 "
            "ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            cutoff, limit,
        )
        return [_pending(r) for r in rows]


class WechatStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WechatTx]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield WechatTx(conn)

    async def incident(
        self, account: str, openid: str, lead_msg_id: str
    ) -> tuple[Stored, list[WechatMessage]]:
        """A lead and what is attached to it, in the order the citizen sent them."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM wechat_pending WHERE account = $1 AND openid = $2 AND (msg_id = $3 "
                "OR incident_id = (SELECT incident_id FROM wechat_pending WHERE account = $1 AND openid = $2 "
                "AND msg_id = $3)) ORDER BY msg_id = $3 DESC, received_at, msg_id",
                account, openid, lead_msg_id,
            )
        lead, *rest = [_stored(r) for r in rows]
        return lead, [s.message for s in rest if s.state == "attached"]

    async def ready(self, limit: int) -> list[Pending]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM wechat_pending WHERE state = 'ready' ORDER BY received_at LIMIT $1",
                limit,
            )
        return [_pending(r) for r in rows]

    async def mark_published(self, account: str, openid: str, msg_id: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE wechat_pending SET state = 'published', published_at = now() "
                "WHERE account = $1 AND openid = $2 AND msg_id = $3 AND state = 'ready'",
                account, openid, msg_id,
            )
