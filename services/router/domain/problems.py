"""Validation problems that point at a file and line, and YAML reading that keeps node marks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    """One thing wrong with the list, where an editor can find it."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None
    item_code: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        code = f" [{self.item_code}]" if self.item_code else ""
        return f"{where}{code}: {self.message}"


class ListValidationError(ValueError):
    """The list cannot be used; `problems` holds every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the responsibility list:\n{listing}")


def read_yaml(path: Path, label: str, problems: list[Problem]) -> tuple[yaml.Node | None, Any]:
    """Parse one file into its node tree (for line marks) and its Python value."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problems.append(Problem(file=label, line=None, item_code=None, message=f"cannot read: {error}"))
        return None, None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem(file=label, line=line, item_code=None, message=f"YAML: {error.problem}"))
        return None, None
    finally:
        loader.dispose()
    if node is None:
        problems.append(Problem(file=label, line=1, item_code=None, message="the file is empty"))
    return node, value


def line_of(node: yaml.Node | None, path: Sequence[int | str] = ()) -> int | None:
    """1-based line of the deepest node along `path` (mapping keys, sequence indexes)."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    current: yaml.Node = node
    for part in path:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(current.value):
                child = current.value[part]
        if child is None:
            break
        current = child
        line = child.start_mark.line + 1
    return line
