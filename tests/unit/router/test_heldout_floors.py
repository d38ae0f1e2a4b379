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
    assert metrics["top1_department"] >= 0.90  # 2026.12-1+m9b7c2d777a measured 0.938; target 0.90
    assert metrics["top3_department"] >= 0.96  # measured 0.977; target 0.97


def test_what_is_dispatched_without_a_person_stays_right(metrics: dict[str, Any]) -> None:
    assert metrics["precision_dispatched_department"] >= 0.95  # measured 0.979; target 0.95
    assert metrics["dispatched_share"] >= 0.73  # measured 0.745; target 0.75


@pytest.mark.parametrize("channel", ["hotline", "wechat", "grid"])
def test_every_register_holds_its_floor(metrics: dict[str, Any], channel: str) -> None:
    assert metrics["by_channel"][channel]["top1_department"] >= 0.88  # measured 0.923-0.953


def test_urgent_texts_dispatched_wrong_without_a_person_do_not_grow(metrics: dict[str, Any]) -> None:
    # Target 0; the first frozen artefact measured 2 of 86, 2026.12-1+m7a1d0d4c03 1 of 86, 2026.12-1+m63b1bc68a7
    # 0 of 86, 2026.12-1+m9b7c2d777a 0 of 86 (its urgency figure is not clean: README, set 2's note) (missed by the
    # urgency detector). Not tuned away on this set: fix the detector on other data, then lower this.
    assert metrics["urgent"]["dispatched_wrong_without_a_person"] <= 1


def test_confidence_stays_calibrated(metrics: dict[str, Any]) -> None:
    assert metrics["calibration"]["ece"] <= 0.08  # measured 0.040


# The later held-out sets, each by a separate author from the item names alone, kept outside the repository
# until an artefact was frozen, then evaluated once per artefact (tests/data/heldout/README.md). Floors sit a
# little below what the served artefact measured; nothing was tuned on them.
# - set 2 (README_heldout2.md, 883 texts): 2026.11-1+m4b53f368d8 measured top-1 department 0.920, top-3 0.973,
#   dispatched 71.1 % at 98.6 %, urgent wrong 1 of 102; 2026.12-1+m2b75ad8a4f 0.933, 0.973, 75.5 % at 98.1 %,
#   urgent wrong 1; the served 2026.12-1+m7a1d0d4c03 0.933, 0.972, 75.0 % at 98.0 %, urgent wrong 0, ECE 0.049.
# - set 3 (README_heldout3.md, 706 texts): 2026.12-1+m30ca0a6a23 measured 0.922, 0.972, 74.9 % at 98.1 %,
#   urgent wrong 0 of 75; 2026.12-1+m2b75ad8a4f 0.925, 0.976, 77.6 %, urgent wrong 1; the served
#   2026.12-1+m7a1d0d4c03 0.925, 0.973, 76.2 % at 98.0 %, urgent wrong 0, ECE 0.046.
# - set 4 (README_heldout4.md, 1,346 texts by two authors), frozen before 2026.12-1+m2b75ad8a4f was trained:
#   it measured 0.938, 0.974, 75.8 % at 97.6 %, urgent wrong 0 of 126; the served 2026.12-1+m7a1d0d4c03 0.936,
#   0.973, 74.9 % at 97.6 %, urgent wrong 0, ECE 0.045, by channel top-1 department 0.920-0.960.
# - set 5 (README_heldout5.md, 755 texts), frozen before 2026.12-1+m7a1d0d4c03 was trained: it measured 0.907,
#   0.964 (target 0.97, not met), 72.3 % (target 75 %, not met) at 96.9 %, urgent wrong 0 of 89, ECE 0.061,
#   by channel top-1 department 0.893-0.918.
# - every set with 2026.12-1+m63b1bc68a7 (+ 1,500 training texts by authors 6 and 7, who saw no held-out set):
#   set 2 0.934 / 0.974 / 74.9 % at 98.3 % / urgent wrong 0; set 3 0.933 / 0.976 / 76.8 % at 98.2 % / 0;
#   set 4 0.942 / 0.972 / 74.7 % at 98.0 % / 0; set 5 0.911 / 0.963 / 72.6 % at 97.8 % / 0 of 89.
# - set 6 (README_heldout6.md, 840 texts by two authors), frozen before 2026.12-1+m63b1bc68a7 was trained: the
#   served-before 2026.12-1+m7a1d0d4c03 measured 0.944, 0.976, 77.6 % at 98.6 %, urgent wrong 1 of 79; the served
#   2026.12-1+m63b1bc68a7 0.950, 0.977, 78.3 % at 99.1 %, urgent wrong 0 of 79, ECE 0.033, by channel top-1
#   department 0.896-0.982.
# - set 7 (README_heldout7.md, 840 texts by two authors, 2026-12-04), written after 2026.12-1+m63b1bc68a7 was
#   served: it measured 0.944, 0.971, 77.1 % at 98.3 %, urgent wrong 2 of 82 (target 0, missed: 4 urgent texts
#   not detected, 2 of them dispatched to a wrong item), ECE 0.032, by channel top-1 department 0.909-0.982.
# - set 8 (README_heldout8.md, 840 texts by two authors), frozen before 2026.12-1+m9b7c2d777a was trained:
#   m63b1bc68a7 measured 0.946, 0.970, 78.9 % at 97.9 %, urgent wrong 0 of 81, ECE 0.038.
# - every set with the served 2026.12-1+m9b7c2d777a (+ 1,171 training texts by authors 8 and 9, who saw no
#   held-out set; its dispatch rule ships, threshold 0.675): set 1 0.938 / 0.977 / 74.5 % at 97.9 % / 0;
#   set 2 0.932 / 0.973 / 75.7 % at 97.9 % / 0; set 3 0.933 / 0.973 / 78.1 % at 97.8 % / 0; set 4 0.941 / 0.973 /
#   76.0 % at 97.7 % / 0; set 5 0.915 / 0.962 / 74.4 % at 97.0 % / 0; set 6 0.951 / 0.979 / 80.1 % at 98.5 % / 0;
#   set 7 0.942 / 0.968 / 78.5 % at 98.3 % / 1 of 82 (its urgency figure not fully clean); set 8, the clean one,
#   0.948 / 0.973 / 79.3 % at 97.9 % / 0 of 81, ECE 0.035, by channel top-1 department 0.924-0.962.
#   Not tuned away on any set: the floors keep them from getting worse.
LATER_SETS = {
    "heldout2_2026-12.jsonl": {"n": 883, "dispatched_share": 0.74, "urgent_wrong": 0, "ece": 0.08},
    "heldout3_2026-12.jsonl": {"n": 706, "dispatched_share": 0.76, "urgent_wrong": 0, "ece": 0.08},
    "heldout4_2026-12.jsonl": {"n": 1346, "dispatched_share": 0.74, "urgent_wrong": 0, "ece": 0.08},
    "heldout5_2026-12.jsonl": {"n": 755, "dispatched_share": 0.72, "urgent_wrong": 0, "ece": 0.09},
    "heldout6_2026-12.jsonl": {"n": 840, "dispatched_share": 0.78, "urgent_wrong": 0, "ece": 0.06},
    "heldout7_2026-12.jsonl": {"n": 840, "dispatched_share": 0.76, "urgent_wrong": 1, "ece": 0.06},
    "heldout8_2026-12.jsonl": {"n": 840, "dispatched_share": 0.77, "urgent_wrong": 0, "ece": 0.06},
}


@pytest.mark.parametrize("name", sorted(LATER_SETS))
def test_the_later_held_out_sets_hold_their_floors(name: str) -> None:
    floors, metrics = LATER_SETS[name], measured(HELDOUT.with_name(name))
    assert metrics["n"] == floors["n"]
    assert metrics["top1_department"] >= 0.90  # target 0.90
    assert metrics["top3_department"] >= 0.96  # target 0.97
    assert metrics["precision_dispatched_department"] >= 0.95  # target 0.95
    assert metrics["dispatched_share"] >= floors["dispatched_share"]  # target 0.75
    assert metrics["urgent"]["dispatched_wrong_without_a_person"] <= floors["urgent_wrong"]  # target 0
    assert metrics["calibration"]["ece"] <= floors["ece"]
    for channel in ("hotline", "wechat", "grid"):
        assert metrics["by_channel"][channel]["top1_department"] >= 0.88
