"""The responsibility list (权责清单): for each kind of incident, who owns it, at which level, how fast.

The list is versioned data under `services/router/data/responsibility_list/`; `load_responsibility_list`
validates all of it at once and reports every problem with its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.router.domain.checks import check_defaults, check_items
from services.router.domain.conditions import Conditions
from services.router.domain.durations import Duration, DurationUnit, parse_duration
from services.router.domain.problems import ListValidationError, Problem, line_of, read_yaml

__all__ = [
    "Deadline",
    "Duration",
    "DurationUnit",
    "ListValidationError",
    "Problem",
    "ResponsibilityClass",
    "ResponsibilityItem",
    "ResponsibilityList",
    "load_responsibility_list",
    "parse_duration",
]

HandlingLevel = Literal["grid", "community", "street", "district"]
LadderStep = Literal["community", "street", "district", "supervision"]
ITEM_CODE_PATTERN = r"^[A-Z]\d{2}\.\d{3}$"


class Deadline(BaseModel):
    """签收 accept and 办结 handle limits; `clock` says whether hours run on working time or natural time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accept: Duration
    handle: Duration
    clock: Literal["working", "natural"]

    @field_validator("accept", "handle", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


class ResponsibilityItem(BaseModel):
    """One line of the list (事项): a kind of incident and how it is handled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=ITEM_CODE_PATTERN, description="class letter, group, sequence: A01.003")
    name: str = Field(min_length=1)
    keywords: Mapping[str, float] = Field(default_factory=dict, description="keyword -> weight")
    code_only: bool = Field(default=False, description="reached only by its code (grid reports)")
    conditions: Conditions = Conditions()
    priority: int = Field(default=0, description="breaks ties between overlapping items; higher wins")
    owner: str = Field(description="department code, or GRID / COMMUNITY / STREET")
    level: HandlingLevel
    deadlines: Deadline
    escalation: tuple[LadderStep, ...] = Field(min_length=1)
    rung_limits: Mapping[LadderStep, Duration] = Field(
        default_factory=dict, description="handle limit on a rung of the ladder once escalated (on the item's "
                                          "clock); a rung not named runs on sla's district table")
    alternates: tuple[str, ...] = Field(default=(), description="next owners after a return (退单)")

    @field_validator("keywords")
    @classmethod
    def _weights_positive(cls, value: Mapping[str, float]) -> Mapping[str, float]:
        for keyword, weight in value.items():
            if len(keyword.strip()) < 2:
                raise ValueError(f"keyword {keyword!r} is shorter than two characters")
            if not 0 < weight <= 5:
                raise ValueError(f"weight of {keyword!r} must be in (0, 5], got {weight}")
        return value

    @field_validator("rung_limits", mode="before")
    @classmethod
    def _parse_rung_limits(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return {step: parse_duration(limit) if isinstance(limit, str) else limit for step, limit in value.items()}
        return value

    @property
    def class_code(self) -> str:
        return self.code[0]


class ResponsibilityClass(BaseModel):
    """A class (大类) of the list, e.g. 城市管理类, with the codes of its items."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-Z]$")
    name: str = Field(min_length=1)
    file: str = Field(min_length=1)
    item_codes: tuple[str, ...] = ()


class ResponsibilityList(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str = Field(min_length=1)
    effective_from: date
    classes: tuple[ResponsibilityClass, ...]
    items: tuple[ResponsibilityItem, ...]
    department_defaults: Mapping[str, str] = Field(
        default_factory=dict, description="owner code -> the item a department-only hand dispatch stands for")

    def default_item(self, owner: str) -> ResponsibilityItem | None:
        """The item a hand dispatch naming only `owner` (a department, or GRID/COMMUNITY/STREET) maps to."""
        code = self.department_defaults.get(owner)
        return self.by_code.get(code) if code else None

    @cached_property
    def by_code(self) -> Mapping[str, ResponsibilityItem]:
        return {item.code: item for item in self.items}

    def item(self, code: str) -> ResponsibilityItem:
        return self.by_code[code]


class _Header(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    effective_from: date
    classes: tuple[ResponsibilityClass, ...] = Field(min_length=1)
    department_defaults: dict[str, str] = Field(default_factory=dict)


def _pydantic_problems(error: ValidationError, label: str, node: Any, code: str | None) -> list[Problem]:
    return [
        Problem(
            file=label,
            line=line_of(node, [p for p in err["loc"] if isinstance(p, int | str)]),
            item_code=code,
            message=f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}",
        )
        for err in error.errors()
    ]


def _load_class(
    directory: Path, entry: ResponsibilityClass, problems: list[Problem]
) -> list[tuple[str, Any, ResponsibilityItem]]:
    node, data = read_yaml(directory / entry.file, entry.file, problems)
    if node is None:
        return []
    raw_items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(raw_items, list) or not raw_items:
        message = f"class {entry.code} has no items (expected a non-empty 'items' list)"
        problems.append(Problem(file=entry.file, line=line_of(node, ["items"]), item_code=None,
                                message=message))
        return []
    loaded: list[tuple[str, Any, ResponsibilityItem]] = []
    for index, raw in enumerate(raw_items):
        item_node = line_of_node(node, index)
        code = raw.get("code") if isinstance(raw, dict) else None
        code = code if isinstance(code, str) else None
        try:
            item = ResponsibilityItem.model_validate(raw)
        except ValidationError as error:
            problems.extend(_pydantic_problems(error, entry.file, item_node, code))
            continue
        if item.class_code != entry.code:
            problems.append(Problem(file=entry.file, line=line_of(item_node, ["code"]), item_code=item.code,
                                    message=f"item code does not belong to class {entry.code}"))
        loaded.append((entry.file, item_node, item))
    return loaded


def line_of_node(class_node: Any, index: int) -> Any:
    """The node of the index-th item of a class file, for line marks."""
    for key, value in class_node.value:
        if getattr(key, "value", None) == "items" and index < len(value.value):
            return value.value[index]
    return None


def load_responsibility_list(directory: Path, known_departments: frozenset[str]) -> ResponsibilityList:
    """Read `list.yaml` and its class files; raise ListValidationError listing every problem."""
    problems: list[Problem] = []
    node, data = read_yaml(directory / "list.yaml", "list.yaml", problems)
    if node is None:
        raise ListValidationError(problems)
    try:
        header = _Header.model_validate(data)
    except ValidationError as error:
        raise ListValidationError(_pydantic_problems(error, "list.yaml", node, None)) from None
    entries = [loaded for entry in header.classes for loaded in _load_class(directory, entry, problems)]
    problems.extend(check_items(entries, known_departments))
    if not problems:  # defaults name items: checked once every item is valid
        problems.extend(check_defaults(header.department_defaults, entries, node))
    if problems:
        raise ListValidationError(problems)
    items = tuple(item for _, _, item in entries)
    classes = tuple(
        entry.model_copy(update={"item_codes": tuple(i.code for i in items if i.class_code == entry.code)})
        for entry in header.classes
    )
    return ResponsibilityList(
        version=header.version, effective_from=header.effective_from, classes=classes, items=items,
        department_defaults=header.department_defaults,
    )
