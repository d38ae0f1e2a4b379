"""Fitting the linear heads (scikit-learn) and writing them as quantised sparse JSON."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from services.router.classification.features import vectorise

_LEVELS = 32000  # weights are stored as integers in ±_LEVELS × scale


def matrix(terms: Sequence[dict[str, int]], vocabulary: dict[str, int], idf: list[float]) -> sp.csr_matrix:
    idf_array = np.asarray(idf, dtype=np.float64)
    rows = [vectorise(t, vocabulary, idf_array) for t in terms]
    indptr = np.concatenate([[0], np.cumsum([len(i) for i, _ in rows])])
    indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, dtype=np.intp)
    data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
    return sp.csr_matrix((data, indices.astype(np.int32), indptr), shape=(len(terms), len(vocabulary)))


def fit(x: sp.csr_matrix, labels: Sequence[str], c: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes, weights (features × K; K = 1 for two classes) and biases."""
    model = LogisticRegression(C=c, max_iter=3000, tol=1e-6, solver="lbfgs")
    model.fit(x, np.asarray(labels))
    classes = [str(c) for c in model.classes_]
    return classes, model.coef_.T.copy(), model.intercept_.copy()


def encode(classes: Sequence[str], weights: np.ndarray, bias: np.ndarray, prune: float) -> dict[str, Any]:
    scale = float(np.abs(weights).max()) / _LEVELS or 1.0
    scale = float(f"{scale:.6e}")
    q = np.rint(weights / scale).astype(np.int64)
    q[np.abs(weights) < prune] = 0
    rows, cols = np.nonzero(q)
    return {"classes": list(classes), "scale": scale, "bias": [round(float(b), 6) for b in bias],
            "rows": _b64(rows.astype("<u4")), "cols": _b64(cols.astype("<u2")), "q": _b64(q[rows, cols].astype("<i2"))}


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(values.tobytes()).decode("ascii")
