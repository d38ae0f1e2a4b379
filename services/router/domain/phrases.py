"""Every occurrence of a fixed set of phrases in a text, in one pass (an Aho–Corasick automaton, the C
extension `pyahocorasick`): the keyword classifier's scan for the list's keywords and the urgency
lexicon's scan for danger phrases. Both used to walk the text in Python (a prefix set extended
character by character, or one `str.find` per phrase); the occurrences are the same, in the order
those scans met them (by start, then by end), so what they build from them is unchanged
(`tests/unit/router/test_phrases.py` compares both on every corpus text).
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick


class PhraseFinder:
    """Built once per phrase set; `find` is then pure."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._automaton: ahocorasick.Automaton | None = None
        unique = [p for p in dict.fromkeys(phrases) if p]
        if unique:
            automaton = ahocorasick.Automaton()
            for phrase in unique:
                automaton.add_word(phrase, phrase)
            automaton.make_automaton()
            self._automaton = automaton

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, phrase) of every occurrence, overlapping ones included, by start then end."""
        if self._automaton is None or not text:
            return []
        found = [(last + 1 - len(phrase), last + 1, phrase) for last, phrase in self._automaton.iter(text)]
        found.sort()
        return found
