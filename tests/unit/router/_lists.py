"""Small responsibility lists written on the fly, so each test states exactly the data it is about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.router.domain.departments import DEPARTMENT_CODES
from services.router.domain.responsibility import ResponsibilityList, load_responsibility_list

REPO_LIST = Path(__file__).resolve().parents[3] / "services/router/data/responsibility_list"


def item(code: str, **overrides: Any) -> dict[str, Any]:
    """A valid district-level item; override any field."""
    base: dict[str, Any] = {
        "code": code,
        "name": f"事项{code}",
        "keywords": {f"关键词{code}": 3.0},
        "owner": "URBAN_MGMT",
        "level": "district",
        "deadlines": {"accept": "2h", "handle": "3wd", "clock": "working"},
        "escalation": ["supervision"],
    }
    base.update(overrides)
    return base


def write_list(directory: Path, *items: dict[str, Any], class_text: str | None = None,
               defaults: dict[str, str] | None = None) -> Path:
    """list.yaml with one class A whose file holds `items` (or `class_text` verbatim); unless `defaults`
    is given, each owner's first item is its default item (department_defaults)."""
    text = class_text if class_text is not None else yaml.safe_dump(
        {"items": list(items)}, allow_unicode=True, sort_keys=False
    )
    if defaults is None:
        defaults = {}
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = None
        for raw in (parsed or {}).get("items") or [] if isinstance(parsed, dict) else []:
            if isinstance(raw, dict) and isinstance(raw.get("owner"), str) and isinstance(raw.get("code"), str):
                defaults.setdefault(raw["owner"], raw["code"])
    header = yaml.safe_dump({"department_defaults": defaults}, sort_keys=False) if defaults else ""
    (directory / "list.yaml").write_text(
        'version: "test-1"\neffective_from: "2026-11-01"\n'
        "classes:\n  - {code: A, name: 城市管理类, file: a.yaml}\n" + header,
        encoding="utf-8",
    )
    (directory / "a.yaml").write_text(text, encoding="utf-8")
    return directory


def load(directory: Path) -> ResponsibilityList:
    return load_responsibility_list(directory, DEPARTMENT_CODES)


def line_containing(path: Path, needle: str, after: int = 0) -> int:
    """1-based number of the first line after line `after` that contains `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number > after and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
