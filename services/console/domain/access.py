"""Who may see and act on which case: the centre on every case, a department on the cases it holds
(as owner, owner unit, or assisting department 协办 of a lead department's case)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.console.domain.users import Role, User

CENTRE_ACTIONS = frozenset({"dispatch", "arbitrate", "reject", "approve_extension", "suspend", "resume", "verify"})
DEPARTMENT_ACTIONS = frozenset({"accept", "progress", "return", "resolve", "request_extension"})


def owner_filter(user: User) -> str | None:
    """The owner every query is narrowed to: None (all) for the centre, the department's code otherwise."""
    return None if user.role is Role.CENTRE else user.department


def may_see(user: User, case: Mapping[str, Any]) -> bool:
    if user.role is Role.CENTRE:
        return True
    if user.department is None:
        return False
    return user.department in (case.get("owner"), case.get("owner_unit"), *(case.get("assisting") or ()))


def may_act(user: User, case: Mapping[str, Any], kind: str) -> str | None:
    """None when allowed, otherwise the reason (the router still judges the transition itself)."""
    if not may_see(user, case):
        return "this case is not held by your department"
    allowed = CENTRE_ACTIONS if user.role is Role.CENTRE else DEPARTMENT_ACTIONS
    if kind not in allowed:
        return f"a {user.role.value} user may not {kind}"
    if user.role is Role.DEPARTMENT and user.department not in (case.get("owner"), case.get("owner_unit")):
        return f"an assisting department (协办) may not {kind}: the lead department (主办) owns it"
    return None
