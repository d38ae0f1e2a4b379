"""The WeChat use cases: take a push (persist + pair, inside the request) and flush what waited too long.

A push is durable in PostgreSQL before WeChat gets its reply; Kafka sees the incident once it is complete
(text + location) or its window has passed (text only), through the same Gateway as every channel, so
the incident id and the idempotency by natural id `{account}:{MsgId}` are the usual ones.
See docs/adr/003-wechat-pairing.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from runtime.logging import get_logger
from schemas.common import Channel
from schemas.topics import INCIDENT_REPORTED, INTAKE_WECHAT
from services.intake.adapters.wechat_store import WechatStore
from services.intake.domain.ids import body_hash, incident_id
from services.intake.domain.wechat import Attach, Decision, Lead, WechatMessage, decide, sweep
from services.intake.domain.wechat_incident import reply_for, reply_without_incident, to_incident
from services.intake.gateway import BrokerUnavailable, Conflict, Gateway, Published, Submission
from services.intake.settings import IntakeSettings

log = get_logger(__name__)
Clock = Callable[[], datetime]
FLUSH_EVERY_SECONDS = 5.0
BATCH = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Received:
    reply: str
    incident_id: str | None = None
    duplicate: bool = False


class WechatInbox:
    def __init__(
        self, store: WechatStore, gateway: Gateway, window_seconds: int, clock: Clock = utcnow
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    async def receive(self, account: str, msg: WechatMessage) -> Received:
        """Persist and pair one push; the reply is stored with it so WeChat's retries get the same one."""
        if not msg.pairs:
            return Received(reply_without_incident(msg))
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.lock_citizen(account, msg.openid)
            stored = await tx.find(account, msg.openid, msg.msg_id)
            if stored is not None:
                return Received(stored.reply, stored.incident_id, duplicate=True)
            decision = decide(msg, await tx.waiting(account, msg.openid, now - self.window), now, self.window)
            iid, state, complete_lead = _outcome(account, msg, decision)
            reply = reply_for(msg, decision, iid, max(1, int(self.window.total_seconds() // 60)))
            await tx.add(account, msg, now, state, iid, reply)
            if isinstance(decision, Lead) and decision.location_msg_id:
                await tx.update(account, msg.openid, decision.location_msg_id, "attached", iid)
            if isinstance(decision, Attach) and decision.ready:
                await tx.update(account, msg.openid, decision.lead_msg_id, "ready", None)
        if complete_lead is not None:
            await self.try_publish(account, msg.openid, complete_lead)
        return Received(reply, iid)

    async def try_publish(self, account: str, openid: str, lead_msg_id: str) -> bool:
        """Publish now if Kafka answers; otherwise the row stays `ready` and the flusher retries it."""
        try:
            return await self.publish(account, openid, lead_msg_id)
        except BrokerUnavailable as exc:
            log.warning("wechat.publish_deferred", account=account, msg_id=lead_msg_id, error=str(exc))
            return False

    async def publish(self, account: str, openid: str, lead_msg_id: str) -> bool:
        """True when this call published the incident (False: it already was)."""
        lead, attached = await self.store.incident(account, openid, lead_msg_id)
        assert lead.incident_id is not None
        natural_id = f"{account}:{lead.message.msg_id}"
        result = await self.gateway.submit(Submission(
            channel=Channel.WECHAT.value,
            natural_id=natural_id,
            incident_id=lead.incident_id,
            body_hash=body_hash([lead.message.payload(), *(m.payload() for m in attached)]),
            topic=INTAKE_WECHAT,
            event_type=INCIDENT_REPORTED,
            key=natural_id,
            build=lambda iid, ref: to_incident(account, lead.message, attached, iid, lead.received_at, ref),
            contact=openid,
        ))
        if isinstance(result, Conflict):  # the natural id was taken by another body: keep it out of the loop
            log.error("wechat.natural_id_conflict", natural_id=natural_id, incident_id=result.incident_id)
        await self.store.mark_published(account, openid, lead_msg_id)
        return isinstance(result, Published) and not result.duplicate


def _outcome(account: str, msg: WechatMessage, decision: Decision) -> tuple[str | None, str, str | None]:
    """(incident id, this row's state, the lead to publish now when the incident became complete)."""
    if isinstance(decision, Lead):
        iid = incident_id(Channel.WECHAT, f"{account}:{msg.msg_id}")
        if decision.location_msg_id is not None:
            return iid, "ready", msg.msg_id
        return iid, "waiting", None
    if isinstance(decision, Attach):
        return decision.incident_id, "attached", decision.lead_msg_id if decision.ready else None
    return None, "waiting", None


class WechatFlusher:
    """Publishes text-only incidents whose window passed and expires lone locations; survives restarts
    because everything it needs is in `wechat_pending`."""

    def __init__(self, inbox: WechatInbox, clock: Clock = utcnow, every: float = FLUSH_EVERY_SECONDS) -> None:
        self.inbox = inbox
        self.clock = clock
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def flush_due(self, now: datetime) -> int:
        """One pass at `now`; returns how many incidents this pass published."""
        async with self.inbox.store.transaction() as tx:
            plan = sweep(await tx.due(now - self.inbox.window, BATCH), now, self.inbox.window)
            for lead in plan.publish:
                await tx.update(lead.account, lead.openid, lead.msg_id, "ready", None)
            for location in plan.expire:
                await tx.update(location.account, location.openid, location.msg_id, "expired", None)
        published = 0
        for lead in await self.inbox.store.ready(BATCH):
            published += await self.inbox.publish(lead.account, lead.openid, lead.msg_id)
        return published

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wechat-flusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.flush_due(self.clock())
            except (BrokerUnavailable, asyncpg.PostgresError, OSError) as exc:  # transient: next pass retries
                log.warning("wechat.flush_failed", error=str(exc))
            await asyncio.sleep(self.every)


def build(
    pool: asyncpg.Pool, gateway: Gateway, settings: IntakeSettings
) -> tuple[WechatInbox, WechatFlusher]:
    inbox = WechatInbox(WechatStore(pool), gateway, settings.wechat_pairing_seconds)
    return inbox, WechatFlusher(inbox)
