"""The one harness that brings Gridline's infrastructure up: for `make run`, the tests and `make bench`.

    python -m deploy.local.stack up [--profile run|test]    # Kafka + PostgreSQL + topics, idempotent
    python -m deploy.local.stack down [--profile ...]
    python -m deploy.local.stack env [--profile ...]        # prints KAFKA_BOOTSTRAP / DATABASE_URL

Profiles have their own ports and data so a demo and a test run can live side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy.local import kafka, postgres
from deploy.local.topics import apply_topics

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stack:
    profile: str
    kafka: kafka.KafkaNode
    postgres: postgres.PostgresNode | None  # None when DATABASE_URL points elsewhere
    database: str

    @property
    def database_url(self) -> str:
        external = os.environ.get("DATABASE_URL")
        if external:
            return external
        assert self.postgres is not None
        return self.postgres.url(self.database)

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    def env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP": self.bootstrap, "DATABASE_URL": self.database_url}


# Every port (plus any GRIDLINE_PORT_OFFSET up to 900) stays below Linux's ephemeral range (32768–60999):
# a listener there can find its port taken by one of the many outgoing client connections of a test run.
PORTS = {
    "run": (9092, 9093, 15432),
    "test": (19092, 19093, 15433),
    "bench": (29092, 29093, 15434),
    "chaos": (23092, 23093, 15435),  # the crash tests own a whole stack: they kill -9 services on it
    "browser": (25092, 25093, 15436),  # the console's browser test runs every service as a process on it
}


def stack_for(profile: str) -> Stack:
    """`GRIDLINE_PORT_OFFSET` shifts every port, so two checkouts can run their stacks side by side."""
    offset = int(os.environ.get("GRIDLINE_PORT_OFFSET", "0"))
    kafka_port, controller_port, pg_port = (p + offset for p in PORTS[profile])
    home = ROOT / ".local" / profile
    pg = None if os.environ.get("DATABASE_URL") else postgres.PostgresNode(home / "postgres", pg_port)
    return Stack(profile, kafka.KafkaNode(home / "kafka", kafka_port, controller_port), pg, f"gridline_{profile}")


def up(stack: Stack) -> Stack:
    """Start (or find running) Kafka and PostgreSQL, create the database and the topics."""
    if stack.postgres is not None:
        postgres.start(stack.postgres)
        postgres.create_database(stack.postgres.url(), stack.database)
    kafka.start(stack.kafka)
    asyncio.run(_apply_topics_with_retry(stack.bootstrap))
    return stack


async def _apply_topics_with_retry(bootstrap: str, attempts: int = 30) -> None:
    for attempt in range(attempts):
        try:
            await apply_topics(bootstrap)
            return
        except Exception:  # the broker answers its port before its metadata is ready
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)


def down(stack: Stack) -> None:
    """Stop both servers: PostgreSQL is stopped even when stopping Kafka fails."""
    try:
        kafka.stop(stack.kafka)
    finally:
        if stack.postgres is not None:
            postgres.stop(stack.postgres)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.stack")
    parser.add_argument("command", choices=["up", "down", "env", "jars"])
    parser.add_argument("--profile", default="run", choices=sorted(PORTS))
    args = parser.parse_args(argv)
    stack = stack_for(args.profile)
    if args.command == "jars":
        kafka.ensure_jars()
    elif args.command == "up":
        up(stack)
        print(f"stack '{args.profile}' up: kafka {stack.bootstrap}, postgres {stack.database_url}", file=sys.stderr)
    elif args.command == "down":
        down(stack)
    for name, value in stack.env().items():
        if args.command == "env":
            print(f"export {name}={value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
