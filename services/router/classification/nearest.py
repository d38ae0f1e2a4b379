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
    """Per item, a dense matrix of its examples over the features they use (small: ~30–60 texts each)."""

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
            self._items[code] = (columns.astype(np.intp), matrix, [t.text[:_TEXT_CHARS] for t in texts])

    def nearest(self, vector: Vector, item_code: str) -> list[dict[str, object]]:
        entry = self._items.get(item_code)
        if entry is None or not len(entry[0]) or not len(vector.indices):
            return []
        columns, matrix, texts = entry
        at = np.minimum(np.searchsorted(columns, vector.indices), len(columns) - 1)
        shared = columns[at] == vector.indices  # the text's features that the item's examples use
        if not shared.any():
            return []
        similarity = matrix[:, at[shared]] @ vector.values[shared].astype(np.float32)
        order = np.argsort(-similarity, kind="stable")[:_SHOWN]
        return [{"text": texts[int(i)], "similarity": round(float(similarity[i]), 3)} for i in order]
