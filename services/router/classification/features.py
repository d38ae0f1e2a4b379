"""Text → sparse feature vector, identical in training and serving (the artefact stores the vocabulary).

Features are the character 1–3-grams of the normalised text and its jieba words (a private tokenizer
with jieba's own dictionary only, so a change of the list's keywords cannot shift the model's inputs).
Weights are sublinear tf × idf, L2-normalised.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from services.router.domain.segment import Segmenter

NGRAM_MAX = 3
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


class Featuriser:
    """Strings of features; `vectorise` maps them through a vocabulary to (indices, values)."""

    def __init__(self, segmenter: Segmenter | None = None) -> None:
        self.segmenter = segmenter or Segmenter()  # its `cut` is jieba's own dictionary, whatever else it knows

    def words(self, clean: str) -> list[tuple[int, str]]:
        """jieba words of a normalised text (longer than one character), with their offsets."""
        out: list[tuple[int, str]] = []
        position = 0
        for word in self.segmenter.cut(clean):
            if len(word) > 1 and not word.isspace():
                out.append((position, word))
            position += len(word)
        return out

    def terms(self, text: str) -> Counter[str]:
        clean = normalise(text)
        return span_terms(clean, self.words(clean), 0, len(clean))


def span_grams(clean: str, words: Sequence[tuple[int, str]], start: int, end: int) -> list[str]:
    """The features of `clean[start:end]`, repeated as often as they occur: its n-grams and the words of the
    whole text that lie inside it (a clause is judged without segmenting it again)."""
    part = clean[start:end]
    grams = [part[i:i + n] for n in range(1, NGRAM_MAX + 1) for i in range(len(part) - n + 1)]
    if " " in part:
        grams = [g for g in grams if " " not in g]
    grams.extend(["w:" + word for position, word in words if start <= position and position + len(word) <= end])
    return grams


def span_terms(clean: str, words: Sequence[tuple[int, str]], start: int, end: int) -> Counter[str]:
    return Counter(span_grams(clean, words, start, end))


Indices = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]


def vectorise_grams(grams: Iterable[str], vocabulary: Mapping[str, int], idf: Floats) -> tuple[Indices, Floats]:
    """`vectorise` of the features as a list (serving: no Counter of the unknown ones)."""
    get = vocabulary.get
    known = [i for i in map(get, grams) if i is not None]
    if not known:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    indices, counts = np.unique(np.asarray(known, dtype=np.intp), return_counts=True)
    return indices, _weights(indices, counts, idf)


def vectorise(terms: Mapping[str, int], vocabulary: Mapping[str, int],
              idf: Sequence[float] | Floats) -> tuple[Indices, Floats]:
    """Indices (ascending) and L2-normalised (1 + log tf) × idf values of the known terms."""
    pairs = sorted((index, count) for term, count in terms.items() if (index := vocabulary.get(term)) is not None)
    if not pairs:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    indices = np.asarray([i for i, _ in pairs], dtype=np.intp)
    return indices, _weights(indices, np.asarray([c for _, c in pairs]), np.asarray(idf, dtype=np.float64))


def _weights(indices: Indices, counts: npt.NDArray[np.int64], idf: Floats) -> Floats:
    """One formula for training and serving, so both compute the same floats."""
    tf = np.where(counts < len(_LOG), _LOG[np.minimum(counts, len(_LOG) - 1)], np.log(np.maximum(counts, 1)))
    values = (1.0 + tf) * idf[indices]
    norm = float(np.sqrt(values @ values)) or 1.0
    return np.asarray(values / norm, dtype=np.float64)


_LOG = np.asarray([0.0, *(math.log(c) for c in range(1, 64))])
