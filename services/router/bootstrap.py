"""Composition root: builds the router's tables, plumbing and loops from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from runtime.batch import Preparer
from runtime.consumer import Handler
from runtime.plumbing import PlumbedService, Plumbing
from schemas.topics import INTAKE_ACTIONS, INTAKE_GRID, INTAKE_HOTLINE, INTAKE_WECHAT, SLA_EVENTS
from services.router.decider.client import DecisionWorker
from services.router.domain.duplicates import DuplicatePolicy
from services.router.handlers.actions import handle_actions
from services.router.handlers.context import RouterContext, TablesHolder
from services.router.handlers.escalations import handle_sla_events
from services.router.handlers.gauges import count_cases
from services.router.handlers.incidents import handle_incidents, prepare_incidents
from services.router.settings import RouterSettings
from services.router.tables import load_city, load_tables, watch

SQL = Path(__file__).resolve().parent / "sql"


@dataclass
class Router(PlumbedService):
    settings: RouterSettings
    context: RouterContext


def preparers(ctx: RouterContext) -> dict[str, Preparer]:
    """New incidents are parsed and decided ahead of their batch (pure: the decision needs no database)."""
    incidents = partial(prepare_incidents, ctx)
    return {INTAKE_HOTLINE: incidents, INTAKE_GRID: incidents, INTAKE_WECHAT: incidents}


def handlers(ctx: RouterContext) -> dict[str, Handler]:
    """Batch handlers by topic, in the order a poll's records are applied (new cases before actions)."""
    incidents = partial(handle_incidents, ctx)
    return {
        INTAKE_HOTLINE: incidents,
        INTAKE_GRID: incidents,
        INTAKE_WECHAT: incidents,
        INTAKE_ACTIONS: partial(handle_actions, ctx),
        SLA_EVENTS: partial(handle_sla_events, ctx),
    }


async def bootstrap(settings: RouterSettings, clock: Callable[[], datetime] | None = None) -> Router:
    """An invalid responsibility list or missing city files stop the router before it connects. The
    decision worker is started first, to load its tables while the router loads its own; the router
    does not wait for it (it decides in its own loop until the worker is ready) unless told to."""
    decider = DecisionWorker(settings) if settings.decision_worker else None
    try:
        if decider is not None:
            await decider.start()
        gazetteer, city = load_city(settings.city_dir)
        tables = TablesHolder(load_tables(settings, gazetteer, city), city)
        plumbing = await Plumbing.open("router", settings, schema=settings.schema_name, sql=SQL)
        ctx = RouterContext(
            pool=plumbing.pool, tables=tables, clock=clock or (lambda: datetime.now(UTC)),
            duplicates=DuplicatePolicy(settings.duplicate_radius_m, timedelta(hours=settings.duplicate_window_hours)),
            decider=decider, decider_timeout=settings.decision_timeout_seconds,
        )
        if decider is not None:
            plumbing.loops.start("decisions", decider.run)
            if settings.decision_worker_wait_seconds > 0:
                await decider.ready(settings.decision_worker_wait_seconds)
        await plumbing.consume(handlers(ctx), group_id=settings.group_id, prepare=preparers(ctx))
    except BaseException:
        if decider is not None:
            decider.kill()
        raise
    plumbing.loops.start("reload", partial(watch, settings, tables))
    plumbing.loops.start("gauges", partial(count_cases, plumbing.pool))
    return Router(plumbing=plumbing, settings=settings, context=ctx)
