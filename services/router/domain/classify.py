"""Text classifier: which responsibility items an incident description most likely belongs to.

Weighted keywords from the list are found in the text by substring scan (one automaton pass,
domain/phrases.py), so a keyword counts whether jieba keeps it whole, splits it, or swallows it into a
longer word. jieba (a private Tokenizer with the list's keywords added, the global one is left alone)
only says whether a hit is aligned with word boundaries; a hit inside a longer word counts a little
less. A keyword counts once per item, and a hit inside a longer hit of the same item does not count
again (下水道盖 does not also score 下水道).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from services.router.domain.conditions import ClassifyContext, PassedMemo
from services.router.domain.phrases import PhraseFinder
from services.router.domain.responsibility import ResponsibilityItem, ResponsibilityList
from services.router.domain.segment import Segmenter

__all__ = ["DEFAULT_CONFIDENCE_THRESHOLD", "Candidate", "Classification", "Classifier", "ClassifyContext"]

DEFAULT_CONFIDENCE_THRESHOLD = 0.55
"""Below this the router sends the case to the centre's manual queue (人工分拨); see README_classification."""

EMBEDDED_FACTOR = 0.8  # a hit strictly inside a longer jieba word
HINT_TEXT_FACTOR = 0.5  # keywords found in a free-text category hint
HINT_PREFIX_BONUS = 1.0  # the hint names the item's class or group and the text already points at it
HINT_CODE_RAW = 10.0  # the hint is the item's own code (grid workers pick it in the app)
SATURATION = 2.5  # raw evidence at which confidence reaches 1 - 1/e
HYPOTHETICAL_FACTOR = 0.5  # a hit right after 万一/一旦/担心…: a feared event, not the reported one
_HYPOTHETICAL = ("万一", "一旦", "如果", "要是", "假如", "担心", "以免", "防止", "怕")
_HYPOTHETICAL_WINDOW = 4
_PREFIX = re.compile(r"^[A-Z](\d{2})?$")


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    item_code: str
    score: float = Field(ge=0, le=1, description="normalised confidence")
    matched_keywords: tuple[str, ...]
    conditions_checked: tuple[str, ...] = Field(description="the item's conditions, all passed")

    @classmethod
    def built(cls, item_code: str, score: float, matched_keywords: tuple[str, ...],
              conditions_checked: tuple[str, ...]) -> Candidate:
        """A candidate the classifiers computed themselves (a code of the list, a score in [0, 1], tuples):
        not validated again — eight or so per text were ~5 % of a routing decision; then `model_construct`'s
        generic walk over the fields (aliases, defaults) ~4 %: this sets what it sets, directly."""
        return _constructed(cls, {"item_code": item_code, "score": score, "matched_keywords": matched_keywords,
                                  "conditions_checked": conditions_checked})


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    candidates: tuple[Candidate, ...]
    top: Candidate | None
    confident: bool

    @classmethod
    def of(
        cls, candidates: Sequence[Candidate], threshold: float = DEFAULT_CONFIDENCE_THRESHOLD
    ) -> Classification:
        top = candidates[0] if candidates else None
        confident = top is not None and top.score >= threshold
        return _constructed(cls, {"candidates": tuple(candidates), "top": top, "confident": confident})


M = TypeVar("M", bound=BaseModel)


def _constructed(cls: type[M], values: dict[str, Any]) -> M:
    """`cls.model_construct(**values)` when `values` holds every field of `cls` in declaration order and
    `cls` has no aliases, extras, private attributes or post-init (Candidate, Classification): the same
    `__dict__`, fields set, extra and private slots (`tests/unit/router/test_classifier.py`)."""
    m = cls.__new__(cls)
    _set(m, "__dict__", values)
    _set(m, "__pydantic_fields_set__", set(values))
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


_set = object.__setattr__


def _mood(text: str, start: int) -> float:
    before = text[max(0, start - _HYPOTHETICAL_WINDOW):start]
    return HYPOTHETICAL_FACTOR if any(marker in before for marker in _HYPOTHETICAL) else 1.0


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class Classifier:
    """Built once per list version; `classify` is then pure (about 0.2 ms per text on one core, `make bench`)."""

    def __init__(self, responsibility_list: ResponsibilityList, *, limit: int = 5) -> None:
        self._items: tuple[ResponsibilityItem, ...] = responsibility_list.items
        self._by_code = {item.code: index for index, item in enumerate(self._items)}
        self._conditions = PassedMemo([item.conditions for item in self._items])
        self._limit = limit
        self._index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, item in enumerate(self._items):
            if item.code_only:
                continue
            for keyword, weight in item.keywords.items():
                self._index[_normalise(keyword)].append((index, weight))
        self._finder = PhraseFinder(self._index)
        self.segmenter = Segmenter(self._index)  # jieba's dictionary + the keywords; the model shares it

    def classify(self, text: str, category_hint: str | None, context: ClassifyContext) -> list[Candidate]:
        """The best candidates, best first; items whose conditions fail are left out."""
        evidence = self._evidence(_normalise(text), 1.0)
        bonus: dict[int, float] = {}
        hint = (category_hint or "").strip()
        if hint in self._by_code:
            bonus[self._by_code[hint]] = HINT_CODE_RAW
        elif _PREFIX.match(hint):
            bonus = {i: HINT_PREFIX_BONUS for i in evidence if self._items[i].code.startswith(hint)}
        elif hint:
            for index, found in self._evidence(_normalise(hint), HINT_TEXT_FACTOR).items():
                for keyword, weight in found.items():
                    evidence[index][keyword] = max(evidence[index].get(keyword, 0.0), weight)
        scored: list[tuple[float, ResponsibilityItem, tuple[str, ...], tuple[str, ...]]] = []
        for index in evidence.keys() | bonus.keys():
            item = self._items[index]
            passed = self._conditions.passed(index, context)
            found = evidence.get(index, {})
            if passed is not None:
                scored.append((sum(found.values()) + bonus.get(index, 0.0), item, tuple(found), passed))
        scored.sort(key=lambda entry: (-entry[0], -entry[1].priority, entry[1].code))
        return [
            Candidate.built(item.code, self._confidence(raw, scored, rank), keywords, passed)
            for rank, (raw, item, keywords, passed) in enumerate(scored[: self._limit])
        ]

    def decide(
        self, text: str, category_hint: str | None, context: ClassifyContext,
        threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    ) -> Classification:
        return Classification.of(self.classify(text, category_hint, context), threshold)

    @staticmethod
    def _confidence(raw: float, scored: Sequence[tuple[float, ResponsibilityItem, object, object]],
                    rank: int) -> float:
        """Strength of the evidence times its share against the strongest rival.

        An item that ties with the top but loses on the list's explicit priority is no rival to it.
        """
        if rank > 0:
            rival = scored[0][0]
        else:
            top = scored[0][1]
            # the first such rival is the strongest (`scored` is sorted by raw evidence, strongest first)
            rival = next((r for r, other, _, _ in scored[1:] if r < raw or other.priority == top.priority), 0.0)
        strength = 1.0 - math.exp(-raw / SATURATION)
        return round(strength * raw / (raw + rival), 4)

    def _evidence(self, text: str, factor: float) -> dict[int, dict[str, float]]:
        hits: dict[int, list[tuple[str, int, int, float]]] = defaultdict(list)
        for start, end, keyword in self._finder.find(text):
            for index, weight in self._index[keyword]:
                hits[index].append((keyword, start, end, weight))
        if not hits:
            return defaultdict(dict)
        boundaries = self._boundaries(text)
        evidence: dict[int, dict[str, float]] = defaultdict(dict)
        for index, item_hits in hits.items():
            claimed: list[tuple[int, int]] = []
            for keyword, start, end, weight in sorted(item_hits, key=lambda h: h[1] - h[2]):
                if keyword in evidence[index] or any(a <= start and end <= b for a, b in claimed):
                    continue
                aligned = start in boundaries and end in boundaries
                weight *= factor * (1.0 if aligned else EMBEDDED_FACTOR) * _mood(text, start)
                evidence[index][keyword] = weight
                claimed.append((start, end))
        return evidence

    def _boundaries(self, text: str) -> set[int]:
        offsets = {0}
        position = 0
        for word in self.segmenter.cut_with_words(text):
            position += len(word)
            offsets.add(position)
        return offsets
