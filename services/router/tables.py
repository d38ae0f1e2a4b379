"""Loading the routing tables from files, and reloading them when the list changes (no restart)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from runtime.logging import get_logger
from services.router.classification import corpus
from services.router.classification.decision import Engine
from services.router.classification.evaluate import build_engine
from services.router.classification.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from services.router.classification.model import ArtefactError, load_model
from services.router.classification.nearest import NearestExamples
from services.router.classification.policy import Thresholds
from services.router.domain.decide import RoutingTables
from services.router.domain.departments import DEPARTMENT_CODES
from services.router.domain.locate import Gazetteer
from services.router.domain.problems import ListValidationError
from services.router.domain.responsibility import ResponsibilityList, load_responsibility_list
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


def load_city(city_dir: Path) -> tuple[Gazetteer, str]:
    """The gazetteer and the digest of the files it was read from ("" when they changed while read)."""
    files = (city_dir / "grids.geojson", city_dir / "gazetteer.json")
    before = digest(files)
    gazetteer = load_gazetteer(city_dir)
    return gazetteer, before if digest(files) == before else ""


def digest(paths: Iterable[Path]) -> str:
    """sha256 over the names and bytes of the files that exist among `paths`."""
    h = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file():
            h.update(f"{path}\0{path.stat().st_size}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def table_files(settings: RouterSettings) -> list[Path]:
    """Every file `load_tables` reads: the list, the model, its corpus (the nearest examples), the knowledge."""
    return [*settings.responsibility_list_dir.glob("*.yaml"), settings.model_path, *corpus.TRAINING_DIR.glob("*.jsonl"),
            *corpus.EXTRA_SOURCES, *settings.knowledge_dir.glob("*.yaml")]


def load_engine(settings: RouterSettings, *, nearest: bool = True,
                resp_list: ResponsibilityList | None = None) -> Engine:
    """The list, the trained model (if its file exists) and the knowledge base, as one version."""
    resp_list = resp_list or load_responsibility_list(settings.responsibility_list_dir, DEPARTMENT_CODES)
    model = load_model(settings.model_path) if settings.model_path.exists() else None
    examples = None
    if model is not None and nearest:
        files = [corpus.ROOT / name for name in model.corpus.get("files", {})]
        examples = NearestExamples(model, corpus.read(p for p in files if p.exists()))
    knowledge = load_knowledge(settings.knowledge_dir) if settings.knowledge_dir.exists() else KnowledgeBase(())
    model_settings = model.settings if model else {}
    thresholds = Thresholds.of(model_settings, settings.confidence_threshold)
    return build_engine(resp_list, model, knowledge, thresholds, examples)


def load_tables(settings: RouterSettings, gazetteer: Gazetteer, city_digest: str = "") -> RoutingTables:
    """Raises ListValidationError (with file and line of every problem) when the list is invalid, and
    ArtefactError / KnowledgeError when the model or the knowledge base is. The tables' `digest` names
    the files read and the city's (`load_city`); "" when unknown, or when a file changed while read."""
    before = digest(table_files(settings))
    resp_list = load_responsibility_list(settings.responsibility_list_dir, DEPARTMENT_CODES)
    engine = load_engine(settings, resp_list=resp_list)
    settled = city_digest and digest(table_files(settings)) == before
    stamp = hashlib.sha256(f"{city_digest}:{before}:{settings.confidence_threshold}".encode()).hexdigest()
    return RoutingTables(resp_list, engine.ensemble.keywords, gazetteer, engine.thresholds.dispatch, engine,
                         digest=stamp if settled else "")


def fingerprint(directory: Path, *others: Path) -> tuple[tuple[str, int, int], ...]:
    """Changes when the list, the model file or a knowledge file changes (all reload together)."""
    paths = [*directory.glob("*.yaml")]
    for other in others:
        paths.extend(other.glob("*.yaml") if other.is_dir() else [other] if other.exists() else [])
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths))


def reload(settings: RouterSettings, holder: TablesHolder) -> str | list[str]:
    """Load and validate the list again; swap only when valid. Returns the version or the problems."""
    try:
        tables = load_tables(settings, holder.current.gazetteer, holder.city_digest)
    except ListValidationError as exc:
        problems = [str(p) for p in exc.problems]
        log.error("responsibility_list_invalid", problems=problems[:20], kept=holder.current.version)
        return problems
    except (ArtefactError, KnowledgeError) as exc:
        log.error("classifier_or_knowledge_invalid", problem=str(exc), kept=holder.current.version)
        return [str(exc)]
    if (tables.version, tables.model_version) != (holder.current.version, holder.current.model_version):
        log.info("responsibility_list_reloaded", version=tables.version, previous=holder.current.version,
                 model_version=tables.model_version, previous_model=holder.current.model_version)
    holder.current = tables
    return tables.version


async def watch(settings: RouterSettings, holder: TablesHolder, stop: asyncio.Event) -> None:
    watched = (settings.model_path, settings.knowledge_dir)
    seen = fingerprint(settings.responsibility_list_dir, *watched)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), settings.reload_interval_seconds)
        except TimeoutError:
            pass
        now = fingerprint(settings.responsibility_list_dir, *watched)
        if now != seen:
            seen = now
            await asyncio.to_thread(reload, settings, holder)
