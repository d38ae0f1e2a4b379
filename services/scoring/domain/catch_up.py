"""Which dirty groups a publisher round recomputes — pure.

Caught up, every dirty (period, entity type) is recomputed each round. While the consumer is far behind
the end of its topics (a replay into an empty database, a restart after an outage), a group whose dirty
marks still grow is left for a later round: the events still to come would replace its cards anyway, and
a card is a pure function of (ruler version, period, facts), so publishing it once its month's events
are consumed gives the same bytes and ce_id as publishing every revision on the way (`scoring.v1` is
compacted: a consumer keeps the last card of each key). A group is recomputed as soon as a round sees no
new mark in it, after it has waited `max_wait` seconds, or when the consumer is caught up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.score import EntityType

Group = tuple[str, EntityType]  # (period, entity type)


@dataclass
class Deferral:
    """What the last round saw: each group's highest mark, and since when a group has been waiting."""

    seen: dict[Group, int] = field(default_factory=dict)
    waiting_since: dict[Group, float] = field(default_factory=dict)

    def due(self, marks: dict[Group, int], now: float, catching_up: bool, max_wait: float) -> list[Group]:
        """The groups to recompute this round (`marks`: every dirty group's highest mark now)."""
        if not catching_up:
            ready = sorted(marks)
        else:
            ready = sorted(g for g, mark in marks.items()
                           if self.seen.get(g) == mark or now - self.waiting_since.get(g, now) >= max_wait)
        self.waiting_since = {g: self.waiting_since.get(g, now) for g in marks if g not in ready}
        self.seen = dict(marks)
        return ready
