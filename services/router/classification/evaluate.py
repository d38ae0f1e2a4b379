"""`python -m services.router.classification.evaluate FILE.jsonl [--out metrics.json]`: routing quality.

Reads lines `{"text", "channel", "expected" (item code), "urgent"?}` and prints JSON metrics at the
default threshold: top-1 item, top-1/top-3 department (owner), dispatched share and precision among
dispatched, by channel, urgent texts dispatched wrong without a person, reliability table and ECE.
Evaluation only reads the committed artefact; it never trains or tunes.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, time
from pathlib import Path

from schemas.common import Channel, Urgency
from services.router.classification.decision import Engine, TextRequest, decide_assessed
from services.router.classification.ensemble import Assessment, EnsembleClassifier
from services.router.classification.knowledge import KnowledgeBase
from services.router.classification.metrics import Decided, summary
from services.router.classification.model import LinearModel
from services.router.classification.nearest import NearestExamples
from services.router.classification.policy import Thresholds
from services.router.classification.selective import DispatchRule
from services.router.domain.classify import Classifier, ClassifyContext
from services.router.domain.responsibility import ResponsibilityList

DAYTIME = time(10, 0)
EVALUATION_DAY = date(2026, 12, 1)


def context_for(channel: str) -> ClassifyContext:
    return ClassifyContext(channel=Channel(channel), grid_kind=None, dedicated_type=None, urgency=Urgency.NORMAL,
                           local_time=DAYTIME)


def build_engine(resp_list: ResponsibilityList, model: LinearModel | None, knowledge: KnowledgeBase,
                 thresholds: Thresholds, nearest: NearestExamples | None,
                 ensemble: EnsembleClassifier | None = None) -> Engine:
    """`ensemble`: one already built on this list and `model` (training's, at the tuned settings)."""
    if ensemble is None:
        ensemble = EnsembleClassifier(resp_list, Classifier(resp_list), model, nearest)
    rule = DispatchRule.of(model.document.get("dispatch_rule")) if model is not None else None
    return Engine(resp_list, ensemble, knowledge, thresholds, rule)


def decided(engine: Engine, text: str, channel: str, expected: str, urgent: bool | None,
            assessment: Assessment | None = None) -> Decided:
    """`assessment`: the text's, by `engine.ensemble` at its dispatch threshold, if already made (training)."""
    request = TextRequest(text, None, context_for(channel), appeal_type=None, reported_urgent=False,
                          day=EVALUATION_DAY)
    if assessment is None:
        assessment = engine.ensemble.assess(text, None, request.context, engine.thresholds.dispatch)
    decision = decide_assessed(engine, request, assessment)  # = decide_text
    by_code = engine.responsibility_list.by_code
    top = tuple(c.item_code for c in decision.assessment.classification.candidates[:3])
    score = decision.assessment.classification.top.score if decision.assessment.classification.top else 0.0
    return Decided(channel=channel, expected=expected, expected_owner=by_code[expected].owner if expected in by_code
                   else "?", top=top, owners=tuple(by_code[c].owner for c in top), score=score,
                   dispatched=decision.outcome == "dispatch", urgent_label=urgent,
                   urgent_detected=decision.urgency.urgent)


def main(argv: list[str] | None = None) -> int:
    from services.router.settings import RouterSettings
    from services.router.tables import load_engine

    parser = argparse.ArgumentParser(prog="python -m services.router.classification.evaluate")
    parser.add_argument("file", type=Path)
    parser.add_argument("--out", type=Path, help="also write the metrics JSON here")
    args = parser.parse_args(argv)
    engine = load_engine(RouterSettings(), nearest=False)
    rows = []
    for line in args.file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append(decided(engine, row["text"], row.get("channel", "hotline"), row["expected"],
                                row.get("urgent")))
    report = {"file": str(args.file), "model_version": engine.model_version,
              "list_version": engine.responsibility_list.version,
              "dispatch_threshold": engine.thresholds.dispatch, "urgent_threshold": engine.thresholds.urgent,
              **summary(rows)}
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
