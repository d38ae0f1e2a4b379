"""Regression floors on the held-out texts (tests/data/heldout/README.md: written apart, never tuned on).

The floors sit a little below what the frozen artefact 2026.11-1+mc04b87fe61 measured (README, "Held-out
results"): a change that routes worse than that on unseen texts fails here, whatever the dev split says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.router.classification.evaluate import decided
from services.router.classification.metrics import summary
from services.router.settings import RouterSettings
from services.router.tables import load_engine

HELDOUT = Path(__file__).resolve().parents[2] / "data" / "heldout" / "classification_heldout_2026-12.jsonl"


def measured(path: Path) -> dict[str, Any]:
    engine = load_engine(RouterSettings(), nearest=False)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return summary([decided(engine, r["text"], r["channel"], r["expected"], r["urgent"]) for r in rows])


@pytest.fixture(scope="module")
def metrics() -> dict[str, Any]:
    return measured(HELDOUT)


def test_the_held_out_set_is_the_one_documented(metrics: dict[str, Any]) -> None:
    assert metrics["n"] == 640


def test_department_accuracy_on_unseen_texts_holds(metrics: dict[str, Any]) -> None:
    assert metrics["top1_department"] >= 0.90  # measured 0.916; target 0.90
    assert metrics["top3_department"] >= 0.96  # measured 0.973; target 0.97


def test_what_is_dispatched_without_a_person_stays_right(metrics: dict[str, Any]) -> None:
    assert metrics["precision_dispatched_department"] >= 0.95  # measured 0.980; target 0.95
    assert metrics["dispatched_share"] >= 0.65  # measured 0.688; target 0.75 (not met)


@pytest.mark.parametrize("channel", ["hotline", "wechat", "grid"])
def test_every_register_holds_its_floor(metrics: dict[str, Any], channel: str) -> None:
    assert metrics["by_channel"][channel]["top1_department"] >= 0.88  # measured 0.906-0.933


def test_urgent_texts_dispatched_wrong_without_a_person_do_not_grow(metrics: dict[str, Any]) -> None:
    # Target 0; the frozen artefact measured 2 of 86 (a stampede risk and a hit-and-run with bleeding, which
    # the urgency detector missed). Not tuned away on this set: fix the detector on other data, then lower this.
    assert metrics["urgent"]["dispatched_wrong_without_a_person"] <= 2


def test_confidence_stays_calibrated(metrics: dict[str, Any]) -> None:
    assert metrics["calibration"]["ece"] <= 0.08  # measured 0.053


# The later held-out sets, each by a separate author from the item names alone, kept outside the repository
# until an artefact was frozen, then evaluated once per artefact (tests/data/heldout/README.md). Floors sit a
# little below what the served artefact measured; nothing was tuned on them.
# - set 2 (README_heldout2.md, 883 texts): 2026.11-1+m4b53f368d8 measured top-1 department 0.920, top-3 0.973,
#   dispatched 71.1 % at 98.6 %, urgent wrong 1 of 102, ECE 0.067; the served 2026.12-1+m30ca0a6a23 measures
#   0.929, 0.974, 72.9 % at 98.1 %, urgent wrong 1 (target 0, not met).
# - set 3 (README_heldout3.md, 706 texts), frozen before 2026.12-1+m30ca0a6a23 was trained: it measured top-1
#   department 0.922, top-3 0.972, dispatched 74.9 % (529; target 75 %, missed by one text) at 98.1 %, urgent
#   wrong 0 of 75, ECE 0.055, by channel top-1 department 0.887-0.941.
LATER_SETS = {
    "heldout2_2026-12.jsonl": {"n": 883, "dispatched_share": 0.68, "urgent_wrong": 1, "ece": 0.09},
    "heldout3_2026-12.jsonl": {"n": 706, "dispatched_share": 0.72, "urgent_wrong": 0, "ece": 0.08},
}


@pytest.mark.parametrize("name", sorted(LATER_SETS))
def test_the_later_held_out_sets_hold_their_floors(name: str) -> None:
    floors, metrics = LATER_SETS[name], measured(HELDOUT.with_name(name))
    assert metrics["n"] == floors["n"]
    assert metrics["top1_department"] >= 0.90  # target 0.90
    assert metrics["top3_department"] >= 0.96  # target 0.97
    assert metrics["precision_dispatched_department"] >= 0.95  # target 0.95
    assert metrics["dispatched_share"] >= floors["dispatched_share"]  # target 0.75 (not met on either set)
    assert metrics["urgent"]["dispatched_wrong_without_a_person"] <= floors["urgent_wrong"]  # target 0
    assert metrics["calibration"]["ece"] <= floors["ece"]
    for channel in ("hotline", "wechat", "grid"):
        assert metrics["by_channel"][channel]["top1_department"] >= 0.88
