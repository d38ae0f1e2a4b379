"""The consultation knowledge base (直接答复): answers as data, per topic or item, with source and validity.

Files `data/knowledge/*.yaml` hold `entries:`; an entry answers an enquiry when every one of its `match`
groups has a phrase in the text (a group is a list of alternatives), it is valid on the day the enquiry
was made, and, if it names items, one of them is among the classifier's top candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.router.classification.features import normalise


class KnowledgeError(ValueError):
    pass


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^KB-[A-Za-z0-9-]+$")
    topic: str
    items: tuple[str, ...] = Field(default=(), description="responsibility items the answer belongs to")
    match: tuple[tuple[str, ...], ...] = Field(min_length=1, description="all groups must match, any phrase each")
    answer: str = Field(min_length=1)
    source: str = Field(min_length=1)
    valid_from: date
    valid_until: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def matches(self, clean_text: str) -> bool:
        return all(any(normalise(phrase) in clean_text for phrase in group) for group in self.match)


class KnowledgeBase:
    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(entries)
        ids = [e.id for e in self.entries]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise KnowledgeError(f"knowledge entries defined twice: {duplicated}")

    def answer(self, text: str, top_items: Sequence[str], day: date) -> Entry | None:
        """The most specific valid entry (most match groups) that covers the enquiry, or None."""
        clean = normalise(text)
        found = [e for e in self.entries
                 if e.valid_on(day) and (not e.items or set(e.items) & set(top_items)) and e.matches(clean)]
        return max(found, key=lambda e: (len(e.match), e.id), default=None)


def load_knowledge(directory: Path) -> KnowledgeBase:
    entries: list[Entry] = []
    for path in sorted(directory.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for number, raw in enumerate(document.get("entries", []), 1):
            try:
                entries.append(Entry.model_validate(raw))
            except ValidationError as exc:
                raise KnowledgeError(f"{path.name} entry {number}: {exc}") from exc
    return KnowledgeBase(entries)
