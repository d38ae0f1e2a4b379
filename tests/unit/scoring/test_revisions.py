"""Batch-shaped scoring, pure parts: running sums equal the per-fact tally; only changed entities are
computed, the others re-ranked from stored totals; a card saying the same is not published again; a
case that moves leaves its old places."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from schemas.case import CaseEventKind
from schemas.score import EntityType, card_key
from services.scoring.domain.cards import compute_cards
from services.scoring.domain.derive import from_case_event
from services.scoring.domain.facts import CaseContext, EntityFacts, Fact, FactName, attribute, tally
from services.scoring.domain.revisions import Revision, Stored, plan_revisions
from services.scoring.domain.ruler_files import load_rulers
from services.scoring.domain.tallying import BatchTally, Recorded, latest_links, left_places, new_places
from tests.unit.scoring.builders import assignment, case_event
from tests.unit.scoring.test_cards import RULERS, department

RULER = load_rulers(RULERS).by_version["2026.12-1"]
AT = datetime(2026, 12, 3, 1, tzinfo=UTC)


def stored(revision: Revision) -> Stored:
    card = revision.card
    return Stored(card.key, card.entity_id, card.ruler_version, revision.event_id, revision.revision, card.rank,
                  card.total, card.parent_id, revision.digest, revision.facts_read)


def published(entities: list[EntityFacts]) -> dict[str, Stored]:
    plan = plan_revisions(RULER, EntityType.DEPARTMENT, "2026-12", entities, {}, None)
    return {r.card.key: stored(r) for r in plan.revisions({})}


def test_the_batch_sums_are_the_per_fact_tally() -> None:
    ctx = CaseContext("C-1", grid_id="G1", community_id="CM1", street_id="S1", channel="hotline")
    facts = [Fact(FactName.RECEIVED, "C-1", "2026-12", department="D1", at=AT),
             Fact(FactName.RATED, "C-1", "2026-12", value=Decimal(4), department="D1", at=AT),
             Fact(FactName.CASE_OPENED, "C-1", "2026-12", department="CENTER", at=AT)]
    batch = BatchTally()
    for i, fact in enumerate(facts):
        batch.add(Recorded("E-1", i, fact, "00-" + "1" * 32 + "-" + "2" * 16 + "-01"), ctx)
    twin = tally([(key, f) for f in facts for key in attribute(f, ctx)], {(EntityType.GRID, "G1"): "CM1",
                                                                         (EntityType.COMMUNITY, "CM1"): "S1"})
    expected = {("2026-12", e.entity_type.value, e.entity_id, n.value, tag): (t.count, t.total)
                for e in twin for (n, tag), t in e.tallies.items()}
    assert batch.tallies == expected
    assert {k: (d.parent_id, d.new_cases) for k, d in batch.entities.items()} == {
        ("2026-12", e.entity_type.value, e.entity_id): (e.parent_id, e.cases_counted) for e in twin}
    assert batch.counted_now(ctx).counted == frozenset(batch.entities)


def test_a_case_is_counted_once_per_entity_and_month_whatever_the_batches() -> None:
    """The case remembers where it is counted: a later batch's facts add to the sums, not to the case
    count; a new month, or a place it is located at later, counts it there."""
    ctx = CaseContext("C-1", grid_id="G1", community_id="CM1", street_id="S1")
    first = BatchTally()
    first.add(Recorded("E-1", 0, Fact(FactName.RECEIVED, "C-1", "2026-12", department="D1", at=AT)), ctx)
    ctx = first.counted_now(ctx)
    again = BatchTally()
    again.add(Recorded("E-2", 0, Fact(FactName.RESOLVED, "C-1", "2026-12", department="D1", at=AT)), ctx)
    again.add(Recorded("E-3", 0, Fact(FactName.CLOSED, "C-1", "2027-01", department="D1", at=AT)), ctx)
    assert {k: d.new_cases for k, d in again.entities.items()} == {
        **{("2026-12", t, e): 0 for t, e in (("department", "D1"), ("grid", "G1"), ("community", "CM1"),
                                             ("street", "S1"))},
        **{("2027-01", t, e): 1 for t, e in (("department", "D1"), ("grid", "G1"), ("community", "CM1"),
                                             ("street", "S1"))}}
    assert again.tallies[("2026-12", "grid", "G1", "resolved", "")] == (1, Decimal(1))
    moved = again.counted_now(ctx, left=[(EntityType.GRID, "G1")])
    assert {(p, t) for p, t, e in moved.counted if e == "G1"} == set()  # it counts again if it comes back


def test_links_are_the_newest_first_whatever_the_batches() -> None:
    links = [("2026-12-03T01:00:00.000000Z", f"E{i}", f"T{i}") for i in range(20)] + [("", "E99", "T99")]
    assert latest_links(links, 3) == [("2026-12-03T01:00:00.000000Z", f"E{i}", f"T{i}") for i in (0, 1, 10)]
    assert latest_links(list(reversed(links)), 3) == latest_links(links, 3)


def test_only_changed_entities_are_computed_and_the_others_re_ranked_from_stored_totals() -> None:
    a = department("A", received=2, accept_met=2, returned=1)
    b = department("B", received=2, accept_met=1, accept_overdue=1, returned=1)
    before = published([a, b])
    assert [before[card_key("2026-12", EntityType.DEPARTMENT, x, RULER.version)].rank for x in "AB"] == [1, 2]
    better_b = department("B", received=2, accept_met=2, handle_met=2)  # B now beats A
    plan = plan_revisions(RULER, EntityType.DEPARTMENT, "2026-12", [better_b], before, {"B"})
    assert [r.card.entity_id for r in plan.computed] == ["B"] and plan.computed[0].card.rank == 1
    assert list(plan.rerank) == [card_key("2026-12", EntityType.DEPARTMENT, "A", RULER.version)]
    a_body = compute_cards(RULER, [a], "2026-12")[0].model_dump_json()
    [moved_a] = [r for r in plan.revisions({next(iter(plan.rerank)): a_body}) if r.card.entity_id == "A"]
    assert moved_a.card.rank == 2 and moved_a.facts_read == before[moved_a.card.key].facts_read
    assert moved_a.card == compute_cards(RULER, [a, better_b], "2026-12")[1]  # what a full recomputation says


def test_a_card_that_says_the_same_is_not_published_again() -> None:
    a = department("A", received=2, accept_met=2)
    before = published([a])
    plan = plan_revisions(RULER, EntityType.DEPARTMENT, "2026-12", [a], before, {"A"})
    assert plan.revisions({}) == [] and plan.gone == []


def test_an_entity_left_without_facts_loses_its_card() -> None:
    before = published([department("A", received=1), department("B", received=1)])
    plan = plan_revisions(RULER, EntityType.DEPARTMENT, "2026-12", [], before, {"A"})
    assert [s.entity_id for s in plan.gone] == ["A"]


def test_a_case_moved_to_another_grid_counts_there_and_leaves_the_old_one() -> None:
    gx, gy = assignment("D1", grid="GX", community="CX", street="S"), assignment("D1", grid="GY", community="CY",
                                                                               street="S")
    created = from_case_event(case_event("C-1", 1, CaseEventKind.CREATED, AT, assigned=gx), None).context
    moved = from_case_event(case_event("C-1", 2, CaseEventKind.DISPATCHED, AT, assigned=gy), created)
    assert (moved.context.grid_id, moved.context.community_id, moved.context.street_id) == ("GY", "CY", "S")
    assert moved.located_now
    assert left_places(created, moved.context) == [(EntityType.GRID, "GX"), (EntityType.COMMUNITY, "CX")]
    assert new_places(created, moved.context) == [(EntityType.GRID, "GY"), (EntityType.COMMUNITY, "CY")]
    unplaced = assignment("D1", grid=None, community=None, street=None)
    kept = from_case_event(case_event("C-1", 3, CaseEventKind.RESOLVED, AT, assigned=unplaced), moved.context)
    assert kept.context.grid_id == "GY" and not kept.located_now  # an assignment naming no grid moves nothing


def test_a_span_link_is_the_context_the_propagator_reads_from_the_traceparent() -> None:
    from opentelemetry import trace

    from runtime.telemetry import context_from_traceparent
    from services.scoring.handlers.publisher import _span_context

    for tp in ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
               "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"):
        expected = trace.get_current_span(context_from_traceparent(tp)).get_span_context()
        found = _span_context(tp)
        assert found is not None and (found.trace_id, found.span_id, found.trace_flags, found.is_remote) == (
            expected.trace_id, expected.span_id, expected.trace_flags, expected.is_remote)
    assert _span_context("00-" + "0" * 32 + "-b7ad6b7169203331-01") is None
    assert _span_context("not a traceparent") is None
