"""Backward compatibility of event schemas for existing consumers.

A consumer written against the published schema must still read every new event. That breaks when a
field disappears, when a required field becomes optional (it may now be missing), when a field's type
widens (a string may now be null, say), or when an enum value it matches on is removed. Adding optional
fields and adding enum values are allowed: consumers ignore what they do not know (documented in README).
"""

from __future__ import annotations

from typing import Any


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return _compare(old, new, old.get("$defs", {}), new.get("$defs", {}), "$")


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return defs.get(ref.split("/")[-1], {}) if ref.startswith("#/$defs/") else schema


def _types(schema: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, defs)
    if "type" in schema:
        t = schema["type"]
        return set(t) if isinstance(t, list) else {t}
    found: set[str] = set()
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(option, defs)
    if not found and "enum" in schema:
        found = {type(v).__name__ for v in schema["enum"]}
    return found


def _compare(old: dict[str, Any], new: dict[str, Any], odefs: dict[str, Any], ndefs: dict[str, Any],
             path: str) -> list[str]:
    problems: list[str] = []
    old_types, new_types = _types(old, odefs), _types(new, ndefs)
    if old_types and not new_types <= old_types:
        problems.append(f"{path}: type widened {sorted(old_types)} -> {sorted(new_types)}")
    old_r, new_r = _resolve(old, odefs), _resolve(new, ndefs)
    removed = set(_enum(old_r, odefs)) - set(_enum(new_r, ndefs))
    if removed:
        problems.append(f"{path}: enum values removed {sorted(map(str, removed))}")
    old_props, new_props = old_r.get("properties", {}), new_r.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: field removed")
            continue
        if name in old_r.get("required", []) and name not in new_r.get("required", []):
            problems.append(f"{path}.{name}: no longer required")
        problems += _compare(schema, new_props[name], odefs, ndefs, f"{path}.{name}")
    if isinstance(old_r.get("items"), dict) and isinstance(new_r.get("items"), dict):
        problems += _compare(old_r["items"], new_r["items"], odefs, ndefs, f"{path}[]")
    return problems


def _enum(schema: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    values = list(schema.get("enum", []))
    for option in schema.get("anyOf", []):
        values += _enum(_resolve(option, defs), defs)
    return values
