"""`make train` = `python -m services.router.classification.training.train`: the artefact from the corpus.

Deterministic: sorted inputs, a split on text hashes, single-threaded BLAS, rounded numbers, sorted JSON.
Prints the development-split metrics; writes `services/router/data/model/classifier.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from services.router.classification import corpus
from services.router.classification.features import Featuriser
from services.router.classification.model import FORMAT, LinearModel
from services.router.classification.training import config, fits, fitting
from services.router.domain.departments import DEPARTMENT_CODES
from services.router.domain.responsibility import ResponsibilityList, load_responsibility_list

ROOT = corpus.ROOT
LIST_DIR = ROOT / "services" / "router" / "data" / "responsibility_list"
MODEL_PATH = ROOT / "services" / "router" / "data" / "model" / "classifier.json"


def build(paths: list[Path], list_dir: Path = LIST_DIR, folds: int = config.FOLDS,
          workers: int = config.WORKERS) -> tuple[dict[str, Any], dict[str, Any]]:
    """The artefact document and the cross-validated report.

    Every text is judged once by a model that did not see it (`folds` models, each trained on the other
    folds; fold = sha256(text) mod 5, fold 0 is the old development split); the ensemble's calibration
    and every threshold are fitted on those out-of-fold judgements of the whole corpus. The served
    model is then trained on all texts. `folds=1` keeps the old single split (dev = fold 0): faster, for
    tests on small data. The heads are fitted in `workers` processes (fits.py); the bytes do not depend
    on how many."""
    rows = list(corpus.read(paths))
    resp_list = load_responsibility_list(list_dir, DEPARTMENT_CODES)
    known = set(resp_list.by_code)
    rows = [r for r in rows if r.item_code in known]
    featuriser = Featuriser()
    terms = [featuriser.terms(r.text) for r in rows]  # featurised once for every training set
    fold_of = [r.fold for r in rows]
    sets: list[list[int]] = []
    held: list[list[corpus.LabelledText]] = []
    for k in range(max(folds, 1)):
        inside = [i for i, f in enumerate(fold_of) if f != k]
        outside = [rows[i] for i, f in enumerate(fold_of) if f == k]
        if outside and inside:
            sets.append(inside)
            held.append(outside)
    if folds > 1:
        sets.append(list(range(len(rows))))  # the served model: every text
    digests = {corpus._relative(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    with fits.Fits(rows, terms, sets, workers) as fitted:
        judged: list[tuple[LinearModel, list[corpus.LabelledText]]] = [
            (LinearModel(_document(resp_list, [rows[i] for i in sets[j]], *fitted.heads(j), digests, len(outside)),
                         featuriser), outside)
            for j, outside in enumerate(held)]
        settings, report = fitting.tune(judged, resp_list)
        document = _document(resp_list, rows, *fitted.heads(len(held)), digests, len(rows)) if folds > 1 \
            else judged[0][0].document
    document["settings"] = settings
    if report["dispatch_rule"] is not None:
        document["dispatch_rule"] = report["dispatch_rule"]
    document["corpus"]["cross_validation"] = f"{folds} folds" if folds > 1 else "one split (fold 0)"
    document["dev_report"] = report["summary_brief"]
    body = json.dumps(document, ensure_ascii=False, sort_keys=True)
    document["version"] = f"{resp_list.version}+m{hashlib.sha256(body.encode()).hexdigest()[:10]}"
    return document, report


def _document(resp_list: ResponsibilityList, train: list[corpus.LabelledText], vocabulary: fits.Vocabulary,
              heads: dict[str, dict[str, Any]], digests: dict[str, str], held: int) -> dict[str, Any]:
    """An artefact (without tuned settings) of heads trained on `train`; `held` texts were kept out of it."""
    return {
        "urgent_items": _urgent_items(train),
        "format": FORMAT, "list_version": resp_list.version, "vocabulary": vocabulary.terms, "idf": vocabulary.idf,
        "heads": heads, "settings": {"keyword_weight": 1.0, "temperature": 1.0},
        "corpus": {"files": dict(digests), "train": len(train), "dev": held, "dev_share": f"1/{corpus.DEV_SHARE}"},
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
    parser.add_argument("--workers", type=int, default=config.WORKERS,
                        help="processes fitting the heads (the artefact is the same for any number)")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1):
        document, report = build(corpus.corpus_files(args.training_dir), folds=args.folds, workers=args.workers)
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
