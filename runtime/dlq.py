"""`python -m runtime.dlq <topic>.dlq [--limit N]` — print dead letters with their reason and origin,
for operators (the records stay on the topic; fix the cause, then re-publish upstream)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from aiokafka import AIOKafkaConsumer, TopicPartition


async def read(bootstrap: str, topic: str, limit: int) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        if not consumer.partitions_for_topic(topic):
            await consumer._client.force_metadata_update()  # a fresh client may not know the topic yet
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        letters: list[dict[str, object]] = []
        while len(letters) < limit and [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    letters.append({
                        "offset": r.offset, "key": r.key.decode(errors="replace") if r.key else None,
                        "kind": headers.get("dlq_kind"), "reason": headers.get("dlq_reason"),
                        "origin": json.loads(headers.get("dlq_origin", "null")), "ce_id": headers.get("ce_id"),
                        "value": (r.value or b"")[:300].decode(errors="replace"),
                    })
        return letters[:limit]
    finally:
        await consumer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.dlq")
    parser.add_argument("topic", help="a dead-letter topic, e.g. intake.actions.v1.dlq")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    args = parser.parse_args(argv)
    for letter in asyncio.run(read(args.bootstrap, args.topic, args.limit)):
        print(json.dumps(letter, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
