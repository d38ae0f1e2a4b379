"""The group's partitioner must put every key where aiokafka's `DefaultPartitioner` (Kafka's murmur2)
puts it: consumers rely on per-key order, and a record of one key on two partitions would break it."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner, murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.partition import VECTOR_MIN, murmur2_many, partitions_of

_KEYS = st.lists(st.binary(max_size=48), max_size=80)


@settings(max_examples=300, deadline=None)
@given(_KEYS)
def test_murmur2_of_every_key_is_kafkas(keys: list[bytes]) -> None:
    assert murmur2_many(keys) == [murmur2(k) for k in keys]


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=40), st.integers(min_value=VECTOR_MIN, max_value=3 * VECTOR_MIN))
def test_many_keys_of_one_length_hash_as_kafka_does(length: int, n: int) -> None:
    keys = [bytes((i * 31 + j * 7) % 256 for j in range(length)) for i in range(n)]  # the vectorised path
    assert murmur2_many(keys) == [murmur2(k) for k in keys]


def test_a_group_of_ticket_numbers_lands_where_aiokafka_puts_it() -> None:
    keys = [f"12345-20261204-{i:06d}".encode() for i in range(500)] + [b"", b"a", b"ab", b"abc"]
    every = list(range(6))
    expected = [DefaultPartitioner()(k, every, every) for k in keys]
    assert partitions_of(keys, every, every) == expected
