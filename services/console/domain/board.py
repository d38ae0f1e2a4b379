"""The overdue and due-soon board (超期 / 临期): counts per street, department, level and community.

The counts are sla's own (`counts` beside `items` in `GET /v1/sla/overdue` and `/v1/sla/due-soon`), counted
over every listed stage, not over the ≤ 500 rows the console fetches; only an answer without them (an older
sla that answers a bare list) is counted from its rows, and the board says so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DOCUMENTS = {
    "risk_warning_letter": "信访风险警示函",
    "accountability_letter": "信访问责建议函",
    "supervision_order": "督办单",
}


COUNTED = ("street", "department", "level", "community")
_ROW_FIELD = {"street": "street_id", "department": "owner", "level": "level", "community": "community_id"}


def counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per street, department (owner), level (the stage is held at) and community, counted over `rows`."""
    tally: dict[str, Counter[str]] = {name: Counter() for name in COUNTED}
    for r in rows:
        for name in COUNTED:
            tally[name][r.get(_ROW_FIELD[name]) or "—"] += 1
    return {name: dict(c.most_common()) for name, c in tally.items()}


def tallies(body: Any, rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, dict[str, int]], int, str]:
    """The board's counts, total and where they come from ("sla": its true totals; "rows": counted here)."""
    if isinstance(body, Mapping) and isinstance(body.get("counts"), Mapping):
        given = body["counts"]
        out = {name: {str(k): int(v) for k, v in (given.get(name) or {}).items()} for name in COUNTED}
        total = body.get("total")
        return out, total if isinstance(total, int) else sum(out["level"].values()), "sla"
    return counts(rows), len(rows), "rows"
