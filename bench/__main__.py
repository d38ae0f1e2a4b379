"""`python -m bench [scoring|sla] [--quick] [--only core|intake|pipeline|scoring|sla ...] [--year]`: run, print the
table, write results.json. `python -m bench scoring` (or `sla`) runs only that benchmark.

The stack benchmarks bring up the `bench` profile (own ports and data, wiped first) and stop it at the
end. Sizes have defaults that keep a full run within a few minutes on 2 cores; --quick is a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench import core, e2e, intake, pipeline, recovery, scoring, sla
from bench.data import write_city_dir
from bench.infra import fresh_stack, warm_group_coordinator
from bench.profile import hottest
from bench.report import Results, Section, machine, render
from bench.timing import Ratio
from deploy.local import stack as local_stack

ROOT = Path(__file__).resolve().parents[1]
E2E_LOADS = (25.0, 50.0, 100.0, 250.0, 500.0)  # tickets/s offered, one run each (ascending)
E2E_SECONDS = 6.0
SUITES = ("core", "pipeline", "intake", "scoring", "sla", "e2e", "recovery")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes: checks that everything runs (~1 min)")
    p.add_argument("--only", nargs="+", choices=SUITES, default=list(SUITES), help="run only these suites")
    p.add_argument("--out", type=Path, default=ROOT / ".local" / "bench" / "results.json")
    p.add_argument("--keep-stack", action="store_true", help="leave the bench stack running afterwards")
    g = p.add_argument_group("sizes (override the defaults or --quick)")
    g.add_argument("--incidents", type=int, help="routing core: synthetic incidents per repetition")
    g.add_argument("--repetitions", type=int, help="routing core: timed repetitions")
    g.add_argument("--seconds", type=int, help="intake: seconds per wrk round")
    g.add_argument("--connections", type=int, help="intake: wrk connections (intake and floor c alike)")
    g.add_argument("--batches", type=int, help="intake: batch calls per round")
    g.add_argument("--rounds", type=int, help="intake and pipeline: rounds")
    g.add_argument("--router-incidents", type=int, help="pipeline: incidents per round (K)")
    g.add_argument("--open-cases", type=int, help="pipeline: one more round with this many open cases (1000000)")
    g.add_argument("--deadlines", type=int, help="sla: open deadlines in the table (1000000)")
    g.add_argument("--e2e-loads", type=float, nargs="+", help="end to end: offered loads, reports/s (25 … 500)")
    g.add_argument("--e2e-seconds", type=float, help="end to end: seconds per offered load (6)")
    p.add_argument("--no-profile", action="store_true",
                   help="do not sample the router, scoring, intake and the end-to-end services with py-spy")
    g.add_argument("--scoring-cases", type=int, help="scoring: synthetic cases per round")
    g.add_argument("--year", action="store_true", help="scoring: replay a synthetic year (~1,000,000 cases; hours)")
    g.add_argument("--year-months", type=int, choices=range(1, 13), metavar="M",
                   help="scoring: replay the first M months of that year, at its density")
    g.add_argument("--year-days", type=int, choices=range(1, 366), metavar="D",
                   help="scoring: replay the first D days of that year, at its density (a short profile)")
    g.add_argument("--rebuild-workers", type=int, nargs="+", metavar="N",
                   help="scoring: rebuild with each of these numbers of fold processes, in this order, on the same "
                        "records (default: the service's default, 2)")
    g.add_argument("--no-incremental", action="store_true",
                   help="scoring: only the floor and the rebuild (not the incremental consumer)")
    if argv and argv[0] in SUITES:  # `python -m bench scoring`
        argv = ["--only", argv[0], *argv[1:]]
    return p.parse_args(argv)


def scoring_sizes(args: argparse.Namespace) -> scoring.ScoringSizes:
    s = scoring.ScoringSizes(cases=600, rounds=1) if args.quick else scoring.ScoringSizes()
    if args.scoring_cases:
        s = replace(s, cases=args.scoring_cases)
    s = replace(s, year_months=12 if args.year else args.year_months or 0, year_days=args.year_days or 0)
    if args.rebuild_workers:
        s = replace(s, rebuild_workers=tuple(args.rebuild_workers))
    if args.no_incremental:
        s = replace(s, incremental=False)
    return s if args.no_profile else replace(s, profile=args.out.parent / "profile-scoring.txt")


def sla_sizes(args: argparse.Namespace) -> sla.SlaSizes:
    s = sla.SlaSizes(deadlines=50_000, burst=2_000, rounds=1, lateness=3_000) if args.quick else sla.SlaSizes()
    return replace(s, deadlines=args.deadlines) if args.deadlines else s


def sizes(args: argparse.Namespace) -> tuple[core.CoreSizes, intake.IntakeSizes, pipeline.PipelineSizes]:
    c, i, r = core.CoreSizes(), intake.IntakeSizes(), pipeline.PipelineSizes()
    if args.quick:
        c = core.CoreSizes(incidents=600, naive_points=100, repetitions=3, slices=10)
        i = intake.IntakeSizes(seconds=3, batches=2, rounds=1, warmup=1)
        r = pipeline.PipelineSizes(incidents=200, rounds=1)

    def given(**fields: int | None) -> dict[str, int]:
        return {name: value for name, value in fields.items() if value is not None}

    c = replace(c, **given(incidents=args.incidents, repetitions=args.repetitions))
    i = replace(i, **given(seconds=args.seconds, connections=args.connections, batches=args.batches,
                           rounds=args.rounds))
    r = replace(r, **given(incidents=args.router_incidents, rounds=args.rounds, open_cases=args.open_cases))
    if not args.no_profile:
        r = replace(r, profile=args.out.parent / "profile-router.txt")
        i = replace(i, profile=args.out.parent)
    return c, i, r


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _cross(sections: list[Section]) -> None:
    """How much of the router pipeline's time is the decision itself (both measured in this run)."""
    rates = {rate.name: rate for section in sections for rate in section.rates}
    router, decide = rates.get(pipeline.ROUTER_RATE), rates.get(core.ROUTE_RATE)
    pipe = next((s for s in sections if s.title.startswith("3.")), None)
    if router and decide and pipe:
        pipe.ratios.append(Ratio("router pipeline / route() alone", router, decide,
                                 "share of the pipeline's time that is the routing decision"))


async def _on_stack(stack: local_stack.Stack, city_dir: Path, suites: list[str],
                    i: intake.IntakeSizes, r: pipeline.PipelineSizes, logs: Path,
                    s: scoring.ScoringSizes, quick: bool, results: Results,
                    e2e_loads: list[float] | None = None, e2e_seconds: float | None = None) -> None:
    """Pipeline first: the router must meet an empty intake.hotline.v1, not the intake benchmark's tickets;
    end to end next (its router resumes where the pipeline's left off), intake last. Each section is
    added to `results` (and so to results.json) as soon as it is measured."""
    await warm_group_coordinator(stack.bootstrap)
    if "pipeline" in suites:
        rates, ratios, facts = await pipeline.run(stack, city_dir, r)
        if r.profile is not None and r.profile.exists():
            facts["profile"] = {"file": _shown(r.profile), **hottest(r.profile)}
        big = pipeline.open_cases_profile(r.profile) if r.profile is not None else None
        if r.open_cases and big is not None and big.exists() and "open_cases_round" in facts:
            facts["open_cases_round"]["profile"] = {"file": _shown(big), **hottest(big)}
        results.add(Section("3. Router pipeline (intake.hotline.v1 → router → cases + case.events.v1)",
                                rates, ratios, facts))
    if "scoring" in suites:
        rates, ratios, facts = await scoring.run(stack, s)
        results.add(Section("4. Scoring (case.events.v1 + sla.events.v1 → facts → cards on scoring.v1)",
                                rates, ratios, facts))
    if "e2e" in suites:
        print("end to end …", file=sys.stderr, flush=True)
        loads, seconds = ((50.0, 500.0), 2.0) if quick else (E2E_LOADS, E2E_SECONDS)
        loads, seconds = tuple(e2e_loads or loads), e2e_seconds or seconds
        e2e_facts = await e2e.run(stack, city_dir, logs, loads, seconds, logs.parent / "latency.png",
                                  r.profile)
        results.add(Section("6. End to end over HTTP (ticket → intake → router → case.dispatched)", [], [],
                                e2e_facts))
    if "recovery" in suites:
        print("recovery after kill -9 …", file=sys.stderr, flush=True)
        results.add(Section("7. Recovery after kill -9 (until the service processes again; target ≤ 15 s)",
                                [], [], await recovery.run(stack, city_dir, logs)))
    if "intake" in suites:
        rates, ratios, facts = await intake.run(stack, i, logs)
        results.add(Section("2. Intake over HTTP (wrk → uvicorn → PostgreSQL ledger → Kafka acks=all)",
                                rates, ratios, facts))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    c, i, r = sizes(args)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    results = Results(args.out, argv)
    with tempfile.TemporaryDirectory(prefix="gridline-bench-city-") as tmp:
        city_dir = write_city_dir(Path(tmp))
        if "core" in args.only:
            print("routing core …", file=sys.stderr, flush=True)
            rates, ratios, facts = core.run(city_dir, c)
            results.add(Section("1. Routing core (pure, one process, no I/O)", rates, ratios, facts))
        if {"intake", "pipeline", "scoring", "sla", "e2e", "recovery"} & set(args.only):
            print("bench stack (fresh) …", file=sys.stderr, flush=True)
            stack, took = fresh_stack()
            print(f"  up in {took:.0f} s: kafka {stack.bootstrap}, {stack.database_url}", file=sys.stderr, flush=True)
            try:
                print("router pipeline and intake …", file=sys.stderr, flush=True)
                asyncio.run(_on_stack(stack, city_dir, args.only, i, r, args.out.parent / "logs",
                                      scoring_sizes(args), args.quick, results, args.e2e_loads,
                                      args.e2e_seconds))
                if "sla" in args.only:
                    print("sla timer …", file=sys.stderr, flush=True)
                    size = sla_sizes(args)
                    rates, ratios, facts = asyncio.run(sla.run(stack.database_url, size))
                    results.add(Section(f"5. SLA timer ({size.deadlines:,} open deadlines in PostgreSQL)",
                                            rates, ratios, facts))
            finally:
                if not args.keep_stack:
                    local_stack.down(stack)
    results.sections.sort(key=lambda s: s.title)
    _cross(results.sections)
    results.write(complete=True)
    print(render(results.sections, results.started, machine(), time.perf_counter() - results.began))
    print(f"\nwritten: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
