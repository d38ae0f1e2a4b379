"""Composition root: builds sla's calendar, pool, clients and loops from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from runtime import chaos
from runtime.consumer import Handler
from runtime.plumbing import PlumbedService, Plumbing
from schemas.topics import CASE_EVENTS
from services.sla.adapters.calendar_files import load_calendar
from services.sla.domain.deadlines import Rules
from services.sla.domain.documents import Templates
from services.sla.handlers.case_events import handle_case_events
from services.sla.handlers.context import Paperwork, SlaContext
from services.sla.handlers.timers import fire_due, recompute_provisional, run_timer
from services.sla.settings import SlaSettings

SQL = Path(__file__).resolve().parent / "sql"


def load_templates(directory: Path) -> Templates:
    """The document templates (document.html, document.txt); a missing one fails the start."""
    return Templates(html=(directory / "document.html").read_text(encoding="utf-8"),
                     text=(directory / "document.txt").read_text(encoding="utf-8"))


@dataclass
class Sla(PlumbedService):
    settings: SlaSettings
    context: SlaContext

    async def fire_due(self, now: datetime) -> int:
        """The timer, callable with any clock (tests move time forward instead of sleeping)."""
        return await fire_due(self.context, now)


def handlers(ctx: SlaContext) -> dict[str, Handler]:
    return {CASE_EVENTS: partial(handle_case_events, ctx)}


async def bootstrap(settings: SlaSettings, clock: Callable[[], datetime] | None = None) -> Sla:
    rules = Rules(load_calendar(settings.calendar_dir), settings.warn_shares, settings.rung_limits,
                  settings.verify_within)  # invalid calendar or limits: fail at start
    plumbing = await Plumbing.open("sla", settings, schema=settings.schema_name, sql=SQL)
    paperwork = Paperwork(settings.district_code, settings.district_name, load_templates(settings.templates_dir))
    ctx = SlaContext(pool=plumbing.pool, rules=rules, relay=plumbing.relay,
                     clock=clock or (lambda: datetime.now(UTC)), timer_batch=settings.timer_batch,
                     paperwork=paperwork, chaos=chaos.from_env())
    await recompute_provisional(ctx, ctx.clock())  # this calendar may have the data they were waiting for
    await plumbing.consume(handlers(ctx), group_id=settings.group_id)
    if settings.timer_enabled:
        plumbing.loops.start("timer", partial(run_timer, ctx, interval=settings.timer_interval_seconds))
    return Sla(plumbing=plumbing, settings=settings, context=ctx)
