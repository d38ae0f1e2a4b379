"""Reading and checking published rulers: every problem is reported with its file and line.

A ruler decides people's bonuses, so a bad file must fail loudly and precisely: weights that do not
sum to 100, an unknown fact, a direction that contradicts its normalisation — all at once, each with
`file:line`. Numbers are read as exact decimals (YAML floats never pass through binary floating point).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.score import EntityType
from services.scoring.domain.ruler import Ruler, RulerBook


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class RulerValidationError(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid ruler:\n" + "\n".join(f"  {p}" for p in self.problems))


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader whose floats are Decimals, parsed from their text."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))  # type: ignore[arg-type]


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _parse(text: str, label: str) -> tuple[yaml.Node | None, Any, list[Problem]]:
    loader = _DecimalLoader(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        return None, None, [Problem(label, mark.line + 1 if mark else None, f"YAML: {error.problem}")]
    finally:
        loader.dispose()
    return node, value, [] if node is not None else [Problem(label, 1, "the file is empty")]


def line_of(node: yaml.Node | None, path: Sequence[int | str]) -> int | None:
    """1-based line of the deepest node along `path` that exists (mapping keys, sequence indexes)."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def parse_ruler(text: str, label: str) -> Ruler:
    """One ruler file's text → a validated Ruler, or RulerValidationError with every problem."""
    node, value, problems = _parse(text, label)
    if problems:
        raise RulerValidationError(problems)
    try:
        ruler = Ruler.model_validate(value)
    except ValidationError as exc:
        raise RulerValidationError([
            Problem(label, line_of(node, [p for p in err["loc"] if isinstance(p, int | str)]), _message(err))
            for err in exc.errors()
        ]) from None
    problems = [*_check_types(ruler, node, label), *_check_weights(ruler, node, label)]
    if problems:
        raise RulerValidationError(problems)
    return ruler


def _message(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _check_types(ruler: Ruler, node: yaml.Node | None, label: str) -> list[Problem]:
    missing = [t.value for t in EntityType if t not in ruler.entity_types]
    if not missing:
        return []
    return [Problem(label, line_of(node, ["entity_types"]), f"no indicators for {', '.join(missing)}")]


def _check_weights(ruler: Ruler, node: yaml.Node | None, label: str) -> list[Problem]:
    problems: list[Problem] = []
    for etype, indicators in ruler.entity_types.items():
        where = line_of(node, ["entity_types", etype.value])
        total = sum((i.weight for i in indicators), Decimal(0))
        if total != 100:
            listing = " + ".join(f"{i.code} {i.weight}" for i in indicators)
            problems.append(Problem(label, where, f"{etype.value}: weights sum to {total}, not 100 ({listing})"))
        seen: set[str] = set()
        for index, indicator in enumerate(indicators):
            if indicator.code in seen:
                line = line_of(node, ["entity_types", etype.value, index, "code"])
                problems.append(Problem(label, line, f"{etype.value}: indicator code {indicator.code} repeated"))
            seen.add(indicator.code)
    return problems


def load_rulers(directory: Path) -> RulerBook:
    """Every `<version>.yaml` in the directory; the file name must be the version it declares."""
    rulers: list[Ruler] = []
    problems: list[Problem] = []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RulerValidationError([Problem(str(directory), None, "no ruler files (<version>.yaml)")])
    for path in files:
        label = f"{directory.name}/{path.name}"
        try:
            ruler = parse_ruler(path.read_text(encoding="utf-8"), label)
        except RulerValidationError as exc:
            problems.extend(exc.problems)
            continue
        if ruler.version != path.stem:
            problems.append(Problem(label, 1, f"declares version {ruler.version} but is named {path.name}"))
        rulers.append(ruler)
    if problems:
        raise RulerValidationError(problems)
    return RulerBook(rulers)
