"""`python -m services.scoring` serves scoring; `python -m services.scoring check-ruler [dir]` validates
the published rulers (file:line for every problem) — run it before publishing a new version;
`python -m services.scoring rebuild` replays the topics into an EMPTY schema at once and hands the consumer
group over at the offsets it folded (handlers/rebuild.py; README "Replay") — run it with the service stopped."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from pathlib import Path

import uvicorn

from services.scoring.app import create_app
from services.scoring.domain.ruler_files import RulerValidationError, load_rulers
from services.scoring.settings import ScoringSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.scoring")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    check = sub.add_parser("check-ruler", help="validate every <version>.yaml in the ruler directory")
    check.add_argument("directory", nargs="?", type=Path)
    rebuilding = sub.add_parser("rebuild", help="replay the topics into the empty schema and hand the group over")
    rebuilding.add_argument("--from-committed", action="store_true",
                            help="start at the group's committed offsets instead of the log's start")
    rebuilding.add_argument("--workers", type=int, default=None,
                            help="fold in this many processes (default SCORING_REBUILD_WORKERS, 1)")
    args = parser.parse_args(argv)
    settings = ScoringSettings()
    if args.command == "check-ruler":
        try:
            book = load_rulers(args.directory or settings.ruler_dir)
        except RulerValidationError as exc:
            print(exc)
            return 1
        print(json.dumps({"versions": [r.version for r in book.rulers], "current": book.current.version}))
        return 0
    if args.command == "rebuild":
        from aiokafka.errors import OffsetOutOfRangeError

        from services.scoring.handlers.rebuild import NotEmpty, rebuild

        try:
            report = asyncio.run(rebuild(settings, from_committed=args.from_committed, workers=args.workers))
        except NotEmpty as exc:
            print(exc)
            return 1
        except OffsetOutOfRangeError as exc:  # the start is no longer in the log (retention): nothing written
            print(f"a partition's start offset is outside its log, nothing was written: {exc}")
            return 1
        print(json.dumps(asdict(report)))
        return 0
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
