"""Calibration and routing-quality measures."""

from __future__ import annotations

from services.router.classification.metrics import Decided, calibration, summary


def row(score: float, right: bool, dispatched: bool = True, urgent: bool | None = False,
        channel: str = "hotline") -> Decided:
    return Decided(channel=channel, expected="A01.001", expected_owner="GRID",
                   top=("A01.001" if right else "A02.001", "A01.002", "A01.003"),
                   owners=("GRID" if right else "URBAN_MGMT", "COMMUNITY", "URBAN_MGMT"), score=score,
                   dispatched=dispatched, urgent_label=urgent, urgent_detected=bool(urgent))


def test_a_perfectly_calibrated_set_has_zero_ece() -> None:
    rows = [row(0.75, True)] * 3 + [row(0.75, False)]
    table = calibration(rows)
    assert table["ece"] == 0.0
    assert table["bins"] == [{"bin": "0.7-0.8", "n": 4, "confidence": 0.75, "accuracy": 0.75}]


def test_overconfidence_shows_as_ece() -> None:
    assert calibration([row(0.95, False), row(0.95, True)])["ece"] == 0.45


def test_summary_counts_dispatch_precision_top3_and_urgent_mistakes() -> None:
    rows = [row(0.9, True), row(0.9, False, urgent=True), row(0.3, True, dispatched=False, channel="wechat")]
    out = summary(rows)
    assert out["dispatched_share"] == round(2 / 3, 4)
    assert out["precision_dispatched_item"] == 0.5
    assert out["top3_department"] == round(2 / 3, 4)
    assert out["urgent"]["dispatched_wrong_without_a_person"] == 1  # type: ignore[index]
    assert set(out["by_channel"]) == {"hotline", "wechat"}  # type: ignore[arg-type]
