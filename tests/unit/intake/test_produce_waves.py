"""Intake's groups reach the broker in waves: groups that arrive while a produce is unacknowledged share
the next request (one record batch per partition), in their order; a wave that fails fails only its
groups (services/intake/gateway.py: Gateway._publish)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet

from schemas.cloudevents import Outgoing, encode_value
from services.intake.gateway import BrokerUnavailable, Gateway, Submission


class _Batch:
    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def append(self, *, key: bytes, value: bytes, timestamp: None, headers: list[tuple[str, bytes]]) -> object:
        self.keys.append(key)
        return object()

    def close(self) -> None:
        pass


class _Producer:
    """One partition; every batch handed over waits for the test to acknowledge it."""

    def __init__(self) -> None:
        self.sent: list[tuple[list[bytes], asyncio.Future[object]]] = []
        self.client = SimpleNamespace(cluster=SimpleNamespace(available_partitions_for_topic=lambda _: {0}))

    async def partitions_for(self, _: str) -> set[int]:
        return {0}

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(self, batch: _Batch, topic: str, partition: int) -> asyncio.Future[object]:
        delivery: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.sent.append((batch.keys, delivery))
        return delivery


def _group(*keys: str) -> tuple[list[Outgoing], list[tuple[Submission, str | None]]]:
    records = [encode_value("intake.hotline.v1", k, b"{}", type="t", source="/s", event_id=k) for k in keys]
    subs = [(Submission("hotline", k, k, "h", "intake.hotline.v1", "t", k, lambda i, r: b"{}"), None) for k in keys]
    return records, subs


def _gateway(producer: _Producer) -> Gateway:
    pool: Any = None
    return Gateway(pool, producer, Fernet.generate_key().decode(), timeout=5)  # type: ignore[arg-type]


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_groups_arriving_during_a_produce_share_the_next_request_in_their_order() -> None:
    producer = _Producer()
    gateway = _gateway(producer)
    first = asyncio.create_task(gateway._publish(*_group("A1", "A2")))
    await _settle()
    later = [asyncio.create_task(gateway._publish(*_group(*keys))) for keys in (("B1",), ("C1", "C2"))]
    await _settle()
    assert [keys for keys, _ in producer.sent] == [[b"A1", b"A2"]]  # B and C wait for A's acknowledgement
    producer.sent[0][1].set_result(None)
    await first
    await _settle()
    assert [keys for keys, _ in producer.sent] == [[b"A1", b"A2"], [b"B1", b"C1", b"C2"]]
    assert not any(task.done() for task in later)  # not durable before the broker says so
    producer.sent[1][1].set_result(None)
    await asyncio.gather(*later)


async def test_a_failed_wave_fails_its_groups_and_the_next_wave_goes_on() -> None:
    producer = _Producer()
    gateway = _gateway(producer)
    first = asyncio.create_task(gateway._publish(*_group("A1")))
    await _settle()
    second = asyncio.create_task(gateway._publish(*_group("B1")))
    await _settle()
    producer.sent[0][1].set_exception(ConnectionResetError("broker went away"))
    with pytest.raises(BrokerUnavailable):
        await first
    await _settle()
    assert [keys for keys, _ in producer.sent] == [[b"A1"], [b"B1"]]
    producer.sent[1][1].set_result(None)
    await second
