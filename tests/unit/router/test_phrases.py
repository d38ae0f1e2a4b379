"""The one-pass phrase finder sees what the scans it replaced saw, on every labelled text of the corpus:
the keyword classifier's character-by-character prefix walk and the urgency lexicon's `str.find` loop."""

from __future__ import annotations

import pytest

from services.router.classification import corpus
from services.router.classification.features import normalise
from services.router.classification.urgency import _AFTER, _FEARED, _NEGATED, _PATTERNS, _WINDOW, DANGER, danger_phrases
from services.router.domain.classify import _normalise
from services.router.domain.phrases import PhraseFinder
from services.router.domain.responsibility import ResponsibilityList


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [t.text for t in corpus.read(corpus.corpus_files())]


def prefix_walk(text: str, phrases: set[str]) -> list[tuple[int, int, str]]:
    """The keyword classifier's scan before the automaton: from each start, extend while the text still
    spells the start of some phrase."""
    prefixes = {p[:n] for p in phrases for n in range(1, len(p) + 1)}
    found = []
    for start in range(len(text)):
        end = start + 1
        while end <= len(text) and (part := text[start:end]) in prefixes:
            if part in phrases:
                found.append((start, end, part))
            end += 1
    return found


def find_loop(text: str) -> tuple[str, ...]:
    """`danger_phrases` before the automaton: one `str.find` loop per lexicon phrase."""
    clean = normalise(text)
    found: list[str] = []
    for phrase in DANGER:
        start = clean.find(phrase)
        while start >= 0:
            before = clean[max(0, start - _WINDOW):start]
            after = clean[start + len(phrase):start + len(phrase) + 4]
            if not any(m in before for m in _FEARED) and not any(before.endswith(m) for m in _NEGATED) \
                    and not any(after.startswith(m) or after[1:].startswith(m) for m in _AFTER):
                found.append(phrase)
                break
            start = clean.find(phrase, start + 1)
    found.extend(match.group() for match in (pattern.search(clean) for pattern in _PATTERNS) if match)
    return tuple(found)


def test_the_list_keywords_are_found_where_the_prefix_walk_found_them(repo_list: ResponsibilityList,
                                                                       texts: list[str]) -> None:
    keywords = {_normalise(k) for item in repo_list.items if not item.code_only for k in item.keywords}
    finder = PhraseFinder(keywords)
    for text in texts:
        clean = _normalise(text)
        assert finder.find(clean) == prefix_walk(clean, keywords), text


def test_danger_phrases_are_those_the_find_loop_found(texts: list[str]) -> None:
    hits = 0
    for text in texts:
        expected = find_loop(text)
        assert danger_phrases(text) == expected, text
        hits += bool(expected)
    assert hits > 100  # the corpus exercises the lexicon


def test_overlapping_and_repeated_occurrences_are_all_reported() -> None:
    finder = PhraseFinder(["下水道", "下水道盖", "水道"])
    assert finder.find("下水道盖坏了下水道") == [(0, 3, "下水道"), (0, 4, "下水道盖"), (1, 3, "水道"),
                                                  (6, 9, "下水道"), (7, 9, "水道")]
    assert PhraseFinder([]).find("任何文字") == []
