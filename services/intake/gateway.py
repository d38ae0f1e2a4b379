"""The intake use case: make an incoming item durable on Kafka exactly once per natural id.

Group commit: submissions that arrive while a group is being made durable wait for the next group, and
a group shares one PostgreSQL transaction — one statement inserting its ledger rows (already marked
published: they commit only after the broker acknowledged every record of the group, so no other
transaction ever sees them otherwise) and the vault rows of the new ones, one produce batch awaited
with acks=all (a record batch per partition, runtime/produce.py), the commit — so concurrent requests
cost the round trips of one, and several groups are in flight at once. A
concurrent duplicate blocks on the row's unique key and then sees it published; a retry after a crash
between ack and commit re-publishes the same `ce_id`, which consumers de-duplicate. If the broker does
not acknowledge in time the transaction rolls back and every caller of the group gets 503 — never a
2xx for something that is not durable. Two copies of one natural id in the same group: the first goes
in, the second waits for it and then meets its ledger row like any retry.

A record the broker did not acknowledge in time may still land later (it is in the producer's
in-flight request). Such a late delivery is tracked: when it lands, its ledger and vault rows are
written as if it had been acknowledged in time, and a retry meanwhile waits for it instead of
publishing a second copy. (A retry served by another intake process can still publish a second record
with the same `ce_id`; consumers de-duplicate on it.)
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from runtime.groupcommit import AGAIN as _AGAIN
from runtime.groupcommit import Again as _Again
from runtime.groupcommit import GroupCommit
from runtime.metrics import GROUP_ITEMS, RECORDS_OUT
from runtime.produce import publish_batched
from runtime.telemetry import inject_headers
from schemas.cloudevents import Outgoing, encode_value
from services.intake.domain.contact_cipher import ContactCipher, UnreadableContact
from services.intake.domain.ids import same_request

# (incident id, contact ref) → the event's payload: a model, or its JSON already written (12345 tickets)
Builder = Callable[[str, str | None], BaseModel | bytes]
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
    request: BaseModel | None = None  # the validated request: ledger rows hashed the old way are compared by it

    def same_body(self, stored_hash: str) -> bool:
        return same_request(stored_hash, self.body_hash, self.request)


@dataclass(frozen=True)
class _LateDelivery:
    """A publish that outlived its request: the broker may still append it."""

    sub: Submission
    contact_ref: str | None
    delivery: asyncio.Future[None]


@dataclass(frozen=True)
class _Pending:
    """A submission waiting for its group, with the trace context of the request that made it."""

    sub: Submission
    trace: list[tuple[str, bytes]]
    key: tuple[str, str] = field(init=False)  # (channel, natural id): the ledger's primary key

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.sub.channel, self.sub.natural_id))


async def _claim(conn: asyncpg.Connection, group: list[_Pending], refs: list[str | None],
                 sealed: list[bytes | None]) -> set[tuple[str, str]]:
    """Insert the group's ledger rows (in key order: groups never deadlock), marked published — the
    transaction commits only once the broker acknowledged them — and, for the rows that are new, their
    sealed contacts in the vault; one statement. Returns the keys that were new."""
    subs = [p.sub for p in group]
    vault = [(ref, s.incident_id, c) for ref, s, c in zip(refs, subs, sealed, strict=True) if ref is not None]
    inserted = await conn.fetch(
        "WITH new AS (INSERT INTO submissions (channel, natural_id, incident_id, body_hash, topic, published_at) "
        "SELECT c, n, i, h, t, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) "
        "AS u(c, n, i, h, t) ON CONFLICT DO NOTHING RETURNING channel, natural_id, incident_id), "  # any unique key
        "sealed AS (INSERT INTO contact_vault (contact_ref, incident_id, ciphertext) "
        "SELECT v.r, v.i, v.x FROM unnest($6::text[], $7::text[], $8::bytea[]) AS v(r, i, x) "
        "JOIN new ON new.incident_id = v.i) "
        "SELECT channel, natural_id FROM new",
        [s.channel for s in subs], [s.natural_id for s in subs], [s.incident_id for s in subs],
        [s.body_hash for s in subs], [s.topic for s in subs],
        [v[0] for v in vault], [v[1] for v in vault], [v[2] for v in vault],
    )
    return {(r["channel"], r["natural_id"]) for r in inserted}


async def _locked(conn: asyncpg.Connection, there: list[_Pending]) -> dict[tuple[str, str], asyncpg.Record]:
    """The ledger rows that were there already, locked (a concurrent duplicate waits for this group)."""
    rows = await conn.fetch(
        "SELECT s.channel, s.natural_id, s.incident_id, s.body_hash, s.published_at FROM submissions s "
        "JOIN unnest($1::text[], $2::text[]) AS k(c, n) ON s.channel = k.c AND s.natural_id = k.n "
        "ORDER BY s.channel, s.natural_id FOR UPDATE OF s",
        [p.sub.channel for p in there], [p.sub.natural_id for p in there],
    )
    return {(r["channel"], r["natural_id"]): r for r in rows}


def _outgoing(sub: Submission, contact_ref: str | None, trace: list[tuple[str, bytes]],
              produced: datetime | None = None) -> Outgoing:
    """The submission's record; `produced` is its `ce_time` (a group's records share one)."""
    built = sub.build(sub.incident_id, contact_ref)
    value = built if isinstance(built, bytes) else built.model_dump_json(exclude_none=False).encode()
    return encode_value(sub.topic, sub.key, value, type=sub.event_type, source=f"/gridline/intake/{sub.channel}",
                        subject=sub.incident_id, event_id=sub.incident_id, time=produced, trace_headers=trace)


class Gateway:
    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, contact_key: str, timeout: float,
                 groups_in_flight: int = 4, group_max_items: int = 250) -> None:
        self.pool = pool
        self.producer = producer
        self.vault = ContactCipher(contact_key)
        self.timeout = timeout
        self._late: dict[tuple[str, str], _LateDelivery] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._groups: GroupCommit[_Pending, Published | Conflict] = GroupCommit(
            self._commit_group, max_group=group_max_items, in_flight=groups_in_flight,
            on_group=GROUP_ITEMS.labels("intake").observe)

    async def submit(self, sub: Submission) -> Published | Conflict:
        """Durable (or a conflict) when it returns; raises BrokerUnavailable or a database outage."""
        if (sub.channel, sub.natural_id) in self._late:
            return await self._submit_alone(sub)  # an earlier attempt is still in flight: settle it first
        return await self._groups.submit(_Pending(sub, inject_headers()))

    async def submit_many(self, subs: list[Submission]) -> list[Published | Conflict | BaseException]:
        """A batch call's submissions, queued at once; each one's outcome or its group's exception."""
        trace = inject_headers()
        late = self._late
        alone = {i for i, sub in enumerate(subs) if (sub.channel, sub.natural_id) in late} if late else set()
        grouped = iter(await self._groups.submit_many([_Pending(s, trace) for i, s in enumerate(subs)
                                                         if i not in alone]))
        results: list[Published | Conflict | BaseException] = []
        for i, sub in enumerate(subs):
            if i not in alone:
                results.append(next(grouped))
                continue
            try:  # an earlier attempt is still in flight: settle it first (rare)
                results.append(await self._submit_alone(sub))
            except Exception as exc:
                results.append(exc)
        return results

    async def _commit_group(self, group: list[_Pending]) -> list[Published | Conflict | _Again]:
        """One transaction for the group: ledger and vault rows in, records produced and acknowledged."""
        firsts: dict[tuple[str, str], _Pending] = {}
        for p in group:
            firsts.setdefault(p.key, p)
        ordered = sorted(firsts.values(), key=lambda p: p.key)
        refs = [f"ct_{secrets.token_urlsafe(12)}" if p.sub.contact else None for p in ordered]
        sealed = [self.vault.seal(ref, p.sub.contact) if ref is not None and p.sub.contact else None
                  for p, ref in zip(ordered, refs, strict=True)]
        outcome: dict[tuple[str, str], Published | Conflict] = {}
        async with self.pool.acquire() as conn, conn.transaction():
            new = await _claim(conn, ordered, refs, sealed)
            to_publish = [(p, ref) for p, ref in zip(ordered, refs, strict=True) if p.key in new]
            unpublished = await self._meet_existing(
                conn, [(p, ref, c) for p, ref, c in zip(ordered, refs, sealed, strict=True) if p.key not in new],
                outcome)
            to_publish += unpublished
            if to_publish:
                now = datetime.now(UTC)
                records = [_outgoing(p.sub, ref, p.trace, now) for p, ref in to_publish]
                await self._publish(records, [(p.sub, ref) for p, ref in to_publish])
                if unpublished:
                    await conn.execute(
                        "UPDATE submissions SET published_at = now() FROM unnest($1::text[], $2::text[]) AS k(c, n) "
                        "WHERE channel = k.c AND natural_id = k.n",
                        [p.sub.channel for p, _ in unpublished], [p.sub.natural_id for p, _ in unpublished],
                    )
                for p, _ in to_publish:
                    outcome[p.key] = Published(p.sub.incident_id, duplicate=False, topic=p.sub.topic)
        return [outcome[p.key] if firsts.get(p.key) is p else _AGAIN for p in group]

    async def _meet_existing(self, conn: asyncpg.Connection, there: list[tuple[_Pending, str | None, bytes | None]],
                             outcome: dict[tuple[str, str], Published | Conflict]) -> list[tuple[_Pending, str | None]]:
        """Retries and conflicts: each existing row answers its submission; a row left unpublished with the
        same body is published again in this group (returned, its vault row written now)."""
        if not there:
            return []
        ledger = await _locked(conn, [p for p, _, _ in there])
        again: list[tuple[_Pending, str | None, bytes | None]] = []
        for p, ref, sealed in there:
            row = ledger.get(p.key)
            if row is None or not p.sub.same_body(row["body_hash"]):  # None: its incident id is taken
                outcome[p.key] = Conflict(row["incident_id"] if row is not None else p.sub.incident_id)
            elif row["published_at"] is None:
                again.append((p, ref, sealed))
            else:
                outcome[p.key] = Published(row["incident_id"], duplicate=True, topic=p.sub.topic)
        vault = [(ref, p.sub.incident_id, sealed) for p, ref, sealed in again if ref is not None]
        if vault:
            await conn.executemany(
                "INSERT INTO contact_vault (contact_ref, incident_id, ciphertext) VALUES ($1, $2, $3)", vault)
        return [(p, ref) for p, ref, _ in again]

    async def _publish(self, records: list[Outgoing], subs: list[tuple[Submission, str | None]]) -> None:
        """Produce and await every acknowledgement within the timeout (else BrokerUnavailable)."""
        delivery = asyncio.ensure_future(publish_batched(self.producer, records))
        try:
            await asyncio.wait_for(asyncio.shield(delivery), self.timeout)
        except TimeoutError as exc:
            for sub, ref in subs:
                self._track(_LateDelivery(sub, ref, delivery))
            raise BrokerUnavailable(f"no acknowledgement within {self.timeout:g} s") from exc
        except Exception as exc:  # any failure to get an ack means "not durable"
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc
        for (topic, event_type), n in Counter((sub.topic, sub.event_type) for sub, _ in subs).items():
            RECORDS_OUT.labels("intake", topic, event_type).inc(n)

    async def _keep_contacts(self, conn: asyncpg.Connection, subs: list[Submission]) -> list[str | None]:
        refs = [f"ct_{secrets.token_urlsafe(12)}" if sub.contact else None for sub in subs]
        rows = [(ref, sub.incident_id, self.vault.seal(ref, sub.contact))
                for ref, sub in zip(refs, subs, strict=True) if ref is not None and sub.contact]
        if rows:
            await conn.executemany(
                "INSERT INTO contact_vault (contact_ref, incident_id, ciphertext) VALUES ($1, $2, $3)", rows)
        return refs

    async def _submit_alone(self, sub: Submission) -> Published | Conflict:
        """The one-item path, for a natural id whose earlier attempt may still land."""
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
                if not sub.same_body(row["body_hash"]):
                    return Conflict(row["incident_id"])
                if row["published_at"] is not None:
                    return Published(row["incident_id"], duplicate=True, topic=sub.topic)
            earlier = self._late.get((sub.channel, sub.natural_id))
            if earlier is not None and await self._landed(earlier):
                await self._record(conn, earlier)
                if not sub.same_body(earlier.sub.body_hash):
                    return Conflict(earlier.sub.incident_id)
                return Published(earlier.sub.incident_id, duplicate=False, topic=sub.topic)
            [contact_ref] = await self._keep_contacts(conn, [sub])
            record = _outgoing(sub, contact_ref, inject_headers())
            await self._publish([record], [(sub, contact_ref)])
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
                late.contact_ref, sub.incident_id, self.vault.seal(late.contact_ref, sub.contact),
            )

    async def reveal_contact(
        self, ref: str, accessor: str, purpose: Literal["callback"] = "callback"
    ) -> str | UnreadableContact | None:
        """The only way to read a full contact: for a callback (回访). Every attempt is logged with its
        outcome in the transaction that read the row, so the log says what was handed out: the contact, an
        `UnreadableContact` (the row does not open: another key, another ref's ciphertext, altered), or
        None (no such ref). A row written as a Fernet token before 2026-12-04 is sealed again, bound to its
        ref, by its first reveal (ADR 010); a concurrent reveal that lost the race leaves the winner's row."""
        async with self.pool.acquire() as conn, conn.transaction():
            sealed = await conn.fetchval(
                "SELECT ciphertext FROM contact_vault WHERE contact_ref = $1 AND purpose = $2", ref, purpose
            )
            contact = None if sealed is None else self.vault.reveal(ref, sealed)
            if isinstance(contact, str) and not self.vault.bound(sealed):  # a Fernet row: bound from now on
                await conn.execute(
                    "UPDATE contact_vault SET ciphertext = $2 WHERE contact_ref = $1 AND ciphertext = $3",
                    ref, self.vault.seal(ref, contact), sealed,
                )
            outcome = ("absent" if contact is None else
                       "unreadable" if isinstance(contact, UnreadableContact) else "revealed")
            await conn.execute(
                "INSERT INTO contact_access_log (contact_ref, purpose, accessor, outcome) VALUES ($1, $2, $3, $4)",
                ref, purpose, accessor, outcome,
            )
        if isinstance(contact, UnreadableContact):
            log.warning("intake.contact_unreadable", contact_ref=ref, accessor=accessor, reason=contact.reason)
        return contact
