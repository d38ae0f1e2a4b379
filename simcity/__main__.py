"""Command line: ``python -m simcity write <dir> [--seed N]`` | ``python -m simcity summary [--seed N]``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from simcity.export import write_city
from simcity.generate import generate_city
from simcity.model import City


def summary(city: City) -> str:
    kinds = Counter(g.dedicated_type or "comprehensive" for g in city.grids)
    lines = [
        f"{city.district} ({city.district_en}) {city.version} seed={city.seed}",
        f"streets      {len(city.streets)}",
        f"communities  {len(city.communities)} "
        f"({sum(c.kind == 'village' for c in city.communities)} villages)",
        f"grids        {len(city.grids)}",
        *(f"  {k:<16}{v}" for k, v in sorted(kinds.items())),
        f"workers      {len(city.workers)}",
        f"roads        {len(city.road_names())} ({len(city.road_segments)} grid segments)",
        f"compounds    {len(city.compounds)}",
        f"departments  {len(city.departments)}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simcity", description="Gridline synthetic city 通江区")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="write grids.geojson, gazetteer.json, directory.json")
    w.add_argument("directory", type=Path)
    w.add_argument("--seed", type=int, default=824)
    s = sub.add_parser("summary", help="print counts")
    s.add_argument("--seed", type=int, default=824)
    args = parser.parse_args(argv)
    city = generate_city(args.seed)
    if args.command == "write":
        write_city(city, args.directory)
        print(f"wrote {args.directory}/grids.geojson, gazetteer.json, directory.json")
    else:
        print(summary(city))
    return 0


if __name__ == "__main__":
    sys.exit(main())
