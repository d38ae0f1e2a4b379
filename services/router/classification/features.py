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
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import ahocorasick
import numpy as np
import numpy.typing as npt

from services.router.domain.segment import Segmenter

NGRAM_MAX = 3
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=256)
def normalise(text: str) -> str:
    """Memoised: the featuriser, the urgency lexicon, the vagueness check and the knowledge base all
    normalise the same text (and the knowledge base its phrases) once per decision."""
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


@dataclass(frozen=True)
class Occurrences:
    """Every known feature occurrence of a text: where it starts and ends, and its vocabulary index."""

    starts: Indices
    ends: Indices
    indices: Indices

    def vector(self, idf: Floats, start: int = 0, end: int | None = None) -> tuple[Indices, Floats]:
        """`vectorise_grams` of `span_grams(clean, words, start, end)`: the same indices and counts, so
        the same floats (the occurrences lying inside the span, counted with `np.unique`)."""
        known = self.indices
        if start > 0 or end is not None:
            inside = self.starts >= start
            if end is not None:
                inside &= self.ends <= end
            known = known[inside]
        if not len(known):
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        indices, counts = _counted(known)
        return indices, _weights(indices, counts, idf)


def _counted(known: Indices) -> tuple[Indices, npt.NDArray[np.intp]]:
    """`np.unique(known, return_counts=True)` of a non-empty integer array, without its generic checks."""
    ordered = known.copy()
    ordered.sort()
    first = np.empty(len(ordered), dtype=np.bool_)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(len(starts), dtype=np.intp)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = len(ordered) - starts[-1]
    return ordered[starts], counts


_LENGTH_BITS = 2  # a character n-gram's length in the automaton's value: 1 to 3, so NGRAM_MAX ≤ 3
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


class KnownGrams:
    """The vocabulary's character n-grams in one Aho–Corasick automaton (`pyahocorasick`, C): one pass over
    a text yields every occurrence of a known n-gram, instead of slicing all of them in Python and looking
    each up. `span_grams` never yields an n-gram holding a space, and no vocabulary n-gram holds one;
    character n-grams are at most `NGRAM_MAX` long and word features (`w:` + a word of ≥ 2 characters) at
    least 4, so the occurrences are exactly the known terms `span_grams` yields, as often
    (`tests/unit/router/classification/test_inference.py` checks every corpus text and clause)."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        if NGRAM_MAX > _LENGTH_MASK:  # the lengths would spill into the index (and words pass as n-grams)
            raise ValueError(f"NGRAM_MAX {NGRAM_MAX} does not fit the automaton's {_LENGTH_BITS} length bits")
        self._vocabulary = vocabulary
        self._automaton: ahocorasick.Automaton | None = None
        grams = [(term, index) for term, index in vocabulary.items() if len(term) <= NGRAM_MAX and " " not in term]
        if grams:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for term, index in grams:
                automaton.add_word(term, index << _LENGTH_BITS | len(term))  # the index and the length in one int
            automaton.make_automaton()
            self._automaton = automaton

    def occurrences(self, clean: str, words: Sequence[tuple[int, str]]) -> Occurrences:
        found = chain.from_iterable(self._automaton.iter(clean)) if self._automaton is not None and clean else ()
        get = self._vocabulary.get
        spoken = [(position, position + len(word), i) for position, word in words
                  if (i := get("w:" + word)) is not None]
        pairs = np.fromiter(found, dtype=np.intp).reshape(-1, 2)  # (last character, index·4 + length)
        ends = pairs[:, 0] + 1
        starts = ends - (pairs[:, 1] & _LENGTH_MASK)
        indices = pairs[:, 1] >> _LENGTH_BITS
        if spoken:
            extra = np.asarray(spoken, dtype=np.intp)
            starts = np.concatenate([starts, extra[:, 0]])
            ends = np.concatenate([ends, extra[:, 1]])
            indices = np.concatenate([indices, extra[:, 2]])
        return Occurrences(starts, ends, indices)


def _weights(indices: Indices, counts: npt.NDArray[np.int64], idf: Floats) -> Floats:
    """One formula for training and serving, so both compute the same floats."""
    if counts.max() < len(_LOG):  # what `np.where` picks then, without computing the other branch
        tf = _LOG[counts]
    else:
        tf = np.where(counts < len(_LOG), _LOG[np.minimum(counts, len(_LOG) - 1)], np.log(np.maximum(counts, 1)))
    values = (1.0 + tf) * idf[indices]
    norm = float(np.sqrt(values @ values)) or 1.0
    return np.asarray(values / norm, dtype=np.float64)


_LOG = np.asarray([0.0, *(math.log(c) for c in range(1, 64))])
