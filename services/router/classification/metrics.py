"""Routing-quality measures over decided texts (pure): accuracy, dispatch share and precision, calibration."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

BINS = 10


@dataclass(frozen=True)
class Decided:
    """One labelled text as the router decided it."""

    channel: str
    expected: str
    expected_owner: str
    top: tuple[str, ...]  # item codes, best first (up to 3)
    owners: tuple[str, ...]  # their owners
    score: float  # calibrated confidence of the top item
    dispatched: bool
    urgent_label: bool | None
    urgent_detected: bool

    @property
    def right(self) -> bool:
        return bool(self.top) and self.top[0] == self.expected


def summary(rows: Sequence[Decided]) -> dict[str, object]:
    out = _core(rows)
    by_channel: dict[str, list[Decided]] = defaultdict(list)
    for row in rows:
        by_channel[row.channel].append(row)
    out["by_channel"] = {channel: _core(group) for channel, group in sorted(by_channel.items())}
    out["calibration"] = calibration(rows)
    urgent = [r for r in rows if r.urgent_label]
    out["urgent"] = {
        "labelled": len(urgent),
        "detected": sum(r.urgent_detected for r in urgent),
        "dispatched_wrong_without_a_person": sum(r.dispatched and not r.right for r in urgent),
        "false_alarms": sum(r.urgent_detected and r.urgent_label is False for r in rows),
    }
    return out


def _core(rows: Sequence[Decided]) -> dict[str, object]:
    n = len(rows)
    dispatched = [r for r in rows if r.dispatched]
    return {
        "n": n,
        "top1_item": _share(sum(r.right for r in rows), n),
        "top3_item": _share(sum(r.expected in r.top for r in rows), n),
        "top1_department": _share(sum(bool(r.owners) and r.owners[0] == r.expected_owner for r in rows), n),
        "top3_department": _share(sum(r.expected_owner in r.owners for r in rows), n),
        "dispatched_share": _share(len(dispatched), n),
        "precision_dispatched_item": _share(sum(r.right for r in dispatched), len(dispatched)),
        "precision_dispatched_department": _share(
            sum(r.owners[0] == r.expected_owner for r in dispatched), len(dispatched)),
    }


def calibration(rows: Sequence[Decided], bins: int = BINS) -> dict[str, object]:
    """Reliability table (confidence bins of the top item) and expected calibration error."""
    table = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        group = [r for r in rows if low <= r.score < high or (b == bins - 1 and r.score == 1.0)]
        if not group:
            continue
        confidence = sum(r.score for r in group) / len(group)
        accuracy = sum(r.right for r in group) / len(group)
        ece += len(group) / max(len(rows), 1) * abs(confidence - accuracy)
        table.append({"bin": f"{low:.1f}-{high:.1f}", "n": len(group), "confidence": round(confidence, 4),
                      "accuracy": round(accuracy, 4)})
    return {"bins": table, "ece": round(ece, 4)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
