"""`make train` = `python -m services.router.classification.training.train`: the artefact from the corpus.

Deterministic: sorted inputs, a split on text hashes, single-threaded BLAS, rounded numbers, sorted JSON.
Prints the development-split metrics; writes `services/router/data/model/classifier.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from services.router.classification import corpus
from services.router.classification.features import Featuriser
from services.router.classification.model import FORMAT, LinearModel
from services.router.classification.training import config, fitting
from services.router.classification.training.heads import encode, fit, matrix
from services.router.domain.departments import DEPARTMENT_CODES
from services.router.domain.responsibility import ResponsibilityList, load_responsibility_list

ROOT = corpus.ROOT
LIST_DIR = ROOT / "services" / "router" / "data" / "responsibility_list"
MODEL_PATH = ROOT / "services" / "router" / "data" / "model" / "classifier.json"


def build(paths: list[Path], list_dir: Path = LIST_DIR,
          folds: int = config.FOLDS) -> tuple[dict[str, Any], dict[str, Any]]:
    """The artefact document and the cross-validated report.

    Every text is judged once by a model that did not see it (`folds` models, each trained on the other
    folds; fold = sha256(text) mod 5, fold 0 is the old development split); the ensemble's calibration
    and every threshold are fitted on those out-of-fold judgements of the whole corpus. The served
    model is then trained on all texts. `folds=1` keeps the old single split (dev = fold 0): faster, for
    tests on small data."""
    rows = list(corpus.read(paths))
    resp_list = load_responsibility_list(list_dir, DEPARTMENT_CODES)
    known = set(resp_list.by_code)
    rows = [r for r in rows if r.item_code in known]
    featuriser = Featuriser()
    terms = [featuriser.terms(r.text) for r in rows]
    fold_of = [r.fold for r in rows]
    judged: list[tuple[LinearModel, list[corpus.LabelledText]]] = []
    for k in range(max(folds, 1)):
        inside = [i for i, f in enumerate(fold_of) if f != k]
        outside = [rows[i] for i, f in enumerate(fold_of) if f == k]
        if outside and inside:
            fold_model = LinearModel(_document(resp_list, [rows[i] for i in inside], [terms[i] for i in inside],
                                               paths, len(outside)), featuriser)
            judged.append((fold_model, outside))
    document = _document(resp_list, rows, terms, paths, len(rows)) if folds > 1 else judged[0][0].document
    settings, report = fitting.tune(judged, resp_list)
    document["settings"] = settings
    if report["dispatch_rule"] is not None:
        document["dispatch_rule"] = report["dispatch_rule"]
    document["corpus"]["cross_validation"] = f"{folds} folds" if folds > 1 else "one split (fold 0)"
    document["dev_report"] = report["summary_brief"]
    body = json.dumps(document, ensure_ascii=False, sort_keys=True)
    document["version"] = f"{resp_list.version}+m{hashlib.sha256(body.encode()).hexdigest()[:10]}"
    return document, report


def _document(resp_list: ResponsibilityList, train: list[corpus.LabelledText], train_terms: list[Counter[str]],
              paths: list[Path], held: int) -> dict[str, Any]:
    """An artefact (without tuned settings) trained on `train`; `held` texts were kept out of it."""
    df: Counter[str] = Counter()
    for t in train_terms:
        df.update(t.keys())
    vocabulary_list = sorted(term for term, n in df.items() if n >= config.MIN_DF)
    vocabulary = {term: i for i, term in enumerate(vocabulary_list)}
    idf_q = [round(1000 * (math.log((1 + len(train)) / (1 + df[t])) + 1)) for t in vocabulary_list]
    idf = [q / 1000 for q in idf_q]
    x = matrix(train_terms, vocabulary, idf)
    heads = {"item": encode(*fit(x, [r.item_code for r in train], config.C_ITEM), prune=config.PRUNE)}
    binary = {"urgent": [r.urgent for r in train],
              "enquiry": [None if r.appeal_type is None else r.appeal_type == "咨询" for r in train]}
    for name, labels in binary.items():
        labelled = [(i, v) for i, v in enumerate(labels) if v is not None]
        if len({v for _, v in labelled}) == 2:
            index = [i for i, _ in labelled]
            _, w, b = fit(x[index], ["yes" if v else "no" for _, v in labelled], config.C_BINARY)
            heads[name] = encode(["yes"], w, b, prune=config.PRUNE)
    return {
        "urgent_items": _urgent_items(train),
        "format": FORMAT, "list_version": resp_list.version, "vocabulary": vocabulary_list, "idf": idf_q,
        "heads": heads, "settings": {"keyword_weight": 1.0, "temperature": 1.0},
        "corpus": {"files": {corpus._relative(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths},
                   "train": len(train), "dev": held, "dev_share": f"1/{corpus.DEV_SHARE}"},
        "version": "unversioned",
    }


def _urgent_items(train: list[corpus.LabelledText]) -> list[str]:
    """Items whose labelled training texts are mostly urgent (at least 5 labelled, over half urgent)."""
    labelled: dict[str, list[bool]] = {}
    for r in train:
        if r.urgent is not None:
            labelled.setdefault(r.item_code, []).append(r.urgent)
    return sorted(code for code, flags in labelled.items() if len(flags) >= 5 and sum(flags) / len(flags) > 0.5)


def dump(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.router.classification.training.train")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--training-dir", type=Path, default=corpus.TRAINING_DIR)
    parser.add_argument("--report", type=Path, help="also write the full cross-validated report (JSON) here")
    parser.add_argument("--folds", type=int, default=config.FOLDS, help="1: the single dev split (faster)")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1):
        document, report = build(corpus.corpus_files(args.training_dir), folds=args.folds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(dump(document))
    if args.report:
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({"version": document["version"], "bytes": args.out.stat().st_size,
                      "settings": document["settings"], "dev": report["summary_brief"]},
                     ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
