"""Kafka's default partition of many keys at once: murmur2 as aiokafka's `DefaultPartitioner` computes it,
vectorised with numpy over the keys of one length.

aiokafka's murmur2 is pure Python, byte by byte: ~2.5-3.5 µs a key, 5 % of intake's samples on the 12345
batch path (py-spy, docs/benchmarks.md "Intake, seventh pass"). A group commit partitions hundreds of
keys of the same length (ticket numbers) at once: as uint32 arrays that is ~0.3 µs a key. Small sets of
one length take a word-at-a-time Python loop instead (numpy's per-call cost would dominate). The result
is the same partition for every key (tests/unit/runtime/test_partition.py compares both with aiokafka's).
"""

from __future__ import annotations

import random
import struct
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

_SEED, _M = 0x9747B28C, 0x5BD1E995
_M32 = np.uint32(_M)
VECTOR_MIN = 32  # keys of one length from which numpy is cheaper than the Python loop


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), one 32-bit word at a time."""
    length = len(data)
    h = _SEED ^ length
    whole = length & ~3
    for (k,) in struct.iter_unpack("<I", data[:whole]):
        k = (k * _M) & 0xFFFFFFFF
        k ^= k >> 24
        h = ((h * _M) & 0xFFFFFFFF) ^ ((k * _M) & 0xFFFFFFFF)
    extra = length & 3
    if extra:
        if extra >= 3:
            h ^= data[whole + 2] << 16
        if extra >= 2:
            h ^= data[whole + 1] << 8
        h = ((h ^ data[whole]) * _M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _M) & 0xFFFFFFFF
    return h ^ (h >> 15)


def _murmur2_same_length(keys: list[bytes], length: int) -> list[int]:
    """murmur2 of keys that all have `length` bytes (uint32 arithmetic wraps as the Java ints do)."""
    rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), length)
    h = np.full(len(keys), (_SEED ^ length) & 0xFFFFFFFF, dtype=np.uint32)
    whole = length & ~3
    if whole:
        words = np.ascontiguousarray(rows[:, :whole]).view("<u4")
        for j in range(whole // 4):
            k = words[:, j] * _M32
            k ^= k >> np.uint32(24)
            k *= _M32
            h *= _M32
            h ^= k
    extra = length & 3
    if extra:
        if extra >= 3:
            h ^= rows[:, whole + 2].astype(np.uint32) << np.uint32(16)
        if extra >= 2:
            h ^= rows[:, whole + 1].astype(np.uint32) << np.uint32(8)
        h ^= rows[:, whole].astype(np.uint32)
        h *= _M32
    h ^= h >> np.uint32(13)
    h *= _M32
    h ^= h >> np.uint32(15)
    hashed: list[int] = h.tolist()
    return hashed


def murmur2_many(keys: Sequence[bytes]) -> list[int]:
    """murmur2 of each key, in order."""
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        by_length[len(key)].append(i)
    out = [0] * len(keys)
    for length, indexes in by_length.items():
        if len(indexes) < VECTOR_MIN:
            for i in indexes:
                out[i] = murmur2(keys[i])
            continue
        for i, h in zip(indexes, _murmur2_same_length([keys[i] for i in indexes], length), strict=True):
            out[i] = h
    return out


def partitions_of(keys: Sequence[bytes | None], every: list[int], available: list[int]) -> list[int]:
    """The partition `DefaultPartitioner` picks for each key (`every` sorted by id; a record without a key
    goes to a random available partition, as there)."""
    hashed = iter(murmur2_many([k for k in keys if k is not None]))
    return [every[(next(hashed) & 0x7FFFFFFF) % len(every)] if k is not None
            else random.choice(available or every)  # spreading load, as aiokafka does
            for k in keys]
