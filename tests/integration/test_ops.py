"""Operator tools (`python -m runtime.ops`) against the session's broker and router: dead letters are
listed and replayed (twice: the second changes nothing), a case's timeline is read across the
case-keyed topics, consumer lag is shown per group and partition, a stopped group is re-driven."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local.stack import Stack
from runtime import ops
from runtime.dlq import read as read_dead_letters
from runtime.kafka import make_producer
from schemas.cloudevents import encode
from schemas.common import Channel, GeoPoint
from schemas.incident import IncidentReported, Location, Reporter
from schemas.topics import CASE_EVENTS, INCIDENT_REPORTED, INTAKE_GRID, INTAKE_HOTLINE, dlq
from tests.integration.conftest import Places
from tests.integration.intake_probe import keyed, published
from tests.integration.router_support import wait_for_case
from tests.integration.test_scoring import start_group_at

pytestmark = pytest.mark.integration


async def dead_letter_an_incident(stack: Stack, places: Places, uid: str) -> tuple[str, int]:
    """A hotline incident as a consumer would have dead-lettered it (e.g. during a bug, since fixed)."""
    grid = places.take()
    iid = f"HL-OPS{uid}"
    event = IncidentReported(
        incident_id=iid, channel=Channel.HOTLINE, source_id=iid, reporter=Reporter(kind="citizen"),
        text="楼下垃圾堆了好几天没人清理，乱堆乱放，臭气熏天",
        location=Location(point=GeoPoint(lon=grid["centroid_lon"], lat=grid["centroid_lat"])),
        reported_at=datetime.now(UTC), received_at=datetime.now(UTC),
    )
    record = encode(INTAKE_HOTLINE, iid, event, type=INCIDENT_REPORTED, source="/test/ops", subject=iid,
                    event_id=iid)
    headers = [*record.headers, ("dlq_reason", b"handler_error: KeyError at incidents.py:40"),
               ("dlq_kind", b"handler_error"),
               ("dlq_origin", json.dumps({"topic": INTAKE_HOTLINE, "partition": 0, "offset": 0,
                                          "service": "router"}).encode())]
    producer = make_producer(stack.bootstrap, client_id="test-ops")
    await producer.start()
    try:
        meta = await (await producer.send(dlq(INTAKE_HOTLINE), value=record.value, key=record.key, headers=headers))
    finally:
        await producer.stop()
    return iid, meta.offset


async def test_a_dead_letter_is_listed_and_replayed_once_however_often_it_is_replayed(
    stack: Stack, places: Places, router_client: httpx.AsyncClient, uid: str
) -> None:
    iid, offset = await dead_letter_an_incident(stack, places, uid)
    listed = [d for d in await read_dead_letters(stack.bootstrap, dlq(INTAKE_HOTLINE), 10_000)
              if d["offset"] == offset]
    assert listed and listed[0]["kind"] == "handler_error" and listed[0]["ce_id"] == iid
    for _ in range(2):
        [done] = await ops.replay(stack.bootstrap, dlq(INTAKE_HOTLINE), [offset])
        assert done == {"dlq_offset": offset, "topic": INTAKE_HOTLINE, "ce_id": iid}
    case = await wait_for_case(router_client, f"C-{iid}", lambda c: c["state"] != "new", timeout=60)
    assert len(await published(stack, INTAKE_HOTLINE, keyed(iid))) == 2  # both replays reached the topic
    seqs = [t["seq"] for t in case["timeline"]]
    assert seqs == list(range(1, len(seqs) + 1))  # but the case was opened and routed once
    events = await published(stack, CASE_EVENTS, keyed(f"C-{iid}"))
    assert len({e.id for e in events}) == len(seqs)

    line = await ops.timeline(stack.bootstrap, f"C-{iid}")
    assert [e["seq"] for e in line if e["topic"] == CASE_EVENTS] == seqs
    assert line[0]["type"] == "gov.gridline.case.created.v1"
    assert all(e["trace"] for e in line)  # each entry leads to its trace


async def ends_of(stack: Stack, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


def rows_of(lags: list[ops.Lag]) -> dict[int, dict[str, Any]]:
    return {row.partition: {"committed": row.committed, "end": row.end, "lag": row.lag} for row in lags}


async def own_topic(stack: Stack, uid: str, partitions: int = 3) -> str:
    """A topic of this test's own with records on every partition: a shared topic's end moves while the
    test reads it (the session's other services and feeds keep producing)."""
    topic = f"test.ops.lag.{uid.lower()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    producer = make_producer(stack.bootstrap, client_id="test-ops")
    await producer.start()
    try:
        for p in range(partitions):
            for n in range(p + 2):
                await producer.send_and_wait(topic, value=b"{}", key=f"{p}-{n}".encode(), partition=p)
    finally:
        await producer.stop()
    return topic


async def test_lag_is_shown_per_group_and_partition_and_a_stopped_group_is_redriven(stack: Stack, uid: str) -> None:
    group, topic = f"test-ops-{uid}", await own_topic(stack, uid)
    ends = await ends_of(stack, topic)
    assert len(ends) == 3 and all(ends.values())
    first = min(ends)
    await start_group_at(stack.bootstrap, group, {first: ends[first]})  # one partition done, the others never committed
    lags = await ops.consumer_lag(stack.bootstrap, [group])
    assert {(row.group, row.topic) for row in lags} == {(group, topic)}
    expected = {tp.partition: {"committed": ends[tp] if tp == first else None, "end": ends[tp],
                               "lag": 0 if tp == first else ends[tp]} for tp in ends}
    assert rows_of(lags) == expected

    moved = await ops.redrive(stack.bootstrap, group, topic, first.partition, 0)
    assert (moved["from"], moved["to"]) == (ends[first], 0)
    after = rows_of(await ops.consumer_lag(stack.bootstrap, [group]))
    assert after[first.partition] == {"committed": 0, "end": ends[first], "lag": ends[first]}


async def test_a_group_with_running_consumers_is_not_redriven(stack: Stack, uid: str) -> None:
    group = f"test-ops-live-{uid}"
    consumer = AIOKafkaConsumer(INTAKE_GRID, bootstrap_servers=stack.bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=3000)  # joined
        with pytest.raises(SystemExit, match="stop its consumers"):
            await ops.redrive(stack.bootstrap, group, INTAKE_GRID, 0, 0)
    finally:
        await consumer.stop()


def test_the_command_line_prints_json_lines(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert ops.main(["--bootstrap", stack.bootstrap, "lag", "--group", "gridline-router"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and {"group", "topic", "partition", "committed", "end", "lag"} <= set(lines[0])
