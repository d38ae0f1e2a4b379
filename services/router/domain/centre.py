"""The command centre's hand dispatch (人工分拨) and arbitration (仲裁): the centre names an item code, or a
department that stands for its default item in the list; either way the case is assigned by the same
`assign` as the router's own dispatch, so owner unit, level, limits and ladder always exist."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.case import Assignment
from services.router.domain.decide import Dispatch, RoutingTables, assign
from services.router.domain.locate import Place
from services.router.domain.responsibility import ResponsibilityItem


@dataclass(frozen=True)
class CentreDispatch:
    target: str
    list_version: str
    item: ResponsibilityItem
    dispatch: Dispatch
    by_default: bool  # the centre named a department; its default item was used


def centre_dispatch(target: str, held: Assignment | None, tables: RoutingTables) -> CentreDispatch | str:
    """The dispatch for `target` (item code or department code) in the case's place, or why it is refused."""
    items = tables.responsibility_list
    item = items.by_code.get(target)
    by_default = item is None
    if item is None:
        item = items.default_item(target)
    if item is None:
        return (f"{target} is neither an item code nor a department with a default item in list "
                f"{items.version}; name an item code")
    dispatch = assign(item, place_of(held, tables))
    if dispatch is None:
        return f"item {item.code} is handled by {item.owner}, and the case has no place that names one"
    return CentreDispatch(target, items.version, item, dispatch, by_default)


def place_of(held: Assignment | None, tables: RoutingTables) -> Place | None:
    """The place a case was located in, from its current assignment (the grid's full record when known)."""
    if held is None:
        return None
    if held.grid_id and (found := tables.gazetteer.at_grid(held.grid_id)):
        return found
    if held.community_id or held.street_id:
        return Place("case", "as recorded on the case", None, held.community_id, held.street_id)
    return None
