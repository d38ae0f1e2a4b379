"""What the schema-driven fuzz tests share."""

from __future__ import annotations

from typing import Any


def can_be_invalid(operation: dict[str, Any]) -> bool:
    """Invalid requests exist only where something can be got wrong: a body, a constrained parameter."""
    if "requestBody" in operation:
        return True
    for param in operation.get("parameters", []):
        constraints = set(param.get("schema", {})) - {"title", "description", "examples"}
        if constraints != {"type"} or param["schema"].get("type") != "string":
            return True
    return False
