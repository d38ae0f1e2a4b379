"""The labelled training corpus (services/router/data/training/<mid-class>.jsonl) is data the model learns from.

Every line is one JSON object with exactly the keys text, channel, item_code, appeal_type, urgent and, only
when the text names a second problem, also. A mid-class file (A01.jsonl) holds only that mid-class's items and
gives every one of them at least MIN_PER_ITEM texts, so a file can land on its own while others are written.
An author's file (author6_wechat.jsonl) holds one later author's texts across all classes, as written; its
lines may leave appeal_type out (unlabelled: the enquiry head does not learn from them) and write
also as [] when the text names one problem.
No text appears twice in the corpus, and none is copied from the evaluation files in tests/data (and heldout/).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from schemas.common import Channel
from schemas.incident import AppealType
from services.router.domain.responsibility import ResponsibilityList

ROOT = Path(__file__).resolve().parents[3]
TRAINING = ROOT / "services/router/data/training"
EVALUATION = ROOT / "tests/data"
MIN_PER_ITEM = 30
REQUIRED_KEYS = frozenset({"text", "channel", "item_code", "appeal_type", "urgent"})
OPTIONAL_KEYS = frozenset({"also"})
CHANNELS = frozenset({Channel.HOTLINE.value, Channel.WECHAT.value, Channel.GRID.value})
APPEAL_TYPES = frozenset(t.value for t in AppealType)
MID_CLASS_FILE = re.compile(r"^[A-Z]\d{2}\.jsonl$")
AUTHOR_FILE = re.compile(r"^author\d+(_[a-z]+)?\.jsonl$")


@dataclass(frozen=True)
class Line:
    file: str
    number: int
    record: dict[str, Any]


def corpus_files() -> list[Path]:
    return sorted(TRAINING.glob("*.jsonl"))


def read_corpus() -> list[Line]:
    return [
        Line(path.name, number, json.loads(raw))
        for path in corpus_files()
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if raw.strip()
    ]


def line_problems(line: Line, known_codes: frozenset[str]) -> list[str]:
    """What is wrong with one line; empty when it is well formed."""
    record = line.record
    where = f"{line.file}:{line.number}"
    keys = frozenset(record)
    by_author = bool(AUTHOR_FILE.match(line.file))
    required = REQUIRED_KEYS - {"appeal_type"} if by_author else REQUIRED_KEYS
    if not required <= keys or not keys <= REQUIRED_KEYS | OPTIONAL_KEYS:
        return [f"{where}: keys {sorted(keys)}"]
    problems: list[str] = []
    text = record["text"]
    if not isinstance(text, str) or not text.strip() or text != text.strip():
        problems.append(f"{where}: text must be a non-blank string without outer whitespace")
    if record["channel"] not in CHANNELS:
        problems.append(f"{where}: channel {record['channel']!r}")
    if (not by_author or "appeal_type" in record) and record["appeal_type"] not in APPEAL_TYPES:
        problems.append(f"{where}: appeal_type {record['appeal_type']!r}")
    if not isinstance(record["urgent"], bool):
        problems.append(f"{where}: urgent must be true or false")
    code = record["item_code"]
    if code not in known_codes:
        problems.append(f"{where}: unknown item_code {code!r}")
    elif not by_author and not line.file.startswith(f"{code[:3]}."):
        problems.append(f"{where}: {code} does not belong in {line.file}")
    if "also" in record and not (by_author and record["also"] == []):  # an author's file writes [] for none
        also = record["also"]
        if not isinstance(also, list) or not also or len(set(also)) != len(also):
            problems.append(f"{where}: also must be a non-empty list of distinct codes")
        else:
            problems.extend(f"{where}: also {c!r} unknown" for c in also if c not in known_codes)
            if code in also:
                problems.append(f"{where}: also repeats the item_code")
    return problems


@pytest.fixture(scope="module")
def corpus() -> list[Line]:
    return read_corpus()


def test_training_files_are_named_by_mid_class_or_author() -> None:
    assert all(MID_CLASS_FILE.match(path.name) or AUTHOR_FILE.match(path.name) for path in corpus_files())


def test_every_line_has_exactly_the_allowed_keys_and_values(corpus: list[Line], repo_list: ResponsibilityList) -> None:
    known = frozenset(i.code for i in repo_list.items)
    problems = [p for line in corpus for p in line_problems(line, known)]
    assert problems == []


def test_every_item_of_a_mid_class_with_a_file_has_enough_texts(
    corpus: list[Line], repo_list: ResponsibilityList
) -> None:
    counts = Counter(line.record["item_code"] for line in corpus)
    covered = {path.stem for path in corpus_files()}
    short = {i.code: counts[i.code] for i in repo_list.items if i.code[:3] in covered and counts[i.code] < MIN_PER_ITEM}
    assert short == {}


def test_no_text_appears_twice_in_the_corpus(corpus: list[Line]) -> None:
    seen: dict[str, str] = {}
    doubled: list[str] = []
    for line in corpus:
        text = line.record["text"]
        if text in seen:
            doubled.append(f"{line.file}:{line.number} repeats {seen[text]}")
        seen.setdefault(text, f"{line.file}:{line.number}")
    assert doubled == []


def test_no_text_is_copied_from_the_evaluation_files(corpus: list[Line]) -> None:
    # Only equality is checked and only the corpus position is reported, so the evaluation texts stay unseen.
    evaluation = {
        json.loads(raw)["text"]
        for path in sorted(EVALUATION.rglob("*.jsonl"))  # the held-out sets in tests/data/heldout too
        for raw in path.read_text(encoding="utf-8").splitlines()
        if raw.strip()
    }
    copied = [f"{line.file}:{line.number}" for line in corpus if line.record["text"] in evaluation]
    assert copied == []


def test_the_checks_catch_a_malformed_line() -> None:
    known = frozenset({"A01.001", "A04.003"})
    good = {"text": "路边一堆垃圾", "channel": "grid", "item_code": "A01.001", "appeal_type": "投诉", "urgent": False}
    assert line_problems(Line("A01.jsonl", 1, good), known) == []
    assert line_problems(Line("A01.jsonl", 1, {**good, "also": ["A04.003"]}), known) == []
    bad = [
        {**good, "extra": 1},
        {**good, "channel": "open311"},
        {**good, "appeal_type": "表扬"},
        {**good, "urgent": "no"},
        {**good, "item_code": "A09.001"},
        {**good, "also": []},
        {**good, "also": ["A01.001"]},
        {**good, "text": " "},
    ]
    assert all(line_problems(Line("A01.jsonl", 1, record), known) for record in bad)
    assert line_problems(Line("A04.jsonl", 1, good), known) == ["A04.jsonl:1: A01.001 does not belong in A04.jsonl"]


def test_an_authors_file_spans_classes_and_may_leave_the_appeal_type_out() -> None:
    known = frozenset({"A01.001", "D04.002"})
    line = {"text": "楼下垃圾没人收", "channel": "wechat", "item_code": "D04.002", "urgent": False}
    assert line_problems(Line("author6_wechat.jsonl", 1, line), known) == []
    assert line_problems(Line("author6_wechat.jsonl", 1, {**line, "appeal_type": "表扬"}), known)
    assert line_problems(Line("author6_wechat.jsonl", 1, {**line, "urgent": None}), known)
    assert line_problems(Line("A01.jsonl", 1, {**line, "item_code": "A01.001"}), known)  # a mid-class file needs it
