"""The model and the knowledge base are versioned beside the list: loaded and hot-reloaded with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from services.router.domain.decide import RoutingTables
from services.router.domain.locate import Gazetteer
from services.router.handlers.context import TablesHolder
from services.router.settings import RouterSettings
from services.router.tables import fingerprint, load_engine, reload

EMPTY_CITY = Gazetteer({"features": []}, {"roads": [], "compounds": [], "communities": [], "streets": []})


@pytest.fixture
def settings(tmp_path: Path) -> RouterSettings:
    base = RouterSettings()
    shutil.copytree(base.knowledge_dir, tmp_path / "knowledge")
    shutil.copy(base.model_path, tmp_path / "classifier.json")
    return RouterSettings(model_path=tmp_path / "classifier.json", knowledge_dir=tmp_path / "knowledge")


def _tables(settings: RouterSettings) -> RoutingTables:
    engine = load_engine(settings, nearest=False)
    return RoutingTables(engine.responsibility_list, engine.ensemble.keywords, EMPTY_CITY,
                         engine.thresholds.dispatch, engine)


def test_a_new_model_file_is_noticed_and_swapped_in_with_its_version(settings: RouterSettings) -> None:
    holder = TablesHolder(_tables(settings))
    before = fingerprint(settings.responsibility_list_dir, settings.model_path, settings.knowledge_dir)
    document = json.loads(settings.model_path.read_bytes())
    document["version"] = document["list_version"] + "+mtestreload"
    settings.model_path.write_text(json.dumps(document, ensure_ascii=False))
    assert fingerprint(settings.responsibility_list_dir, settings.model_path, settings.knowledge_dir) != before
    reload(settings, holder)
    assert holder.current.model_version == document["list_version"] + "+mtestreload"


def test_a_broken_model_or_knowledge_file_is_refused_and_the_running_one_kept(settings: RouterSettings) -> None:
    holder = TablesHolder(_tables(settings))
    running = holder.current.model_version
    settings.model_path.write_text('{"format": "something-else"}')
    problems = reload(settings, holder)
    assert isinstance(problems, list) and problems and holder.current.model_version == running
    settings.model_path.write_bytes(RouterSettings().model_path.read_bytes())
    (settings.knowledge_dir / "broken.yaml").write_text("entries:\n  - {id: nope}\n")
    assert isinstance(reload(settings, holder), list) and holder.current.model_version == running
