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
from collections.abc import Mapping, Sequence

import jieba

NGRAM_MAX = 3
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


class Featuriser:
    """Strings of features; `vectorise` maps them through a vocabulary to (indices, values)."""

    def __init__(self) -> None:
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()

    def terms(self, text: str) -> Counter[str]:
        clean = normalise(text)
        terms: Counter[str] = Counter()
        for n in range(1, NGRAM_MAX + 1):
            for start in range(len(clean) - n + 1):
                gram = clean[start:start + n]
                if " " not in gram:
                    terms[gram] += 1
        for word in self._tokenizer.cut(clean, HMM=False):
            if len(word) > 1 and not word.isspace():
                terms["w:" + word] += 1
        return terms


def vectorise(terms: Mapping[str, int], vocabulary: Mapping[str, int],
              idf: Sequence[float]) -> tuple[list[int], list[float]]:
    """Indices (ascending) and L2-normalised (1 + log tf) × idf values of the known terms."""
    pairs = sorted((vocabulary[t], (1.0 + math.log(c)) * idf[vocabulary[t]])
                   for t, c in terms.items() if t in vocabulary)
    norm = math.sqrt(sum(v * v for _, v in pairs)) or 1.0
    return [i for i, _ in pairs], [v / norm for _, v in pairs]
