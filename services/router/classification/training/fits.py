"""The heads of every training set (the five fold models and the served one), fitted in worker processes.

A task is one head (item, urgent, enquiry) of one training set (indices into the featurised corpus, which
is featurised once, in the parent, and inherited by the forked workers). A task's result is a function of
its inputs alone — each worker fits with single-threaded BLAS (`threadpool_limits(1)`), on the same matrix
built the same way — so the artefact is the same bytes whatever the number of workers and whichever worker
runs which task (`tests/unit/router/classification/test_training_workers.py` compares 1 and 2 workers).
Tasks are handed out largest first (the served item head, the fold item heads, then the binary heads); the
caller takes the fold models' heads first, tunes on them while the served model's are still being fitted.
"""

from __future__ import annotations

import math
import multiprocessing
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from threadpoolctl import threadpool_limits

from services.router.classification.corpus import LabelledText
from services.router.classification.training import config
from services.router.classification.training.heads import encode, fit, matrix

HEADS = ("item", "urgent", "enquiry")


@dataclass(frozen=True)
class Vocabulary:
    terms: list[str]  # features in ≥ MIN_DF texts of the set, sorted
    idf: list[int]  # × 1000, rounded (what the artefact stores)


@dataclass
class _State:
    rows: Sequence[LabelledText]
    terms: Sequence[Counter[str]]
    sets: Sequence[Sequence[int]]
    prepared: dict[int, tuple[Vocabulary, Any]] = field(default_factory=dict)  # the last set's matrix


_STATE: _State | None = None  # what the forked workers inherit
_LIMITS: list[threadpool_limits] = []  # kept alive: a worker's BLAS stays single-threaded


def vocabulary(train_terms: Sequence[Counter[str]]) -> Vocabulary:
    df: Counter[str] = Counter()
    for t in train_terms:
        df.update(t.keys())
    terms = sorted(term for term, n in df.items() if n >= config.MIN_DF)
    return Vocabulary(terms, [round(1000 * (math.log((1 + len(train_terms)) / (1 + df[t])) + 1)) for t in terms])


def binary_labels(rows: Sequence[LabelledText]) -> dict[str, list[bool | None]]:
    return {"urgent": [r.urgent for r in rows],
            "enquiry": [None if r.appeal_type is None else r.appeal_type == "咨询" for r in rows]}


class Fits:
    """`heads(j)`: the vocabulary and the encoded heads of set `j` (None: a binary head without both labels).

    `workers` ≤ 1 fits in this process, in the same order; otherwise in that many forked processes."""

    def __init__(self, rows: Sequence[LabelledText], terms: Sequence[Counter[str]], sets: Sequence[Sequence[int]],
                 workers: int) -> None:
        global _STATE
        self._state = _State(rows, terms, sets)
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[tuple[int, str], Future[Any]] = {}
        if workers <= 1:
            return
        tasks = [(j, "item") for j in reversed(range(len(sets)))]  # the served set is last: the largest first
        tasks += [(j, name) for j in range(len(sets)) for name in HEADS[1:]]
        _STATE = self._state
        try:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_single_threaded)
            self._futures = {task: self._pool.submit(_run, *task) for task in tasks}
        finally:
            _STATE = None  # the forked workers hold their copy; the parent keeps `self._state`

    def heads(self, j: int) -> tuple[Vocabulary, dict[str, dict[str, Any]]]:
        results = {name: self._futures[(j, name)].result() if self._futures else _fit(self._state, j, name)
                   for name in HEADS}
        vocab, item = results.pop("item")
        return vocab, {"item": item, **{name: head for name, head in results.items() if head is not None}}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Fits:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _single_threaded() -> None:
    _LIMITS.append(threadpool_limits(limits=1))


def _run(j: int, name: str) -> Any:
    assert _STATE is not None, "a worker forked without the training state"
    return _fit(_STATE, j, name)


def _fit(state: _State, j: int, name: str) -> Any:
    """The item head: (vocabulary, encoded head); a binary head: its encoded head or None."""
    vocab, x = _prepared(state, j)
    train = [state.rows[i] for i in state.sets[j]]
    if name == "item":
        return vocab, encode(*fit(x, [r.item_code for r in train], config.C_ITEM), prune=config.PRUNE)
    labelled = [(i, v) for i, v in enumerate(binary_labels(train)[name]) if v is not None]
    if len({v for _, v in labelled}) != 2:
        return None
    index = [i for i, _ in labelled]
    _, w, b = fit(x[index], ["yes" if v else "no" for _, v in labelled], config.C_BINARY)
    return encode(["yes"], w, b, prune=config.PRUNE)


def _prepared(state: _State, j: int) -> tuple[Vocabulary, Any]:
    if j not in state.prepared:
        state.prepared.clear()
        train_terms = [state.terms[i] for i in state.sets[j]]
        vocab = vocabulary(train_terms)
        x = matrix(train_terms, {term: i for i, term in enumerate(vocab.terms)}, [q / 1000 for q in vocab.idf])
        state.prepared[j] = (vocab, x)
    return state.prepared[j]
