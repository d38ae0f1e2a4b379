"""`python -m services.scoring` serves scoring; `python -m services.scoring check-ruler [dir]` validates
the published rulers (file:line for every problem) — run it before publishing a new version."""

from __future__ import annotations

import argparse
import json
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
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
