"""`python -m services.router` serves the router; `python -m services.router explain '<incident json>'`
prints the routing decision for one incident without touching Kafka or the database;
`classify FILE.jsonl` classifies a batch of texts (README); `export-training` writes the centre's
corrections as labelled examples."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import uvicorn

from schemas.incident import IncidentReported
from services.router import commands
from services.router.adapters.http import explain_routing
from services.router.app import create_app
from services.router.domain.decide import route
from services.router.settings import RouterSettings
from services.router.tables import load_engine, load_gazetteer, load_tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.router")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    ex = sub.add_parser("explain", help="routing decision for an incident (JSON argument or '-' for stdin)")
    ex.add_argument("incident")
    cl = sub.add_parser("classify", help="classify a JSON-lines file of texts ('-' for stdin)")
    cl.add_argument("file", type=Path)
    tr = sub.add_parser("export-training", help="the centre's dispatches and arbitrations as labelled examples")
    tr.add_argument("--out", type=Path, default=Path("services/router/data/training/centre_corrections.jsonl"))
    args = parser.parse_args(argv)
    settings = RouterSettings()
    if args.command == "classify":
        return commands.classify_file(load_engine(settings, nearest=False), args.file)
    if args.command == "export-training":
        report = asyncio.run(commands.export_training(settings, args.out))
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    if args.command == "explain":
        raw = sys.stdin.read() if args.incident == "-" else args.incident
        tables = load_tables(settings, load_gazetteer(settings.city_dir))
        decision = route(IncidentReported.model_validate_json(raw), tables)
        print(json.dumps(explain_routing(decision), ensure_ascii=False, indent=2))
        return 0
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
