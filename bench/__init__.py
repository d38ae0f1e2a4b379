"""Gridline's benchmarks (`make bench`, `python -m bench`).

Speed is reported as throughput with a baseline measured in the same run on the same machine, and as
the ratio between the two: absolute numbers move with the machine and with whatever else runs on it,
ratios much less. Tests never assert on time; this package is where speed is looked at.

- `core`: the router's pure decision (`route`), the classifier, and locating by STRtree against a naive
  scan of every grid polygon; parsing the incident JSON is the unit of work.
- `intake`: `POST /v1/hotline/tickets[:batch]` on the real stack against raw aiokafka produce.
- `pipeline`: the router consuming `intake.hotline.v1` until every case exists and the outbox is drained,
  against a bare consumer reading the same records.
"""
