"""`python -m services.sla` serves sla; `python -m services.sla deadline <start> <limit> [working|natural]`
prints a deadline on the calendar, and `python -m services.sla check-calendar` validates the calendar files."""

from __future__ import annotations

import argparse
from datetime import datetime

import uvicorn

from services.sla.adapters.calendar_files import CalendarFileError, load_calendar
from services.sla.app import create_app
from services.sla.domain.durations import parse_duration
from services.sla.settings import SlaSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.sla")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    sub.add_parser("check-calendar", help="validate data/calendar/*.yaml and report every problem")
    dl = sub.add_parser("deadline", help="the deadline for a start time and a limit, e.g. 2026-09-30T16:00+08:00 3wd")
    dl.add_argument("start")
    dl.add_argument("limit")
    dl.add_argument("clock", nargs="?", default="working", choices=["working", "natural"])
    args = parser.parse_args(argv)
    settings = SlaSettings()
    if args.command in ("check-calendar", "deadline"):
        try:
            calendar = load_calendar(settings.calendar_dir)
        except CalendarFileError as error:
            print(error)
            return 1
        if args.command == "check-calendar":
            print(f"calendar {calendar.version}: years {sorted(calendar.years)}, "
                  f"provisional {sorted(calendar.provisional_years)}")
            return 0
        print(calendar.add(datetime.fromisoformat(args.start), parse_duration(args.limit, args.clock)).isoformat())
        return 0
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
