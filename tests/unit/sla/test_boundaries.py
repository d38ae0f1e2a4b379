"""sla's domain stays pure (no Kafka, database, HTTP or file reading) and sla imports no other service."""

from __future__ import annotations

import ast
from pathlib import Path

from services.sla.settings import HERE

FORBIDDEN_IN_DOMAIN = ("aiokafka", "asyncpg", "fastapi", "httpx", "yaml", "runtime", "services.sla.adapters",
                       "services.sla.handlers")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_no_adapter() -> None:
    for path in (HERE / "domain").glob("*.py"):
        bad = [n for n in _imports(path) if n.startswith(FORBIDDEN_IN_DOMAIN)]
        assert not bad, f"{path.name} imports {bad}"


def test_sla_imports_no_other_service() -> None:
    for path in HERE.rglob("*.py"):
        bad = [n for n in _imports(path) if n.startswith("services.") and not n.startswith("services.sla")]
        assert not bad, f"{path.relative_to(HERE)} imports {bad}"
