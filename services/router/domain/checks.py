"""Checks across items of the list, after each item has passed its own schema."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from services.router.domain.departments import LEVELS, LOCATIONAL_LEVEL, LOCATIONAL_OWNERS, SUPERVISION
from services.router.domain.problems import Problem, line_of

if TYPE_CHECKING:
    from services.router.domain.responsibility import ResponsibilityItem

PRIMARY_WEIGHT = 2.0
"""A keyword this heavy can decide a classification on its own; two items sharing one must not tie."""

_LADDER = (*LEVELS, SUPERVISION)

Entry = tuple[str, Any, "ResponsibilityItem"]


def primary_keywords(item: ResponsibilityItem) -> frozenset[str]:
    return frozenset(k for k, w in item.keywords.items() if w >= PRIMARY_WEIGHT)


def check_items(entries: Sequence[Entry], known_departments: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []
    for file, node, item in entries:
        problems.extend(_check_one(file, node, item, known_departments))
    problems.extend(_check_duplicates(entries))
    problems.extend(_check_overlaps(entries))
    return problems


def _problem(file: str, node: Any, item: ResponsibilityItem, field: str, message: str) -> Problem:
    return Problem(file=file, line=line_of(node, [field]), item_code=item.code, message=message)


def _check_one(file: str, node: Any, item: ResponsibilityItem, known: frozenset[str]) -> list[Problem]:
    found: list[Problem] = []
    owners = known | LOCATIONAL_OWNERS
    if item.owner not in owners:
        found.append(_problem(file, node, item, "owner", f"unknown department {item.owner!r}"))
    elif item.owner in LOCATIONAL_LEVEL and LOCATIONAL_LEVEL[item.owner] != item.level:
        found.append(_problem(file, node, item, "level",
                              f"owner {item.owner} handles at level {LOCATIONAL_LEVEL[item.owner]}, "
                              f"not {item.level}"))
    for alternate in item.alternates:
        if alternate not in owners:
            found.append(_problem(file, node, item, "alternates", f"unknown department {alternate!r}"))
        elif alternate == item.owner:
            found.append(_problem(file, node, item, "alternates", "the owner cannot be its own alternate"))
    if len(set(item.alternates)) != len(item.alternates):
        found.append(_problem(file, node, item, "alternates", "an alternate is listed twice"))
    found.extend(_check_ladder(file, node, item))
    if not item.keywords and not item.code_only:
        found.append(_problem(file, node, item, "code",
                              "unreachable: no keywords and not marked code_only: true"))
    if item.keywords and item.code_only:
        found.append(_problem(file, node, item, "code_only", "a code_only item must not have keywords"))
    return found


def _check_ladder(file: str, node: Any, item: ResponsibilityItem) -> list[Problem]:
    ranks = [_LADDER.index(step) for step in item.escalation]
    if ranks[0] <= _LADDER.index(item.level):
        return [_problem(file, node, item, "escalation",
                         f"the escalation ladder must start above the item's level {item.level}")]
    if any(b <= a for a, b in pairwise(ranks)):
        return [_problem(file, node, item, "escalation", "the escalation ladder must be strictly ascending")]
    if item.escalation[-1] != SUPERVISION:
        return [_problem(file, node, item, "escalation",
                         f"the escalation ladder must end at {SUPERVISION} (督办单)")]
    return [Problem(file=file, line=line_of(node, ["rung_limits", step]), item_code=item.code,
                    message=f"rung_limits: rung {step} is not on the item's ladder {list(item.escalation)}")
            for step in item.rung_limits if step not in item.escalation]


def _check_duplicates(entries: Sequence[Entry]) -> list[Problem]:
    seen: dict[str, tuple[str, int | None]] = {}
    found: list[Problem] = []
    for file, node, item in entries:
        line = line_of(node, ["code"])
        if item.code in seen:
            first_file, first_line = seen[item.code]
            found.append(Problem(file=file, line=line, item_code=item.code,
                                 message=f"duplicate code, first defined at {first_file}:{first_line}"))
        else:
            seen[item.code] = (file, line)
    return found


def _check_overlaps(entries: Sequence[Entry]) -> list[Problem]:
    """Items that share a primary keyword and whose conditions can hold together need distinct priorities."""
    by_keyword: dict[str, list[int]] = defaultdict(list)
    for index, (_, _, item) in enumerate(entries):
        for keyword in primary_keywords(item):
            by_keyword[keyword].append(index)
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for keyword, indexes in by_keyword.items():
        for position, first in enumerate(indexes):
            for second in indexes[position + 1:]:
                shared[(first, second)].add(keyword)
    found: list[Problem] = []
    for (first, second), keywords in sorted(shared.items()):
        a, (file, node, b) = entries[first][2], entries[second]
        if a.code == b.code or a.priority != b.priority or not a.conditions.overlaps(b.conditions):
            continue
        found.append(_problem(file, node, b, "priority",
                              f"ambiguous with {a.code}: shares {', '.join(sorted(keywords))} under "
                              f"overlapping conditions at the same priority {b.priority}; "
                              "give one a distinct priority or disjoint conditions"))
    return found


def check_defaults(defaults: dict[str, str], entries: Sequence[Entry], list_node: Any) -> list[Problem]:
    """Every owner of an item names a default item it owns (a department-only hand dispatch maps to it)."""
    by_code = {item.code: item for _, _, item in entries}
    found: list[Problem] = []
    for owner, code in sorted(defaults.items()):
        line = line_of(list_node, ["department_defaults", owner])
        item = by_code.get(code)
        if item is None:
            found.append(Problem(file="list.yaml", line=line, item_code=code,
                                 message=f"default item {code} of {owner} is not in the list"))
        elif item.owner != owner:
            found.append(Problem(file="list.yaml", line=line, item_code=code,
                                 message=f"default item {code} of {owner} is owned by {item.owner}"))
    for owner in sorted({item.owner for _, _, item in entries} - defaults.keys()):
        found.append(Problem(file="list.yaml", line=line_of(list_node, ["department_defaults"]), item_code=None,
                             message=f"{owner} owns items but names no default item under department_defaults"))
    return found
