"""jieba's HMM-free segmentation under two dictionaries at once: its own, and its own plus the list's keywords.

The model's featuriser segments with jieba's dictionary alone (a change of the list's keywords must not
shift the model's inputs); the keyword classifier with the keywords added (to tell whether a hit lies on
word boundaries). Both used to walk every text through their own `jieba.Tokenizer` — a third of a
routing decision. This does what `Tokenizer.cut(text, HMM=False)` does (same blocks, same DAG, same
dynamic programme, same tie-breaks, same float arithmetic, so the same words:
`tests/unit/router/test_segment.py` compares it with jieba on the corpus), but one walk of a block over
the merged dictionary yields both DAGs, and each Chinese block is segmented once for both callers (a
small memo: the classifier and the featuriser see the same blocks of the same text one after the other).
The dictionary is loaded once per process and shared by every segmenter.

Both cuts run in `rjieba` (jieba-rs, compiled) loaded with exactly these dictionaries — jieba's own
words and frequencies, and those plus the keywords — and the same total frequency (jieba-rs's
`add_word` of a word already known subtracts its old frequency from the total, jieba's does not: one
private word makes up the difference), ≈ 14 × faster than the Python walk (490 → 36 µs a corpus text,
ad hoc). The Python walk stays for texts with a character the two libraries class differently
(jieba-rs's Han blocks also take CJK extension and compatibility ideographs; Python's whitespace class
also takes U+001C–U+001F).
`tests/unit/router/test_segment.py` compares both with jieba on every corpus text and on random strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from math import log

import jieba
import rjieba

_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)  # jieba's re_han_default
_SKIP = re.compile("(\r\n|\\s)", re.U)  # jieba's re_skip_default
_ENG = re.compile("[a-zA-Z0-9]", re.U)  # jieba's re_eng
KEYWORD_FREQ = 1000  # the frequency the keyword classifier gives each keyword (jieba `add_word`)
_MEMO = 64  # Chinese blocks remembered (both segmentations): the two callers of one text, not a cache of texts
# characters jieba-rs and jieba class differently (a Han block, or whitespace): such texts take the Python walk
_DIFFERENT = re.compile("[\u3400-\u4DBF\u9FD6-\u9FFF\uF900-\uFAFF\U00020000-\U0002FA1F\x1c-\x1f]")
_TOTAL_WORD = "\ue000\ue000"  # private use: never inside a Han block, so never a word of any text


@lru_cache(maxsize=1)
def _default_dictionary() -> tuple[dict[str, int], int]:
    """jieba's default dictionary (prefixes included, as jieba keeps it) and its total frequency."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ, int(tokenizer.total)


@lru_cache(maxsize=1)
def _native_default() -> rjieba.Jieba:
    """jieba-rs holding jieba's default dictionary (its words and frequencies, its total)."""
    return _native({})


def _native(extra: dict[str, int]) -> rjieba.Jieba:
    """jieba-rs with jieba's dictionary plus `extra` (word → frequency), with jieba's total frequency."""
    base, _ = _default_dictionary()
    native: rjieba.Jieba = rjieba.Jieba.empty()  # type: ignore[no-untyped-call]  # (its stub has no types)
    add = native.add_word
    for word, freq in base.items():
        if freq:
            add(word, freq, None)
    replaced = 0
    for word, freq in extra.items():
        replaced += base.get(word, 0)
        add(word, freq, None)
    if replaced:
        add(_TOTAL_WORD, replaced, None)
    return native


class Segmenter:
    """`cut(text)`: jieba's words under its own dictionary; `cut_with_words(text)`: with `words` added
    at frequency `KEYWORD_FREQ` (what `Tokenizer.add_word(word, freq=1000)` for each word does)."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._base, base_total = _default_dictionary()
        added = list(dict.fromkeys(words))
        overlay: dict[str, int] = {}
        for word in added:
            for end in range(1, len(word)):
                prefix = word[:end]
                if prefix not in self._base:
                    overlay.setdefault(prefix, 0)
        overlay.update({word: KEYWORD_FREQ for word in added})
        self._overlay = overlay
        self._log_base = log(base_total)
        self._log_words = log(base_total + KEYWORD_FREQ * len(added))
        self._memo: dict[str, tuple[list[str], list[str]]] = {}
        self._native_base = _native_default()
        self._native_words = _native({word: KEYWORD_FREQ for word in added}) if added else self._native_base

    def cut(self, text: str) -> list[str]:
        if _DIFFERENT.search(text):
            return self._cut(text, 0)
        return self._native_base.cut(text, False)

    def cut_with_words(self, text: str) -> list[str]:
        if _DIFFERENT.search(text):
            return self._cut(text, 1)
        return self._native_words.cut(text, False)

    def _cut(self, text: str, which: int) -> list[str]:
        out: list[str] = []
        for block in _HAN.split(text):
            if not block:
                continue
            if _HAN.match(block):
                out.extend(self._block(block)[which])
            else:
                for piece in _SKIP.split(block):
                    if _SKIP.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _block(self, block: str) -> tuple[list[str], list[str]]:
        found = self._memo.get(block)
        if found is None:
            if len(self._memo) >= _MEMO:
                self._memo.clear()
            found = self._memo[block] = self._segment(block)
        return found

    def _segment(self, block: str) -> tuple[list[str], list[str]]:
        """Both DAGs from one walk over the merged dictionary, then jieba's route and word assembly.

        Each DAG edge keeps the frequency the walk looked up, so the route needs no second lookup
        (jieba looks each word up again; the frequencies, and so the floats, are the same)."""
        base, overlay = self._base, self._overlay
        n = len(block)
        dag_base: list[list[tuple[int, int]]] = []
        dag_words: list[list[tuple[int, int]]] = []
        for k in range(n):
            in_base: list[tuple[int, int]] = []
            in_words: list[tuple[int, int]] = []
            base_open = True  # jieba's walk under its own dictionary stops at the first non-prefix
            i = k
            frag = block[k]
            while i < n:
                f_base = base.get(frag) if base_open else None
                if f_base is None:
                    base_open = False
                f_word = overlay.get(frag)
                if f_word is None:
                    f_word = f_base
                if f_word is None:
                    break
                if f_base:
                    in_base.append((i, f_base))
                if f_word:
                    in_words.append((i, f_word))
                i += 1
                frag = block[k:i + 1]
            dag_base.append(in_base or [(k, 1)])  # jieba: a character of no word, frequency `or 1`
            dag_words.append(in_words or [(k, 1)])
        return _assemble(block, dag_base, self._log_base), _assemble(block, dag_words, self._log_words)


def _assemble(block: str, dag: list[list[tuple[int, int]]], log_total: float) -> list[str]:
    """jieba's `calc` (the most probable route; on a tie the longer word, edges come in ascending end order)
    and its HMM-free word assembly (runs of single Latin letters and digits joined)."""
    n = len(block)
    score = [0.0] * (n + 1)
    step = [0] * (n + 1)
    for idx in range(n - 1, -1, -1):
        best_score, best_x = 0.0, -1
        for x, freq in dag[idx]:
            value = log(freq) - log_total + score[x + 1]
            if best_x < 0 or value >= best_score:
                best_score, best_x = value, x
        score[idx], step[idx] = best_score, best_x
    words: list[str] = []
    buffer = ""
    x = 0
    while x < n:
        y = step[x] + 1
        word = block[x:y]
        if len(word) == 1 and _ENG.match(word):
            buffer += word
        else:
            if buffer:
                words.append(buffer)
                buffer = ""
            words.append(word)
        x = y
    if buffer:
        words.append(buffer)
    return words
