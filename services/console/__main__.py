"""`python -m services.console` serves the console; `python -m services.console hash-password` prints
the hash to put in data/users.yaml for a password read from stdin."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from services.console.app import create_app
from services.console.domain.users import hash_password
from services.console.settings import ConsoleSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.console")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    sub.add_parser("hash-password", help="read a password from stdin, print its PBKDF2 hash")
    args = parser.parse_args(argv)
    if args.command == "hash-password":
        print(hash_password(sys.stdin.readline().rstrip("\n")))
        return 0
    settings = ConsoleSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
