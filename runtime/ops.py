"""Operator tools: `python -m runtime.ops <command> …` (JSON lines on stdout).

    lag [--group G …]                      consumer lag per group and partition (all groups when omitted)
    dlq list <topic>.dlq [--limit N]       dead letters with reason, kind and origin
    dlq replay <topic>.dlq [--offset N …]  re-publish dead letters to the topic they came from
    timeline <case_id>                     a case's events across services, in time order
    redrive <group> <topic> <partition> <from_offset>
                                           make a stopped consumer group read a partition again from an offset

A replay is idempotent: the record goes back with its original ce_id, so a consumer that already
handled it (its inbox) ignores it, and replaying twice changes nothing the first replay did not.
A re-drive only moves the group's committed offset (the group's instances must be stopped first, as
with kafka-consumer-groups --reset-offsets); the consumers' inboxes still skip what they have done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import OffsetAndMetadata

from runtime.dlq import read as read_dead_letters
from runtime.kafka import make_producer, send
from schemas.topics import CASE_KEYED

DLQ_HEADERS = ("dlq_reason", "dlq_kind", "dlq_origin", "dlq_time")


@dataclass(frozen=True)
class Lag:
    group: str
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    return admin


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()  # a fresh client may not know the topic yet
        partitions = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(partitions)]


async def consumer_lag(bootstrap: str, groups: Sequence[str] | None = None) -> list[Lag]:
    """Committed offset and end offset of every partition of every topic a group has committed on."""
    admin = await _admin(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        if not groups:
            groups = sorted(str(g[0]) for g in await admin.list_consumer_groups())
        rows: list[Lag] = []
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            topics = sorted({tp.topic for tp in committed})
            tps = [tp for topic in topics for tp in await _partitions(consumer, topic)]
            ends = await consumer.end_offsets(tps) if tps else {}
            for tp in tps:
                done = committed.get(tp)
                rows.append(Lag(group, tp.topic, tp.partition, done.offset if done else None, ends[tp]))
        return rows
    finally:
        await consumer.stop()
        await admin.close()


async def replay(bootstrap: str, dlq_topic: str, offsets: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Re-publish dead letters (all, or those at `offsets`) to their origin topic, as they were
    before they died: same key, value and CloudEvents headers (so the same ce_id)."""
    consumer, tps = await _at_start(bootstrap, dlq_topic)
    producer = make_producer(bootstrap, client_id="gridline-ops")
    await producer.start()
    replayed: list[dict[str, Any]] = []
    try:
        wanted = set(offsets) if offsets else None
        for record in await _read_to_end(consumer, tps):
            if wanted is not None and record.offset not in wanted:
                continue
            headers = dict(record.headers)
            origin = json.loads(headers.get("dlq_origin", b"null") or b"null") or {}
            topic = origin.get("topic") or dlq_topic.removesuffix(".dlq")
            kept = [(k, v) for k, v in record.headers if k not in DLQ_HEADERS]
            kept.append(("dlq_replayed_from", f"{dlq_topic}:{record.offset}".encode()))
            await (await send(producer, topic, value=record.value, key=record.key, headers=kept))
            replayed.append({"dlq_offset": record.offset, "topic": topic,
                             "ce_id": headers.get("ce_id", b"").decode(errors="replace") or None})
        return replayed
    finally:
        await producer.stop()
        await consumer.stop()


async def timeline(bootstrap: str, case_id: str) -> list[dict[str, Any]]:
    """Everything the case-keyed topics hold about one case — router's case events, sla's deadlines,
    warnings and escalations, the departments' actions — read from the one partition its key maps to."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    partitioner = DefaultPartitioner()
    entries: list[dict[str, Any]] = []
    try:
        for topic in CASE_KEYED:
            all_tps = await _partitions(consumer, topic)
            if not all_tps:
                continue
            partition = partitioner(case_id.encode(), [tp.partition for tp in all_tps],
                                    [tp.partition for tp in all_tps])
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            for record in await _read_to_end(consumer, [tp]):
                if record.key != case_id.encode():
                    continue
                headers = {k: v.decode(errors="replace") for k, v in record.headers}
                body = json.loads(record.value or b"{}")
                entries.append({"time": headers.get("ce_time"), "topic": topic, "type": headers.get("ce_type"),
                                "ce_id": headers.get("ce_id"), "source": headers.get("ce_source"),
                                "kind": body.get("kind"), "seq": body.get("seq"), "state": body.get("state"),
                                "trace": headers.get("traceparent")})
        entries.sort(key=lambda e: (e["time"] or "", e["topic"]))
        return entries
    finally:
        await consumer.stop()


async def redrive(bootstrap: str, group: str, topic: str, partition: int, offset: int) -> dict[str, Any]:
    """Set `group`'s committed offset on one partition; refuses while the group has members."""
    admin = await _admin(bootstrap)
    try:
        [response] = await admin.describe_consumer_groups([group])
        state = response.groups[0][2] if response.groups else "Dead"
        if state not in ("Empty", "Dead"):
            raise SystemExit(f"group {group} is {state}: stop its consumers before re-driving")
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        before = await consumer.committed(tp)
        await consumer.commit({tp: OffsetAndMetadata(offset, "redriven by runtime.ops")})
        return {"group": group, "topic": topic, "partition": partition, "from": before, "to": offset}
    finally:
        await consumer.stop()


async def _at_start(bootstrap: str, topic: str) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    tps = await _partitions(consumer, topic)
    if tps:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
    return consumer, tps


async def _read_to_end(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> list[Any]:
    """Every record of `tps` from the current position to the end offsets seen now."""
    if not tps:
        return []
    ends = await consumer.end_offsets(tps)
    remaining = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
    records: list[Any] = []
    while remaining:
        batch = await consumer.getmany(*remaining, timeout_ms=500)
        for tp, rs in batch.items():
            records.extend(r for r in rs if r.offset < ends[tp])
        remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    return records


def _print(rows: Sequence[Any]) -> None:
    for row in rows:
        data = asdict(row) | {"lag": row.lag} if isinstance(row, Lag) else row
        print(json.dumps(data, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    commands = parser.add_subparsers(dest="command", required=True)
    lag = commands.add_parser("lag", help="consumer lag per group and partition")
    lag.add_argument("--group", action="append")
    dlq = commands.add_parser("dlq", help="dead letters")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = dlq_commands.add_parser("list")
    listing.add_argument("topic")
    listing.add_argument("--limit", type=int, default=50)
    again = dlq_commands.add_parser("replay")
    again.add_argument("topic")
    again.add_argument("--offset", type=int, action="append")
    line = commands.add_parser("timeline", help="a case's events across services")
    line.add_argument("case_id")
    drive = commands.add_parser("redrive", help="re-read a partition from an offset (group stopped)")
    drive.add_argument("group")
    drive.add_argument("topic")
    drive.add_argument("partition", type=int)
    drive.add_argument("offset", type=int)
    args = parser.parse_args(argv)
    if args.command == "lag":
        _print(asyncio.run(consumer_lag(args.bootstrap, args.group)))
    elif args.command == "dlq" and args.dlq_command == "list":
        _print(asyncio.run(read_dead_letters(args.bootstrap, args.topic, args.limit)))
    elif args.command == "dlq":
        _print(asyncio.run(replay(args.bootstrap, args.topic, args.offset)))
    elif args.command == "timeline":
        _print(asyncio.run(timeline(args.bootstrap, args.case_id)))
    else:
        _print([asyncio.run(redrive(args.bootstrap, args.group, args.topic, args.partition, args.offset))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
