"""The trained artefact as the router serves it: features, probabilities, the ensemble with the list."""

from __future__ import annotations

import json
from datetime import time

import pytest

from schemas.common import Channel, Urgency
from services.router.classification.decision import Engine
from services.router.classification.features import Featuriser, normalise, span_terms, vectorise
from services.router.classification.model import ArtefactError, LinearModel
from services.router.domain.classify import ClassifyContext

DAY = ClassifyContext(channel=Channel.HOTLINE, urgency=Urgency.NORMAL, local_time=time(10, 0))


def test_features_are_character_ngrams_and_jieba_words() -> None:
    terms = Featuriser().terms("垃圾 乱堆")
    assert {"垃", "垃圾", "乱堆", "w:垃圾"} <= set(terms)
    assert "圾 " not in terms and normalise("ＡＢ  c") == "ab c"


def test_vectors_are_unit_length_over_known_terms() -> None:
    indices, values = vectorise({"a": 2, "b": 1, "zz": 5}, {"a": 0, "b": 1}, [1.0, 2.0])
    assert indices.tolist() == [0, 1]
    assert sum(v * v for v in values) == pytest.approx(1.0)


def test_serving_features_are_the_training_features(engine: Engine) -> None:
    model = engine.ensemble.model
    assert model is not None
    text = "来电人反映：小区门口垃圾堆成山 好几天没人清运，要求处理。垃圾垃圾"
    clean = normalise(text)
    terms = span_terms(clean, Featuriser().words(clean), 0, len(clean))
    indices, values = vectorise(terms, model.vocabulary, model.idf)
    served = model.vector(text)
    assert served.indices.tolist() == indices.tolist() and served.values.tolist() == values.tolist()


def test_a_batch_scores_like_one_text_at_a_time(engine: Engine) -> None:
    texts = ["小区门口垃圾堆成山，好几天没人清运", "", "!!!", "楼上漏水到我家天花板", "电梯困人了快来"]
    one = [engine.ensemble.assess(t, None, DAY, 0.5) for t in texts]
    batch = engine.ensemble.assess_many([(t, None, DAY) for t in texts], 0.5)
    assert [a.classification for a in one] == [b.classification for b in batch]
    assert [a.urgent_probability for a in one] == pytest.approx([b.urgent_probability for b in batch])


def test_item_probabilities_sum_to_one_and_favour_the_named_problem(engine: Engine) -> None:
    model = engine.ensemble.model
    assert model is not None
    p = model.item_probabilities(model.vector("小区门口垃圾堆成山，好几天没人清运"))
    assert sum(p.values()) == pytest.approx(1.0)
    assert max(p, key=p.__getitem__) == "A01.001"


def test_the_ensemble_scores_are_probabilities_and_explain_themselves(engine: Engine) -> None:
    assessed = engine.ensemble.assess("小区门口垃圾堆成山，好几天没人清运", None, DAY, 0.5)
    top = assessed.classification.top
    assert top is not None and top.item_code == "A01.001" and 0 < top.score <= 1
    assert sum(c.score for c in assessed.classification.candidates) <= 1.0001
    explained = engine.ensemble.explain(assessed)
    assert explained["strongest_features"] and explained["nearest_examples"]


def test_code_only_items_are_never_guessed_from_text(engine: Engine) -> None:
    code_only = {i.code for i in engine.responsibility_list.items if i.code_only}
    assessed = engine.ensemble.assess("网格员入户走访发现的一般问题，已自行处置", None, DAY, 0.5)
    assert not code_only & {c.item_code for c in assessed.classification.candidates}


def test_items_whose_conditions_fail_are_left_out(engine: Engine) -> None:
    conditional = [i for i in engine.responsibility_list.items if i.conditions.channels]
    assert conditional, "the list has items only some channels may report"
    item = conditional[0]
    other = next(c for c in Channel if c not in (item.conditions.channels or ()))
    context = ClassifyContext(channel=other, urgency=Urgency.NORMAL, local_time=time(10, 0))
    assessed = engine.ensemble.assess(item.name, None, context, 0.5)
    assert item.code not in {c.item_code for c in assessed.classification.candidates}


def test_an_artefact_of_another_format_is_refused() -> None:
    with pytest.raises(ArtefactError):
        LinearModel(json.loads('{"format": "pickle"}'))


def test_every_case_can_record_the_model_version_beside_the_list_version(engine: Engine) -> None:
    assert engine.model_version and engine.model_version.startswith(engine.responsibility_list.version + "+m")
