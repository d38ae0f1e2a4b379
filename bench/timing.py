"""Throughput samples, their median and spread, and ratios between a subject and its baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rate:
    """Items per second over several repetitions of the same work."""

    name: str
    unit: str  # what one item is: "decisions", "incidents", ...
    samples: tuple[float, ...]  # items/s, one per repetition
    items: int  # items per repetition
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repetitions disagreed (0.1 = 10 %)."""
        if len(self.samples) < 2 or self.median == 0:
            return 0.0
        return (max(self.samples) - min(self.samples)) / self.median

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "per_second_median": round(self.median, 2),
                "per_second_samples": [round(s, 2) for s in self.samples], "spread": round(self.spread, 4),
                "items_per_repetition": self.items, "notes": self.notes, **self.extra}


@dataclass(frozen=True)
class Ratio:
    """subject / baseline throughput, medians of the same run. Each pair of repetitions was run back to
    back, so the per-pair ratios show whether the noise hit both sides alike."""

    name: str
    subject: Rate
    baseline: Rate
    meaning: str

    @property
    def value(self) -> float:
        return self.subject.median / self.baseline.median if self.baseline.median else float("nan")

    @property
    def paired(self) -> tuple[float, ...]:
        if len(self.subject.samples) != len(self.baseline.samples):
            return ()
        return tuple(s / b for s, b in zip(self.subject.samples, self.baseline.samples, strict=True) if b)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject.name, "baseline": self.baseline.name,
                "ratio": round(self.value, 4), "paired_ratios": [round(r, 4) for r in self.paired],
                "meaning": self.meaning}


def repeat(work: Callable[[], int], *, repetitions: int, warmup: int = 1) -> tuple[float, ...]:
    """Run `work` (which returns how many items it did) `warmup` times untimed, then `repetitions` times;
    items/s of each timed run."""
    for _ in range(warmup):
        work()
    samples: list[float] = []
    for _ in range(repetitions):
        started = time.perf_counter()
        done = work()
        samples.append(done / (time.perf_counter() - started))
    return tuple(samples)


def interleaved(works: Sequence[Callable[[], int]], *, repetitions: int, warmup: int = 1) -> list[tuple[float, ...]]:
    """Like `repeat` for several pieces of work, taking turns (a b c a b c …), so that a burst of load
    from elsewhere on the machine hits every one of them rather than whichever ran at that moment."""
    for _ in range(warmup):
        for work in works:
            work()
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(repetitions):
        for i, work in enumerate(works):
            started = time.perf_counter()
            done = work()
            samples[i].append(done / (time.perf_counter() - started))
    return [tuple(s) for s in samples]
