"""The automaton of known n-grams packs an n-gram's vocabulary index and its length into one int (index·4 +
length, features.KnownGrams): two bits hold lengths 1–3 only, so a longer NGRAM_MAX must be refused where
the automaton is built, not decoded into wrong spans (and word features, 'w:' + ≥ 2 characters, would then
be read as character n-grams too)."""

from __future__ import annotations

import pytest

from services.router.classification import features
from services.router.classification.features import KnownGrams


def test_every_known_ngram_is_found_at_its_own_span_with_its_index() -> None:
    vocabulary = {"井": 0, "井盖": 1, "井盖破": 2, "w:井盖": 3, "破损": 4}
    found = KnownGrams(vocabulary).occurrences("井盖破损", [(0, "井盖"), (2, "破损")])
    spans = sorted(zip(found.starts.tolist(), found.ends.tolist(), found.indices.tolist(), strict=True))
    assert spans == [(0, 1, 0), (0, 2, 1), (0, 2, 3), (0, 3, 2), (2, 4, 4)]


def test_an_ngram_length_that_does_not_fit_the_packing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(features, "NGRAM_MAX", 4)
    with pytest.raises(ValueError, match="NGRAM_MAX"):
        KnownGrams({"井盖破损": 0, "w:井盖": 1})
