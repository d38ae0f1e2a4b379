"""Loading the routing tables from files, and reloading them when the list changes (no restart)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from runtime.logging import get_logger
from services.router.domain.classify import Classifier
from services.router.domain.decide import RoutingTables
from services.router.domain.departments import DEPARTMENT_CODES
from services.router.domain.locate import Gazetteer
from services.router.domain.problems import ListValidationError
from services.router.domain.responsibility import load_responsibility_list
from services.router.handlers.context import TablesHolder
from services.router.settings import RouterSettings

log = get_logger(__name__)


def load_gazetteer(city_dir: Path) -> Gazetteer:
    grids, gazetteer = city_dir / "grids.geojson", city_dir / "gazetteer.json"
    if not grids.exists() or not gazetteer.exists():
        raise FileNotFoundError(
            f"{city_dir} has no grids.geojson/gazetteer.json: run `python -m simcity write {city_dir}`"
        )
    return Gazetteer(json.loads(grids.read_text()), json.loads(gazetteer.read_text()))


def load_tables(settings: RouterSettings, gazetteer: Gazetteer) -> RoutingTables:
    """Raises ListValidationError (with file and line of every problem) when the list is invalid."""
    resp_list = load_responsibility_list(settings.responsibility_list_dir, DEPARTMENT_CODES)
    return RoutingTables(resp_list, Classifier(resp_list), gazetteer, settings.confidence_threshold)


def fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in directory.glob("*.yaml")))


def reload(settings: RouterSettings, holder: TablesHolder) -> str | list[str]:
    """Load and validate the list again; swap only when valid. Returns the version or the problems."""
    try:
        tables = load_tables(settings, holder.current.gazetteer)
    except ListValidationError as exc:
        problems = [str(p) for p in exc.problems]
        log.error("responsibility_list_invalid", problems=problems[:20], kept=holder.current.version)
        return problems
    if tables.version != holder.current.version:
        log.info("responsibility_list_reloaded", version=tables.version, previous=holder.current.version)
    holder.current = tables
    return tables.version


async def watch(settings: RouterSettings, holder: TablesHolder, stop: asyncio.Event) -> None:
    seen = fingerprint(settings.responsibility_list_dir)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), settings.reload_interval_seconds)
        except TimeoutError:
            pass
        now = fingerprint(settings.responsibility_list_dir)
        if now != seen:
            seen = now
            await asyncio.to_thread(reload, settings, holder)
