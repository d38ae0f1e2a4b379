"""`python -m services.router classify FILE.jsonl` and the evaluation command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from services.router.classification import evaluate
from services.router.classification.decision import Engine
from services.router.commands import classify_lines

TODAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_classify_writes_outcome_urgency_and_three_candidates_per_line(engine: Engine) -> None:
    lines = [json.dumps({"text": "小区门口垃圾堆成山，好几天没人清运", "channel": "hotline"}, ensure_ascii=False),
             "", json.dumps({"text": "请问社保卡丢了怎么补办", "channel": "wechat", "appeal_type": "咨询"},
                            ensure_ascii=False)]
    out = list(classify_lines(engine, lines, TODAY))
    assert len(out) == 2
    assert out[0]["outcome"] in {"dispatch", "manual"} and out[0]["urgent"] is False
    assert len(out[0]["candidates"]) == 3
    assert set(out[0]["candidates"][0]) == {"item_code", "item_name", "owner", "score"}
    assert out[1]["outcome"] == "answered" and out[1]["answer"]["entry_id"] == "KB-D04-social-card"


def test_an_urgent_text_is_flagged(engine: Engine) -> None:
    line = json.dumps({"text": "3号楼电梯困人了，里面有个老人，快来", "channel": "wechat"}, ensure_ascii=False)
    (result,) = classify_lines(engine, [line], TODAY)
    assert result["urgent"] is True


def test_evaluate_prints_the_metrics_of_a_labelled_file(tmp_path: Path, capsys: object) -> None:
    rows = [{"text": "小区门口垃圾堆成山，好几天没人清运", "channel": "hotline", "expected": "A01.001"},
            {"text": "3号楼电梯困人了，里面有个老人", "channel": "wechat", "expected": "B02.004", "urgent": True}]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "metrics.json"
    assert evaluate.main([str(path), "--out", str(out)]) == 0
    metrics = json.loads(out.read_text(encoding="utf-8"))
    for key in ("top1_item", "top1_department", "top3_department", "dispatched_share",
                "precision_dispatched_item", "by_channel", "calibration", "urgent", "model_version"):
        assert key in metrics
    assert metrics["n"] == 2 and metrics["urgent"]["labelled"] == 1
