"""Labelled texts: reading the corpus files and the deterministic train/dev split.

Serving reads the corpus too (the nearest labelled examples in an explanation), so this is not
training code. Lines are `{"text", "channel", "item_code" | "expected", "appeal_type"?, "urgent"?, "also"?}`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TRAINING_DIR = ROOT / "services" / "router" / "data" / "training"
EXTRA_SOURCES = (ROOT / "tests" / "data" / "classification_labelled.jsonl",)
DEV_SHARE = 5  # one text in five is development data (tuning, calibration, thresholds)


@dataclass(frozen=True)
class LabelledText:
    text: str
    channel: str
    item_code: str
    appeal_type: str | None = None
    urgent: bool | None = None
    also: tuple[str, ...] = ()
    source: str = ""

    @property
    def dev(self) -> bool:
        """Deterministic split on the text itself: the same text is always on the same side."""
        return self.fold == 0

    @property
    def fold(self) -> int:
        """Cross-validation fold (0 … DEV_SHARE - 1), a fixed function of the text."""
        return int(hashlib.sha256(self.text.encode()).hexdigest()[:8], 16) % DEV_SHARE


def corpus_files(training_dir: Path = TRAINING_DIR) -> list[Path]:
    return [*sorted(training_dir.glob("*.jsonl")), *(p for p in EXTRA_SOURCES if p.exists())]


def read(paths: Iterable[Path]) -> Iterator[LabelledText]:
    seen: set[str] = set()
    for path in paths:
        where = _relative(path)  # once a file: resolving the path for each of its lines took 0.7 s a start
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            code = row.get("item_code") or row.get("expected")
            text = str(row["text"]).strip()
            if not code or not text or text in seen:
                continue  # a text labelled twice counts once (first file wins, files in sorted order)
            seen.add(text)
            urgent = row.get("urgent")
            yield LabelledText(
                text=text, channel=str(row.get("channel", "hotline")), item_code=str(code),
                appeal_type=row.get("appeal_type"), urgent=bool(urgent) if urgent is not None else None,
                also=tuple(row.get("also") or ()), source=f"{where}:{number}",
            )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
