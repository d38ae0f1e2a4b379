"""Per-source token buckets with an injected clock: a flood gets a wait, never a crash."""

from __future__ import annotations

from services.intake.domain.ratelimit import RateLimiter


def test_a_burst_is_allowed_then_the_next_request_waits_for_one_token() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.check("hotline", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("hotline", 100.0) == 0.5


def test_tokens_come_back_with_time_but_never_beyond_the_burst() -> None:
    limiter = RateLimiter(rate=1.0, burst=2)
    limiter.check("a", 0.0)
    limiter.check("a", 0.0)
    assert limiter.check("a", 1.0) == 0.0  # one token back after a second
    assert limiter.check("a", 1000.0) == 0.0 and limiter.check("a", 1000.0) == 0.0
    assert limiter.check("a", 1000.0) > 0  # the bucket held only two


def test_sources_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    assert limiter.check("flooder", 0.0) == 0.0 and limiter.check("flooder", 0.0) > 0
    assert limiter.check("quiet", 0.0) == 0.0


def test_a_batch_costs_one_token_per_item() -> None:
    limiter = RateLimiter(rate=10.0, burst=100)
    assert limiter.check("hotline", 0.0, cost=100) == 0.0
    assert limiter.check("hotline", 0.0, cost=50) == 5.0


def test_a_request_costing_more_than_the_burst_is_admitted_by_a_full_bucket() -> None:
    from services.intake.domain.ratelimit import TokenBucket

    bucket = TokenBucket(rate=10, burst=400, updated=0.0)
    assert bucket.take(0.0, cost=500) == 0.0  # a 500-ticket batch is not refused forever
    assert bucket.take(0.0, cost=1) > 0  # but it emptied the bucket
