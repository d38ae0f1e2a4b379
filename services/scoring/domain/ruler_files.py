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

from services.scoring.domain.ruler import REQUIRED_TYPES, Ruler, RulerBook


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
    """1-based line of the deepest element along `path` that exists: a mapping entry's key line, a
    sequence item's first line."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            entry = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                         None)
            if entry is None:
                break
            node, line = entry[1], entry[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_ruler(text: str, label: str) -> Ruler:
    """One ruler file's text → a validated Ruler, or RulerValidationError with every problem."""
    node, value, problems = _parse(text, label)
    if problems:
        raise RulerValidationError(problems)
    problems = _check_entity_types(value, node, label)
    try:
        ruler = Ruler.model_validate(value)
    except ValidationError as exc:
        problems.extend(
            Problem(label, line_of(node, [p for p in err["loc"] if isinstance(p, int | str)]), _message(err))
            for err in exc.errors()
        )
    if problems:
        raise RulerValidationError(sorted(problems, key=lambda p: p.line or 0))
    return ruler


def _message(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    given = err.get("input")
    got = f" (got {given!r})" if isinstance(given, str | int | Decimal) else ""
    return f"{where}: {err['msg']}{got}" if where else f"{err['msg']}{got}"


def _check_entity_types(value: Any, node: yaml.Node | None, label: str) -> list[Problem]:
    """Checked on the raw document, so they are reported together with the field errors."""
    types = value.get("entity_types") if isinstance(value, dict) else None
    if not isinstance(types, dict):
        return []  # the model reports the missing or malformed mapping
    problems: list[Problem] = []
    missing = [t.value for t in REQUIRED_TYPES if t.value not in types]
    if missing:
        problems.append(Problem(label, line_of(node, ["entity_types"]), f"no indicators for {', '.join(missing)}"))
    for etype, indicators in types.items():
        if isinstance(indicators, list):
            problems.extend(_check_indicators(str(etype), indicators, node, label))
    return problems


def _check_indicators(etype: str, indicators: list[Any], node: yaml.Node | None, label: str) -> list[Problem]:
    items = [i for i in indicators if isinstance(i, dict)]
    weights = [(str(i.get("code")), i.get("weight")) for i in items]
    numbers = [Decimal(w) for _, w in weights if isinstance(w, int | Decimal) and not isinstance(w, bool)]
    problems: list[Problem] = []
    if len(numbers) == len(weights):  # a weight that is not a number is reported by the model
        total = sum(numbers, Decimal(0))
        if total != 100:
            listing = " + ".join(f"{code} {w}" for code, w in weights)
            where = line_of(node, ["entity_types", etype])
            problems.append(Problem(label, where, f"{etype}: weights sum to {total}, not 100 ({listing})"))
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = str(item.get("code"))
        if code in seen:
            where = line_of(node, ["entity_types", etype, index, "code"])
            problems.append(Problem(label, where, f"{etype}: indicator code {code} repeated"))
        seen.add(code)
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
