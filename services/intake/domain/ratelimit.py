"""Token bucket per source: floods get 429 with Retry-After instead of taking the service down."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: int
    tokens: float = field(init=False)
    updated: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float, cost: float = 1.0) -> float:
        """0.0 when allowed, else the seconds to wait before asking again.

        A cost above the burst is capped at the burst: a full bucket always admits one request, so no
        request is refused forever whatever the caller waits."""
        cost = min(cost, float(self.burst))
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / self.rate


@dataclass
class RateLimiter:
    rate: float
    burst: int
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def check(self, source: str, now: float, cost: float = 1.0) -> float:
        bucket = self.buckets.setdefault(source, TokenBucket(self.rate, self.burst, updated=now))
        return bucket.take(now, cost)
