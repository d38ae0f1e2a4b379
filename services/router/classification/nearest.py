"""Nearest labelled examples (cosine over the model's features) of an item, shown in explanations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from services.router.classification.corpus import LabelledText
from services.router.classification.model import LinearModel, Vector

_SHOWN = 3
_TEXT_CHARS = 60


class NearestExamples:
    """Per item, a dense matrix of its examples over the features they use (small: ~30–90 texts each)."""

    def __init__(self, model: LinearModel, examples: Iterable[LabelledText]) -> None:
        grouped: dict[str, list[LabelledText]] = defaultdict(list)
        for example in examples:
            grouped[example.item_code].append(example)
        self._items: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.float32], list[str]]] = {}
        for code, texts in grouped.items():
            vectors = [model.vector(t.text) for t in texts]
            columns = np.unique(np.concatenate([v.indices for v in vectors])) if vectors else np.zeros(0, np.intp)
            matrix = np.zeros((len(texts), len(columns)), dtype=np.float32)
            for row, v in enumerate(vectors):
                matrix[row, np.searchsorted(columns, v.indices)] = v.values
            # stored feature-major: a text's shared features are then whole rows (a fast gather), and the
            # transposed gather is the same Fortran-ordered block `matrix[:, at]` gives, so the same product
            self._items[code] = (columns.astype(np.intp), np.ascontiguousarray(matrix.T),
                                 [t.text[:_TEXT_CHARS] for t in texts])

    def nearest(self, vector: Vector, item_code: str) -> list[dict[str, object]]:
        similarity = self.similarity(vector, item_code)
        if similarity is None:
            return []
        texts = self._items[item_code][2]
        order = (-similarity).argsort(kind="stable")[:_SHOWN]
        return [{"text": texts[int(i)], "similarity": round(float(similarity[i]), 3)} for i in order]

    def similarity(self, vector: Vector, item_code: str) -> npt.NDArray[np.float32] | None:
        """Cosine of the text with each example of the item (None: no feature in common)."""
        entry = self._items.get(item_code)
        if entry is None or not len(entry[0]) or not len(vector.indices):
            return None
        columns, by_feature, _ = entry
        at = np.minimum(columns.searchsorted(vector.indices), len(columns) - 1)
        shared = columns[at] == vector.indices  # the text's features that the item's examples use
        if not shared.any():
            return None
        return np.asarray(by_feature[at[shared]].T @ vector.values[shared].astype(np.float32))

    def examples(self, item_code: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """The item's feature columns and its examples × features matrix."""
        columns, by_feature, _ = self._items[item_code]
        return columns, by_feature.T
