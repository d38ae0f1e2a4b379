"""Apply deploy/topics.yaml to a broker idempotently: create what is missing, align configs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

TOPICS_FILE = Path(__file__).resolve().parents[1] / "topics.yaml"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]


def load_specs(path: Path = TOPICS_FILE) -> list[TopicSpec]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    defaults, dlq = doc["defaults"], doc["dlq"]
    specs: list[TopicSpec] = []
    for entry in doc["topics"]:
        specs.append(_spec(entry["name"], {**defaults, **entry}))
        if entry.get("input"):
            specs.append(_spec(entry["name"] + ".dlq", {**defaults, **dlq}))
    return specs


def _spec(name: str, merged: dict[str, Any]) -> TopicSpec:
    configs = {
        "retention.ms": str(merged["retention_ms"]),
        "cleanup.policy": str(merged.get("cleanup_policy", "delete")),
        "min.insync.replicas": "1",
    }
    return TopicSpec(name, int(merged["partitions"]), int(merged["replication_factor"]), configs)


async def apply_topics(bootstrap: str, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create missing topics and set configs on existing ones. Returns the names created."""
    specs = specs if specs is not None else load_specs()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs) for s in missing]
                )
            except TopicAlreadyExistsError:
                pass  # a concurrent apply won the race; configs are aligned below
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name, configs=s.configs) for s in specs]
        )
        return [s.name for s in missing]
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
