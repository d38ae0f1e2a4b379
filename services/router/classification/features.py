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

    def words(self, clean: str) -> list[tuple[int, str]]:
        """jieba words of a normalised text (longer than one character), with their offsets."""
        out: list[tuple[int, str]] = []
        position = 0
        for word in self._tokenizer.cut(clean, HMM=False):
            if len(word) > 1 and not word.isspace():
                out.append((position, word))
            position += len(word)
        return out

    def terms(self, text: str) -> Counter[str]:
        clean = normalise(text)
        return span_terms(clean, self.words(clean), 0, len(clean))


def span_terms(clean: str, words: Sequence[tuple[int, str]], start: int, end: int) -> Counter[str]:
    """The features of `clean[start:end]`: its n-grams and the words of the whole text that lie inside it
    (a clause is judged without segmenting it again)."""
    part = clean[start:end]
    grams = [part[i:i + n] for n in range(1, NGRAM_MAX + 1) for i in range(len(part) - n + 1)]
    if " " in part:
        grams = [g for g in grams if " " not in g]
    grams.extend(["w:" + word for position, word in words if start <= position and position + len(word) <= end])
    return Counter(grams)


def vectorise(terms: Mapping[str, int], vocabulary: Mapping[str, int],
              idf: Sequence[float]) -> tuple[list[int], list[float]]:
    """Indices (ascending) and L2-normalised (1 + log tf) × idf values of the known terms."""
    pairs = []
    for term, count in terms.items():
        index = vocabulary.get(term)
        if index is not None:
            pairs.append((index, (1.0 + _LOG[count] if count < len(_LOG) else 1.0 + math.log(count)) * idf[index]))
    pairs.sort()
    norm = math.sqrt(sum(v * v for _, v in pairs)) or 1.0
    return [i for i, _ in pairs], [v / norm for _, v in pairs]


_LOG = [0.0, *(math.log(c) for c in range(1, 64))]
