"""Generate the JSON Schema files and the AsyncAPI 3 document from the models.

    python -m schemas.generate            # write schemas/json/*.json and schemas/asyncapi.yaml
    python -m schemas.generate --publish  # also freeze them as the published baseline (a release step)

`tests/unit/test_contracts.py` fails when the files are stale or break the published baseline.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from schemas.topics import ACTION_TAKEN, CATALOGUE, INCIDENT_REPORTED, SCORE_CARD, SCORE_CARD_REMOVED

HERE = Path(__file__).resolve().parent
JSON_DIR = HERE / "json"
PUBLISHED_DIR = HERE / "published"
ASYNCAPI = HERE / "asyncapi.yaml"

_TYPES = {
    "intake.hotline.v1": [INCIDENT_REPORTED],
    "intake.grid.v1": [INCIDENT_REPORTED],
    "intake.wechat.v1": [INCIDENT_REPORTED],
    "intake.actions.v1": [ACTION_TAKEN],
    "case.events.v1": ["gov.gridline.case.<kind>.v1 (kind: CaseEvent.kind; `answered` closes an enquiry "
                       "from the knowledge base (直接答复), `assignment.assisting` names the 协办 departments "
                       "beside the lead owner (主办), `model_version` sits beside `list_version`)"],
    "sla.events.v1": ["gov.gridline.sla.<kind>.v1 (kind: SlaEvent.kind)"],
    "scoring.v1": [SCORE_CARD, f"{SCORE_CARD_REMOVED} (a tombstone: null value, the key is no longer scored, "
                               "e.g. its only case moved to another place)"],
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, one per payload model."""
    out: dict[str, dict[str, Any]] = {}
    for model, _, _ in CATALOGUE.values():
        out[f"{model.__name__}.json"] = model.model_json_schema(mode="serialization")
    return out


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic, (model, writer, key) in CATALOGUE.items():
        cid = topic.replace(".", "_")
        messages[model.__name__] = {
            "name": model.__name__,
            "contentType": "application/json",
            "payload": {"$ref": f"./json/{model.__name__}.json"},
            "headers": {"type": "object", "properties": {
                h: {"type": "string"} for h in (
                    "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type",
                    "traceparent", "tracestate")}},
            "bindings": {"kafka": {"key": {"type": "string", "description": key}}},
        }
        channels[cid] = {
            "address": topic,
            "description": f"Written by {writer}. CloudEvents types: {', '.join(_TYPES[topic])}. Key: {key}."
                           + (AT_LEAST_ONCE if writer != "intake" else ""),
            "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}},
        }
        channels[cid + "_dlq"] = {
            "address": f"{topic}.dlq",
            "description": "Dead letters: the original record with dlq_reason, dlq_kind, dlq_origin headers.",
        }
        operations[f"publish_{cid}"] = {"action": "send", "channel": {"$ref": f"#/channels/{cid}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Gridline events", "version": "1.0.0",
                 "description": "CloudEvents 1.0, Kafka protocol binding, binary mode (see ARCHITECTURE.md)."},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


AT_LEAST_ONCE = (" Delivery is at least once: after a crash of the writer between the broker's acknowledgement"
                 " and its outbox marking the record sent, the same record is published again with the same"
                 " ce_id. Direct consumers must de-duplicate by ce_id (Gridline's services keep an inbox).")


def render() -> dict[Path, str]:
    files = {JSON_DIR / name: json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
             for name, schema in json_schemas().items()}
    files[ASYNCAPI] = yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.generate")
    parser.add_argument("--publish", action="store_true")
    args = parser.parse_args(argv)
    JSON_DIR.mkdir(exist_ok=True)
    for path, text in render().items():
        path.write_text(text)
    if args.publish:
        shutil.rmtree(PUBLISHED_DIR, ignore_errors=True)
        shutil.copytree(JSON_DIR, PUBLISHED_DIR)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
