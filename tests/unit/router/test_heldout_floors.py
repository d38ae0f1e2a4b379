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


# The second held-out set (README_heldout2.md): 883 texts by a separate author from the item names alone, kept
# outside the repository until artefact 2026.11-1+m4b53f368d8 was frozen, then evaluated once. Floors sit a
# little below what that artefact measured; the earlier artefact 2026.11-1+mc04b87fe61 measured on it (before
# it was committed) top-1 department 0.916, dispatched 67.7 % at 98.0 %, urgent dispatched wrong 1 of 102.
HELDOUT2 = HELDOUT.with_name("heldout2_2026-12.jsonl")


@pytest.fixture(scope="module")
def metrics2() -> dict[str, Any]:
    return measured(HELDOUT2)


def test_the_second_held_out_set_holds_its_floors(metrics2: dict[str, Any]) -> None:
    assert metrics2["n"] == 883
    assert metrics2["top1_department"] >= 0.90  # measured 0.920; target 0.90
    assert metrics2["top3_department"] >= 0.96  # measured 0.973; target 0.97
    assert metrics2["precision_dispatched_department"] >= 0.95  # measured 0.986; target 0.95
    assert metrics2["dispatched_share"] >= 0.68  # measured 0.711; target 0.75 (not met)
    assert metrics2["urgent"]["dispatched_wrong_without_a_person"] <= 1  # measured 1 of 102; target 0 (not met)
    assert metrics2["calibration"]["ece"] <= 0.09  # measured 0.067
    for channel in ("hotline", "wechat", "grid"):
        assert metrics2["by_channel"][channel]["top1_department"] >= 0.88  # measured 0.912-0.932


# The third held-out set (README_heldout3.md): 706 texts by another separate author from the item names alone,
# frozen outside the repository at 13:01 UTC on 2026-12-02, before artefact 2026.12-1+m30ca0a6a23 was trained;
# the served artefact before it (2026.11-1+m4b53f368d8) and that artefact were each evaluated on it once.
# Floors sit a little below what 2026.12-1+m30ca0a6a23 measured; nothing was tuned on the set afterwards.
HELDOUT3 = HELDOUT.with_name("heldout3_2026-12.jsonl")


@pytest.fixture(scope="module")
def metrics3() -> dict[str, Any]:
    return measured(HELDOUT3)


def test_the_third_held_out_set_holds_its_floors(metrics3: dict[str, Any]) -> None:
    assert metrics3["n"] == 706
    assert metrics3["top1_department"] >= 0.90  # measured 0.922; target 0.90
    assert metrics3["top3_department"] >= 0.96  # measured 0.972; target 0.97
    assert metrics3["precision_dispatched_department"] >= 0.95  # measured 0.981; target 0.95
    assert metrics3["dispatched_share"] >= 0.72  # measured 0.749 (529 of 706); target 0.75 (missed by one text)
    assert metrics3["urgent"]["dispatched_wrong_without_a_person"] == 0  # measured 0 of 75; target 0
    assert metrics3["calibration"]["ece"] <= 0.08  # measured 0.055
    for channel in ("hotline", "wechat", "grid"):
        assert metrics3["by_channel"][channel]["top1_department"] >= 0.86  # measured 0.887-0.941
