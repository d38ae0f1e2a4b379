"""The intake use case: make an incoming item durable on Kafka exactly once per natural id.

One PostgreSQL transaction per item holds the idempotency row while the event is produced with
acks=all; the row commits only after the broker acknowledged. A concurrent duplicate blocks on the
row's unique key and then sees it published; a retry after a crash between ack and commit re-publishes
the same `ce_id`, which consumers de-duplicate. If the broker does not acknowledge in time the
transaction rolls back and the caller gets 503 — never a 2xx for something that is not durable.

A record the broker did not acknowledge in time may still land later (it is in the producer's
in-flight request). Such a late delivery is tracked: when it lands, its ledger and vault rows are
written as if it had been acknowledged in time, and a retry meanwhile waits for it instead of
publishing a second copy. (A retry served by another intake process can still publish a second record
with the same `ce_id`; consumers de-duplicate on it.)
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet
from pydantic import BaseModel

from runtime.kafka import publish
from runtime.telemetry import inject_headers
from schemas.cloudevents import encode

Builder = Callable[[str, str | None], BaseModel]  # (incident id, contact ref) → event payload
log = structlog.get_logger("intake.gateway")


@dataclass(frozen=True)
class Published:
    incident_id: str
    duplicate: bool
    topic: str


@dataclass(frozen=True)
class Conflict:
    incident_id: str
    reason: str = "this id was already used for a different request body"


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge in time; nothing was committed."""


@dataclass(frozen=True)
class Submission:
    channel: str
    natural_id: str
    incident_id: str
    body_hash: str
    topic: str
    event_type: str
    key: str
    build: Builder
    contact: str | None = None


@dataclass(frozen=True)
class _LateDelivery:
    """A publish that outlived its request: the broker may still append it."""

    sub: Submission
    contact_ref: str | None
    delivery: asyncio.Future[None]


class Gateway:
    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, contact_key: str, timeout: float) -> None:
        self.pool = pool
        self.producer = producer
        self.vault = Fernet(contact_key.encode())
        self.timeout = timeout
        self._late: dict[tuple[str, str], _LateDelivery] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def submit(self, sub: Submission) -> Published | Conflict:
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                "INSERT INTO submissions (channel, natural_id, incident_id, body_hash, topic) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING incident_id",  # any of its unique keys
                sub.channel, sub.natural_id, sub.incident_id, sub.body_hash, sub.topic,
            )
            if inserted is None:
                row = await conn.fetchrow(
                    "SELECT incident_id, body_hash, published_at FROM submissions "
                    "WHERE channel = $1 AND natural_id = $2 FOR UPDATE",
                    sub.channel, sub.natural_id,
                )
                assert row is not None
                if row["body_hash"] != sub.body_hash:
                    return Conflict(row["incident_id"])
                if row["published_at"] is not None:
                    return Published(row["incident_id"], duplicate=True, topic=sub.topic)
            earlier = self._late.get((sub.channel, sub.natural_id))
            if earlier is not None and await self._landed(earlier):
                await self._record(conn, earlier)
                if earlier.sub.body_hash != sub.body_hash:
                    return Conflict(earlier.sub.incident_id)
                return Published(earlier.sub.incident_id, duplicate=False, topic=sub.topic)
            contact_ref = await self._keep_contact(conn, sub) if sub.contact else None
            record = encode(
                sub.topic, sub.key, sub.build(sub.incident_id, contact_ref),
                type=sub.event_type, source=f"/gridline/intake/{sub.channel}", subject=sub.incident_id,
                event_id=sub.incident_id, trace_headers=inject_headers(),
            )
            delivery = asyncio.ensure_future(publish(self.producer, [record]))
            try:
                await asyncio.wait_for(asyncio.shield(delivery), self.timeout)
            except TimeoutError as exc:
                self._track(_LateDelivery(sub, contact_ref, delivery))
                raise BrokerUnavailable(f"no acknowledgement within {self.timeout:g} s") from exc
            except Exception as exc:  # any failure to get an ack means "not durable"
                raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc
            await conn.execute(
                "UPDATE submissions SET published_at = now() WHERE channel = $1 AND natural_id = $2",
                sub.channel, sub.natural_id,
            )
        return Published(sub.incident_id, duplicate=False, topic=sub.topic)

    async def _landed(self, late: _LateDelivery) -> bool:
        """Wait (within the timeout) for an earlier attempt: True landed, False failed, 503 still unknown."""
        try:
            await asyncio.wait_for(asyncio.shield(late.delivery), self.timeout)
        except TimeoutError as exc:
            raise BrokerUnavailable("an earlier attempt with this id is still unacknowledged") from exc
        except Exception:
            self._late.pop((late.sub.channel, late.sub.natural_id), None)
            return False
        return True

    def _track(self, late: _LateDelivery) -> None:
        self._late[(late.sub.channel, late.sub.natural_id)] = late
        late.delivery.add_done_callback(lambda _: self._spawn(self._settle(late)))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _settle(self, late: _LateDelivery) -> None:
        """A late delivery finished: if it landed, the ledger says so, as if it had been in time."""
        try:
            if not late.delivery.cancelled() and late.delivery.exception() is None:
                async with self.pool.acquire() as conn, conn.transaction():
                    await self._record(conn, late)
                log.info("intake.late_delivery_recorded", channel=late.sub.channel, incident_id=late.sub.incident_id)
        finally:
            self._late.pop((late.sub.channel, late.sub.natural_id), None)

    async def _record(self, conn: asyncpg.Connection, late: _LateDelivery) -> None:
        sub = late.sub
        await conn.execute(
            "INSERT INTO submissions (channel, natural_id, incident_id, body_hash, topic, published_at) "
            "VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (channel, natural_id) DO UPDATE "
            "SET body_hash = EXCLUDED.body_hash, published_at = now() WHERE submissions.published_at IS NULL",
            sub.channel, sub.natural_id, sub.incident_id, sub.body_hash, sub.topic,
        )
        if late.contact_ref is not None and sub.contact:
            await conn.execute(
                "INSERT INTO contact_vault (contact_ref, incident_id, ciphertext) VALUES ($1, $2, $3) "
                "ON CONFLICT (contact_ref) DO NOTHING",
                late.contact_ref, sub.incident_id, self.vault.encrypt(sub.contact.encode()),
            )

    async def _keep_contact(self, conn: asyncpg.Connection, sub: Submission) -> str:
        ref = f"ct_{secrets.token_urlsafe(12)}"
        assert sub.contact is not None
        await conn.execute(
            "INSERT INTO contact_vault (contact_ref, incident_id, ciphertext) VALUES ($1, $2, $3)",
            ref, sub.incident_id, self.vault.encrypt(sub.contact.encode()),
        )
        return ref

    async def reveal_contact(self, ref: str, accessor: str, purpose: Literal["callback"] = "callback") -> str | None:
        """The only way to read a full contact: for a callback (回访), and every read is logged."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT ciphertext FROM contact_vault WHERE contact_ref = $1 AND purpose = $2", ref, purpose
            )
            if row is None:
                return None
            await conn.execute(
                "INSERT INTO contact_access_log (contact_ref, purpose, accessor) VALUES ($1, $2, $3)",
                ref, purpose, accessor,
            )
        return self.vault.decrypt(row["ciphertext"]).decode()
