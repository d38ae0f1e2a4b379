"""Boundaries we can check (STYLE.md 16): services never import each other, every `domain` package
imports no adapter, framework or client library, and `schemas` imports no service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())
IO_LIBRARIES = {"fastapi", "starlette", "aiokafka", "asyncpg", "httpx", "uvicorn"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _files(*parts: str) -> list[Path]:
    return sorted(ROOT.joinpath(*parts).rglob("*.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_never_imports_another_service(service: str) -> None:
    others = {f"services.{s}" for s in SERVICES if s != service}
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files("services", service)
        for name in _imports(path)
        if any(name == o or name.startswith(o + ".") for o in others)
    }
    assert not offenders


@pytest.mark.parametrize("service", SERVICES)
def test_domain_imports_no_adapter_and_no_io_library(service: str) -> None:
    forbidden_prefixes = (f"services.{service}.adapters", f"services.{service}.handlers", "runtime")
    offenders = set()
    for path in _files("services", service, "domain"):
        for name in _imports(path):
            if name.split(".")[0] in IO_LIBRARIES or name.startswith(forbidden_prefixes):
                offenders.add(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders


def test_schemas_import_no_service_or_runtime() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files("schemas")
        for name in _imports(path)
        if name.startswith(("services", "runtime"))
    }
    assert not offenders


def test_the_routers_serving_path_imports_no_training_code() -> None:
    """STYLE.md §21: training (scikit-learn) builds the artefact; serving reads it with numpy only."""
    training = "services.router.classification.training"
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files("services", "router")
        if "training" not in path.relative_to(ROOT / "services" / "router").parts
        for name in _imports(path)
        if name.startswith((training, "sklearn", "scipy"))
    }
    assert not offenders
