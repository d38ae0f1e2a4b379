"""Fitting the ensemble on the development split: keyword weight and temperature (calibration by NLL),
then the thresholds (dispatch from the target precision, urgent, urgency head, assisting)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from services.router.classification.corpus import LabelledText
from services.router.classification.ensemble import EnsembleClassifier
from services.router.classification.evaluate import build_engine, context_for, decided
from services.router.classification.knowledge import KnowledgeBase
from services.router.classification.metrics import summary
from services.router.classification.model import LinearModel
from services.router.classification.policy import LOCATIONAL, Thresholds, assisting
from services.router.classification.training import config
from services.router.classification.urgency import danger_phrases
from services.router.domain.classify import Classifier
from services.router.domain.responsibility import ResponsibilityList


def tune(model: LinearModel, resp_list: ResponsibilityList, dev: Sequence[LabelledText],
         knowledge: KnowledgeBase | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    ensemble = EnsembleClassifier(resp_list, Classifier(resp_list), model)
    parts = [ensemble.components(r.text, None, context_for(r.channel)) for r in dev]
    truth = np.array([ensemble.codes.index(r.item_code) for r in dev])
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
    owners = np.array([resp_list.by_code[c].owner for c in ensemble.codes])
    right = owners[top] == owners[truth]  # dispatched to the right department (the measure)
    settings: dict[str, float] = {"keyword_weight": weight, "temperature": temperature,
                                  "dispatch_threshold": _dispatch_threshold(score, right),
                                  "enquiry_probability": 0.5}
    settings["urgent_probability"] = _urgency_threshold(model, dev)
    urgent = np.array([_urgent(model, r.text, settings["urgent_probability"]) or bool(r.urgent)
                       or ensemble.codes[int(k)] in model.urgent_items for r, k in zip(dev, top, strict=True)])
    wrong_urgent = score[urgent & (top != truth)]
    highest_wrong = float(wrong_urgent.max()) if len(wrong_urgent) else 0.0
    settings["urgent_threshold"] = round(min(1.01, max(settings["dispatch_threshold"] + 0.1, highest_wrong + 0.02)), 2)
    ensemble.keyword_weight, ensemble.temperature = weight, temperature
    settings["assist_threshold"] = _assist_threshold(ensemble, resp_list, dev, settings)
    model.settings.update(settings)
    engine = build_engine(resp_list, model, knowledge or KnowledgeBase(()), Thresholds.of(settings), nearest=None)
    rows = [decided(engine, r.text, r.channel, r.item_code, r.urgent) for r in dev]
    report = summary(rows)
    brief = {k: report[k] for k in ("n", "top1_item", "top1_department", "top3_department", "dispatched_share",
                                     "precision_dispatched_item", "precision_dispatched_department")}
    brief["ece"] = report["calibration"]["ece"]  # type: ignore[index]
    brief["nll"] = round(best[0], 4)
    return settings, {"summary": report, "summary_brief": brief}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _dispatch_threshold(score: np.ndarray, right: np.ndarray) -> float:
    """The lowest threshold whose dev precision (among texts at or above it) reaches the target."""
    for t in config.THRESHOLDS:
        picked = score >= t
        if picked.sum() >= 20 and right[picked].mean() >= config.TARGET_PRECISION:
            return t
    return config.THRESHOLDS[-1]


def _urgent(model: LinearModel, text: str, threshold: float) -> bool:
    if danger_phrases(text):
        return True
    return "urgent" in model.heads and model.probability("urgent", model.vector(text)) >= threshold


def _urgency_threshold(model: LinearModel, dev: Sequence[LabelledText]) -> float:
    labelled = [r for r in dev if r.urgent]
    if "urgent" not in model.heads or not labelled:
        return 0.5
    lexicon = [bool(danger_phrases(r.text)) for r in labelled]
    p = [model.probability("urgent", model.vector(r.text)) for r in labelled]
    for t in (0.6, 0.5, 0.4, 0.3, 0.25, 0.2):
        if sum(lx or pr >= t for lx, pr in zip(lexicon, p, strict=True)) / len(labelled) >= config.URGENT_RECALL:
            return t
    return 0.2


def _assist_threshold(ensemble: EnsembleClassifier, resp_list: ResponsibilityList, dev: Sequence[LabelledText],
                      settings: dict[str, float]) -> float:
    """Best F1 of assisting owners against the `also` labels (owners other than the lead's)."""
    by_code = resp_list.by_code
    cases = []
    for r in dev:
        assessed = ensemble.assess(r.text, None, context_for(r.channel), settings["dispatch_threshold"])
        top = assessed.classification.top
        if top is None:
            continue
        lead = by_code[top.item_code]
        wanted = {by_code[c].owner for c in r.also if c in by_code} - {lead.owner} - LOCATIONAL
        cases.append((ensemble.clause_items(assessed.vector), lead, wanted))
    if not any(w for _, _, w in cases):
        return 0.5
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
