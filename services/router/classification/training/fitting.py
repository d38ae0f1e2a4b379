"""Fitting the ensemble on the development split: keyword weight and temperature (calibration by NLL),
then the thresholds (dispatch from the target precision, urgent, urgency head, assisting)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from services.router.classification import selective as selective_rule
from services.router.classification.corpus import LabelledText
from services.router.classification.ensemble import Assessment, Components, EnsembleClassifier
from services.router.classification.evaluate import build_engine, context_for, decided
from services.router.classification.knowledge import KnowledgeBase
from services.router.classification.metrics import Decided, summary
from services.router.classification.model import LinearModel
from services.router.classification.policy import LOCATIONAL, Thresholds, assisting
from services.router.classification.training import config, selective
from services.router.classification.urgency import danger_phrases
from services.router.domain.classify import Classifier
from services.router.domain.responsibility import ResponsibilityItem, ResponsibilityList

Judged = Sequence[tuple[LinearModel, Sequence[LabelledText]]]  # each model with the texts it did not see


def tune(judged: Judged, resp_list: ResponsibilityList,
         knowledge: KnowledgeBase | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """Settings fitted on the out-of-fold judgements of every (model, texts) pair together.

    Each text is featurised and scored once (`components`); the assist threshold and the report judge the
    same components at the tuned settings (what `assess` of the text again would give)."""
    keywords = Classifier(resp_list)  # pure once built; one for every fold's ensemble
    ensembles = [EnsembleClassifier(resp_list, keywords, model) for model, _ in judged]
    dev = [r for _, rows in judged for r in rows]
    owner_of = [e for e, (_, rows) in zip(ensembles, judged, strict=True) for _ in rows]
    parts = [e.components(r.text, None, context_for(r.channel)) for e, (_, rows) in zip(ensembles, judged, strict=True)
             for r in rows]
    codes = ensembles[0].codes
    truth = np.array([codes.index(r.item_code) for r in dev])
    log_p = np.stack([p.log_p for p in parts])
    keyword = np.stack([p.keyword_score for p in parts])
    allowed = np.stack([p.allowed for p in parts])
    best = (np.inf, 1.0, 1.0)
    for b in config.KEYWORD_WEIGHTS:
        for t in config.TEMPERATURES:
            q = _softmax(np.where(allowed, (log_p + b * keyword) / t, -np.inf))
            nll = float(-np.log(q[np.arange(len(dev)), truth] + 1e-9).mean())
            if nll < best[0] - 1e-12:
                best = (nll, b, t)
    _, weight, temperature = best
    q = _softmax(np.where(allowed, (log_p + weight * keyword) / temperature, -np.inf))
    top, score = q.argmax(axis=1), q.max(axis=1)
    owners = np.array([resp_list.by_code[c].owner for c in codes])
    right = owners[top] == owners[truth]  # dispatched to the right department (the measure)
    department_score = np.array([row[owners == owners[k]].sum() for row, k in zip(q, top, strict=True)])
    # Dispatch on the department's probability (Σ over its items) when that lets more texts through at the
    # target department precision than the top item's own probability does (the centre's question is who,
    # and a department sorts out which of its own items; README).
    by_item, by_department = _dispatch_threshold(score, right), _dispatch_threshold(department_score, right)
    on_department = (department_score >= by_department).mean() > (score >= by_item).mean()
    settings: dict[str, float] = {"keyword_weight": weight, "temperature": temperature,
                                  "dispatch_threshold": by_department if on_department else by_item,
                                  "dispatch_on_department": 1.0 if on_department else 0.0,
                                  "enquiry_probability": 0.5}
    curves = {"item": _curve(score, right), "department": _curve(department_score, right)}
    urgent_p = np.array([p.scores.urgent if p.scores is not None and p.scores.urgent is not None else 0.0
                         for p in parts])
    settings["urgent_probability"] = _urgency_threshold(urgent_p, dev)
    urgent_items = [model.urgent_items for model, rows in judged for _ in rows]
    detected = np.array([bool(danger_phrases(r.text)) or p >= settings["urgent_probability"] or codes[int(k)] in items
                         for r, p, k, items in zip(dev, urgent_p, top, urgent_items, strict=True)])
    urgent = detected | np.array([bool(r.urgent) for r in dev])
    for ensemble in ensembles:
        ensemble.keyword_weight, ensemble.temperature = weight, temperature
    rule_document, confidence = _dispatch_rule(owner_of, dev, parts, resp_list, (right, top == truth),
                                               ~detected, urgent, department_score if on_department else score)
    if rule_document is not None:
        settings["dispatch_threshold"] = float(rule_document["threshold"])  # type: ignore[arg-type]
    settings["urgent_threshold"] = selective.urgent_threshold(confidence[urgent & (top != truth)],
                                                              settings["dispatch_threshold"])
    if rule_document is not None and rule_document["nested_cv"]["urgent_detected_dispatched_wrong"]:  # type: ignore[index]
        settings["urgent_threshold"] = 1.01  # chosen so, nested, it dispatched an urgent text wrongly: never
    assessed = [e._assessment(p, settings["dispatch_threshold"]) for e, p in zip(owner_of, parts, strict=True)]
    settings["assist_threshold"] = _assist_threshold(owner_of, assessed, dev, resp_list)
    engines = {}
    for (model, _), ensemble in zip(judged, ensembles, strict=True):
        model.settings.update(settings)
        if rule_document is not None:
            model.document["dispatch_rule"] = rule_document
        engines[id(ensemble)] = build_engine(resp_list, model, knowledge or KnowledgeBase(()), Thresholds.of(settings),
                                             nearest=None, ensemble=ensemble)
    report_rows: list[Decided] = [decided(engines[id(e)], r.text, r.channel, r.item_code, r.urgent, a)
                                  for e, a, r in zip(owner_of, assessed, dev, strict=True)]
    report = summary(report_rows)
    brief = {k: report[k] for k in ("n", "top1_item", "top1_department", "top3_department", "dispatched_share",
                                     "precision_dispatched_item", "precision_dispatched_department")}
    brief["ece"] = report["calibration"]["ece"]  # type: ignore[index]
    brief["nll"] = round(best[0], 4)
    brief["urgent"] = report["urgent"]
    return settings, {"summary": report, "summary_brief": brief, "dispatch_curves": curves,
                      "dispatch_rule": rule_document}


def _dispatch_rule(owner_of: Sequence[EnsembleClassifier], dev: Sequence[LabelledText],
                   parts: Sequence[Components], resp_list: ResponsibilityList, right: tuple[np.ndarray, np.ndarray],
                   eligible: np.ndarray, urgent: np.ndarray,
                   baseline: np.ndarray) -> tuple[dict[str, object] | None, np.ndarray]:
    """The dispatch rule fitted on the out-of-fold judgements (selective.py), if nested cross-validation says
    it dispatches more than the department threshold at the target precision; and the confidence that is
    then judged for every text (the rule's probability, else `baseline`). `right`: department, item;
    `owner_of`: each text's fold ensemble."""
    evidence = np.array([
        selective_rule.evidence(e._assessment(p, 0.5), resp_list.by_code, r.channel, r.text)
        for e, p, r in zip(owner_of, parts, dev, strict=True)])
    department_right, item_right = right
    data = selective.Judged(evidence, department_right, eligible, np.array([r.fold for r in dev]),
                            np.array([r.channel for r in dev]), baseline, urgent, item_right)
    report = selective.nested(data)
    if not selective.ships(report):
        return None, baseline
    rule, chosen = selective.fit(data)
    return selective.document(rule, chosen, report), selective.probabilities(rule, evidence)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _curve(score: np.ndarray, right: np.ndarray) -> list[dict[str, float]]:
    """Dispatched share and department precision per threshold (the report's dispatch curve)."""
    out = []
    for t in config.THRESHOLDS[::5]:
        picked = score >= t
        out.append({"threshold": t, "share": round(float(picked.mean()), 4),
                    "precision": round(float(right[picked].mean()), 4) if picked.any() else 1.0})
    return out


def _dispatch_threshold(score: np.ndarray, right: np.ndarray) -> float:
    return selective.threshold(score, right, config.THRESHOLDS)


def _urgency_threshold(urgent_p: np.ndarray, dev: Sequence[LabelledText]) -> float:
    """The highest threshold of the urgency head that, with the danger lexicon, keeps the target recall."""
    labelled = [(bool(danger_phrases(r.text)), float(p)) for r, p in zip(dev, urgent_p, strict=True) if r.urgent]
    if not labelled or not urgent_p.any():
        return 0.5
    for t in config.URGENT_PROBABILITIES:
        if sum(lx or pr >= t for lx, pr in labelled) / len(labelled) >= config.URGENT_RECALL:
            return t
    return config.URGENT_PROBABILITIES[-1]


def _assist_threshold(owner_of: Sequence[EnsembleClassifier], assessed: Sequence[Assessment],
                      dev: Sequence[LabelledText], resp_list: ResponsibilityList) -> float:
    """Best F1 of assisting owners against the `also` labels (owners other than the lead's); `assessed`: each
    text's assessment by its fold ensemble `owner_of` at the tuned settings."""
    cases = [assist_case(e, a, r, resp_list) for e, a, r in zip(owner_of, assessed, dev, strict=True)]
    return best_assist([c for c in cases if c is not None], resp_list)


AssistCase = tuple[list[tuple[str, float]], ResponsibilityItem, set[str]]  # clauses' items, lead, wanted owners


def assist_case(ensemble: EnsembleClassifier, assessment: Assessment, r: LabelledText,
                resp_list: ResponsibilityList) -> AssistCase | None:
    top = assessment.classification.top
    if top is None:
        return None
    by_code = resp_list.by_code
    lead = by_code[top.item_code]
    wanted = {by_code[c].owner for c in r.also if c in by_code} - {lead.owner} - LOCATIONAL
    return ensemble.clause_items(assessment.vector), lead, wanted


def best_assist(cases: Sequence[AssistCase], resp_list: ResponsibilityList) -> float:
    if not any(w for _, _, w in cases):
        return 0.5
    by_code = resp_list.by_code
    best = (-1.0, 0.5)
    for t in config.ASSIST_THRESHOLDS:
        tp = fp = fn = 0
        for clauses, lead, wanted in cases:
            got = {i.owner for i in assisting(clauses, lead, by_code, t)}
            tp, fp, fn = tp + len(got & wanted), fp + len(got - wanted), fn + len(wanted - got)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best[0] + 1e-12:
            best = (f1, t)
    return best[1]
