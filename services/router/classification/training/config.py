"""Hyper-parameters of `make train`, chosen on the development split (README: how they were chosen)."""

from __future__ import annotations

MIN_DF = 2  # a feature must occur in at least this many training texts
# inverse L2 strength of the item head; `training.tune` on dev: C 20 → top-1 0.8207, 60 → 0.8218, 150 → 0.826
# (NLL 1.294 / 1.277 / 1.266, dispatched 64.5 / 66.7 / 67.0 %); 60 kept (150 trains much slower)
C_ITEM = 60.0
C_BINARY = 5.0  # urgency and enquiry heads
PRUNE = 0.1  # weights smaller than this (absolute) are dropped from the artefact
TARGET_PRECISION = 0.95  # the default dispatch threshold: the lowest whose dev precision (department) reaches this
URGENT_RECALL = 0.97  # the urgency head's threshold keeps at least this recall on dev (with the lexicon)
# candidates, highest first; the last is the floor when none keeps URGENT_RECALL (0.15: out of fold 0.2 left one
# urgent text dispatched wrong, 0.15 none, for 0.4 points of dispatched share; 0.1 cost 2 points more)
URGENT_PROBABILITIES = (0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15)
KEYWORD_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0)
TEMPERATURES = tuple(round(0.1 + 0.05 * i, 2) for i in range(39))  # 0.10 … 2.00
THRESHOLDS = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))  # 0.30 … 0.99
ASSIST_THRESHOLDS = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.30 … 0.95
FOLDS = 5  # cross-validation folds for calibration and thresholds (`corpus.LabelledText.fold`)
C_RULE = 1.0  # the dispatch rule's logistic regression (8 features; 0.1 / 1 / 10 gave the same nested share ±0.1)
RULE_THRESHOLDS = tuple(round(0.30 + 0.005 * i, 3) for i in range(140))  # 0.300 … 0.995, on the rule's probability
WORKERS = 2  # processes fitting the heads (`training.fits`; the artefact is the same bytes for any number)
