"""The trained artefact (`data/model/classifier.json`) as a scorer: vocabulary, idf and linear heads.

The file is plain JSON (no pickle): weights are 16-bit integers times a per-head scale, stored sparse
(feature index u32, class u16, weight i16, little-endian, base64), so the bytes are deterministic and
the file is small. Serving needs only numpy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.router.classification.features import Featuriser, normalise, span_terms, vectorise

FORMAT = "gridline-linear-v1"
Floats = npt.NDArray[np.float64]


class ArtefactError(ValueError):
    """The model file is missing, malformed or of another format."""


@dataclass(frozen=True)
class Head:
    """One linear head: K classes (K = 1 means a single sigmoid output)."""

    classes: tuple[str, ...]
    weights: npt.NDArray[np.float32]  # features × K
    bias: Floats

    def logits(self, indices: list[int], values: list[float]) -> Floats:
        if not indices:
            return self.bias.copy()
        rows = self.weights[np.asarray(indices, dtype=np.intp)]
        return np.asarray(values, dtype=np.float64) @ rows + self.bias

    def strongest(self, indices: list[int], values: list[float], k: int, limit: int) -> list[tuple[int, float]]:
        """Features that pushed class k up most: (feature index, contribution)."""
        if not indices:
            return []
        contributions = np.asarray(values) * self.weights[np.asarray(indices, dtype=np.intp), k]
        order = np.argsort(-contributions, kind="stable")[:limit]
        return [(indices[int(i)], float(contributions[i])) for i in order if contributions[i] > 0]


@dataclass(frozen=True)
class Vector:
    terms: dict[str, int]
    indices: list[int]
    values: list[float]
    clean: str = ""  # the normalised text
    words: tuple[tuple[int, str], ...] = ()  # its jieba words with offsets (clauses reuse them)


class LinearModel:
    """Item head (softmax), urgency and enquiry heads (sigmoid), and the tuned ensemble settings."""

    def __init__(self, document: dict[str, Any], featuriser: Featuriser | None = None) -> None:
        if document.get("format") != FORMAT:
            raise ArtefactError(f"model format {document.get('format')!r}, expected {FORMAT!r}")
        self.document = document
        self.version: str = document["version"]
        self.list_version: str = document["list_version"]
        self.vocabulary_list: list[str] = document["vocabulary"]
        self.vocabulary = {term: i for i, term in enumerate(self.vocabulary_list)}
        self.idf = [q / 1000.0 for q in document["idf"]]
        self.heads = {name: _head(spec, len(self.vocabulary_list)) for name, spec in document["heads"].items()}
        self.settings: dict[str, float] = document["settings"]
        self.corpus: dict[str, Any] = document.get("corpus", {})
        self.urgent_items: frozenset[str] = frozenset(document.get("urgent_items", ()))
        self._featuriser = featuriser or Featuriser()

    def vector(self, text: str) -> Vector:
        clean = normalise(text)
        words = tuple(self._featuriser.words(clean))
        terms = span_terms(clean, words, 0, len(clean))
        indices, values = vectorise(terms, self.vocabulary, self.idf)
        return Vector(dict(terms), indices, values, clean, words)

    def span_vector(self, vector: Vector, start: int, end: int) -> Vector:
        """The vector of a part of an already featurised text."""
        terms = span_terms(vector.clean, vector.words, start, end)
        indices, values = vectorise(terms, self.vocabulary, self.idf)
        return Vector(dict(terms), indices, values)

    def item_probabilities(self, vector: Vector) -> dict[str, float]:
        logits = self.heads["item"].logits(vector.indices, vector.values)
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        return dict(zip(self.heads["item"].classes, (float(x) for x in p), strict=True))

    def probability(self, head: str, vector: Vector) -> float:
        z = float(self.heads[head].logits(vector.indices, vector.values)[0])
        return 1.0 / (1.0 + math.exp(-z))

    def strongest_features(self, vector: Vector, item_code: str, limit: int = 5) -> list[dict[str, object]]:
        head = self.heads["item"]
        k = head.classes.index(item_code) if item_code in head.classes else -1
        if k < 0:
            return []
        return [{"feature": self.vocabulary_list[i], "weight": round(c, 3)}
                for i, c in head.strongest(vector.indices, vector.values, k, limit)]


def _head(spec: dict[str, Any], n_features: int) -> Head:
    classes = tuple(spec["classes"])
    weights = np.zeros((n_features, len(classes)), dtype=np.float32)
    rows = np.frombuffer(base64.b64decode(spec["rows"]), dtype="<u4").astype(np.intp)
    cols = np.frombuffer(base64.b64decode(spec["cols"]), dtype="<u2").astype(np.intp)
    q = np.frombuffer(base64.b64decode(spec["q"]), dtype="<i2").astype(np.float64)
    weights[rows, cols] = q * spec["scale"]
    return Head(classes, weights, np.asarray(spec["bias"], dtype=np.float64))


def load_model(path: Path, featuriser: Featuriser | None = None) -> LinearModel:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtefactError(f"{path}: {exc}") from exc
    return LinearModel(document, featuriser)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
