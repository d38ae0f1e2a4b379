"""Prometheus metrics (prometheus-client), served at `/metrics` by every service.

    gridline_records_in_total{service,topic,outcome}      records consumed: handled | dead_lettered
    gridline_records_out_total{service,topic,type}        records published (outbox relay, intake)
    gridline_handling_seconds{service,topic}              time to handle a poll batch, to its commit (histogram)
    gridline_consumer_lag{service,topic,partition}        records behind the partition's end, per poll
    gridline_dead_letters_total{service,topic,kind}       dead letters written, by kind
    gridline_loop_restarts_total{service,loop}            background loops restarted after a failure
    gridline_rebuild_fallbacks_total{service,reason}      rebuilds folded again in one process (scoring):
                                                          misrouted | worker_failed
    gridline_http_responses_total{service,method,route,status}
    gridline_http_seconds{service,method,route}           request latency (histogram)
    gridline_cases{state}                                 router: open and closed cases per state
    gridline_group_commit_items{service}                  items per group commit (intake's ledger + produce)
    SLA warnings (预警) and breaches (超期): gridline_records_out_total{topic="sla.events.v1",type=…warned/overdue…}

The registry is the process's default one; every series names its service, so in-process tests that
run several services side by side keep them apart.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

RECORDS_IN = Counter("gridline_records_in", "Records consumed", ["service", "topic", "outcome"])
RECORDS_OUT = Counter("gridline_records_out", "Records published", ["service", "topic", "type"])
HANDLING = Histogram("gridline_handling_seconds", "Time to handle a poll batch (to its commit)", ["service", "topic"],
                     buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
LAG = Gauge("gridline_consumer_lag", "Records behind the end of the partition", ["service", "topic", "partition"])
DEAD_LETTERS = Counter("gridline_dead_letters", "Dead letters written", ["service", "topic", "kind"])
REBUILD_FALLBACKS = Counter("gridline_rebuild_fallbacks", "Rebuilds folded again in one process after the split failed",
                            ["service", "reason"])
LOOP_RESTARTS = Counter("gridline_loop_restarts", "Background loops restarted after a failure", ["service", "loop"])
HTTP_RESPONSES = Counter("gridline_http_responses", "HTTP responses", ["service", "method", "route", "status"])
HTTP_SECONDS = Histogram("gridline_http_seconds", "HTTP request latency", ["service", "method", "route"])
CASES = Gauge("gridline_cases", "Router's cases per state", ["state"])
GROUP_ITEMS = Histogram("gridline_group_commit_items", "Items sharing one group commit", ["service"],
                        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000))


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
