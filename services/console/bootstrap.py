"""Composition root: builds the console's read model, users, city map, upstream clients and loops."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.consumer import Handler
from runtime.plumbing import PlumbedService, Plumbing
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.console.adapters.city import City, load_city, load_users
from services.console.adapters.live import Hub
from services.console.adapters.upstream import Upstream
from services.console.domain.users import User
from services.console.handlers.events import handle_case_events, handle_sla_events
from services.console.settings import ConsoleSettings

SQL = Path(__file__).resolve().parent / "sql"


@dataclass
class Console(PlumbedService):
    settings: ConsoleSettings
    users: dict[str, User]
    city: City
    upstream: Upstream
    hub: Hub
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # responsibility items, fetched once

    async def close(self) -> None:
        await self.upstream.close()
        await super().close()
        await self.hub.close()
        await self.hub.close()


def handlers() -> dict[str, Handler]:
    return {CASE_EVENTS: handle_case_events, SLA_EVENTS: handle_sla_events}


async def bootstrap(settings: ConsoleSettings) -> Console:
    """Bad users or missing city files stop the console before it connects."""
    users = load_users(settings.users_file)
    city = load_city(settings.city_dir)
    plumbing = await Plumbing.open("console", settings, schema=settings.schema_name, sql=SQL, pool_size=5)
    hub = Hub()
    await hub.listen(settings.database_url)
    await plumbing.consume(handlers(), group_id=settings.group_id)
    return Console(plumbing=plumbing, settings=settings, users=users, city=city, upstream=Upstream.open(settings),
                   hub=hub)
