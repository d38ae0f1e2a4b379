"""Throughput samples, their median and spread, and ratios between a subject and its baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


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


def interleaved(
    works: Sequence[Callable[[int, int], int]], *, repetitions: int, slices: int = 20, warmup: int = 1
) -> list[tuple[float, ...]]:
    """Several pieces of work timed in small turns: every repetition walks through `slices` slices, and
    in each slice every work does its share (`work(i, slices)` does slice i and returns its item count).

    Load from elsewhere on the machine (other test runs) then hits every work alike instead of whichever
    ran at that moment, which keeps the ratios steady even when the absolute rates are not."""
    for _ in range(warmup):
        for work in works:
            for i in range(slices):
                work(i, slices)
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(repetitions):
        elapsed = [0.0] * len(works)
        done = [0] * len(works)
        for i in range(slices):
            for w, work in enumerate(works):
                started = time.perf_counter()
                done[w] += work(i, slices)
                elapsed[w] += time.perf_counter() - started
        for w in range(len(works)):
            samples[w].append(done[w] / elapsed[w])
    return [tuple(s) for s in samples]


def share(items: Sequence[T], i: int, slices: int) -> Sequence[T]:
    """Slice i of `slices` nearly equal slices of `items`."""
    n = len(items)
    return items[i * n // slices:(i + 1) * n // slices]
