"""Composition root: the only place that builds intake's clients from settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from runtime.db import create_pool, migrate
from runtime.kafka import make_producer
from services.intake.adapters.open311_store import load_names
from services.intake.case_status import StatusFollower
from services.intake.gateway import Gateway
from services.intake.settings import IntakeSettings

SQL = Path(__file__).resolve().parent / "sql"


@dataclass
class Intake:
    settings: IntakeSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    gateway: Gateway
    follower: StatusFollower | None = None
    _agency_names: dict[str, str] | None = None

    async def agency_names(self) -> dict[str, str]:
        """Names of the agencies, read from the city directory on first use (not at start-up)."""
        if self._agency_names is None:
            self._agency_names = await asyncio.to_thread(load_names, self.settings.open311_city_dir)
        return self._agency_names

    async def close(self) -> None:
        if self.follower is not None:
            await self.follower.stop()
        await self.producer.stop()
        await self.pool.close()


async def bootstrap(settings: IntakeSettings) -> Intake:
    await migrate(settings.database_url, settings.schema_name, SQL, messaging=False)
    # Intake's statements leave no session state (transaction-scoped locks only): no reset query per
    # release, which was a round trip per group commit and ~7 % of intake's CPU under load (py-spy).
    pool = await create_pool(settings.database_url, settings.schema_name, max_size=20, reset_sessions=False)
    producer = make_producer(settings.kafka_bootstrap, client_id="gridline-intake")
    await producer.start()
    gateway = Gateway(pool, producer, settings.contact_key, settings.publish_timeout_seconds,
                      settings.groups_in_flight, settings.group_max_items)
    follower = None
    if settings.open311_status_enabled:
        follower = StatusFollower(pool, producer, settings)
        follower.start()
    return Intake(settings, pool, producer, gateway, follower)
