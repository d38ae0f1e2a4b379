"""The shared segmenter gives exactly jieba's HMM-free words, under jieba's dictionary and with the keywords."""

from __future__ import annotations

import random

import jieba

from services.router.classification import corpus
from services.router.classification.features import normalise
from services.router.domain.classify import Classifier, _normalise
from services.router.domain.responsibility import ResponsibilityList

ODD = ["hello world 5G网络 abc123 ＡＢＣ  两个  空格\n换行\r\n回车", "😀😀垃圾没人清理!!!", "", "  ",
       "a-b_c.d%e#f+g&h", "电梯困人电梯困人电梯困人", "井盖井盖丢了", "12345热线"]


def test_both_segmentations_equal_jiebas_on_the_corpus(repo_list: ResponsibilityList) -> None:
    classifier = Classifier(repo_list)
    plain = jieba.Tokenizer()
    plain.initialize()
    with_keywords = jieba.Tokenizer()
    for keyword in classifier._index:
        with_keywords.add_word(keyword, freq=1000)
    texts = [row.text for row in corpus.read(corpus.corpus_files())][::3] + ODD
    for text in texts:
        assert classifier.segmenter.cut(normalise(text)) == list(plain.cut(normalise(text), HMM=False)), text
        assert classifier.segmenter.cut_with_words(_normalise(text)) == \
            list(with_keywords.cut(_normalise(text), HMM=False)), text


def _fuzz(n: int) -> list[str]:
    """Random strings over what texts hold: common Han characters, keyword-like runs, Latin letters and
    digits (jieba joins them), jieba's block characters, whitespace, punctuation, emoji, full-width forms,
    and the characters the two libraries class differently (CJK extension A, compatibility ideographs,
    U+9FD6…, \\x1c–\\x1f)."""
    rng = random.Random(11)
    pieces = [*"的了是在有人不这一我他们垃圾井盖电梯困路灯小区噪音施工停车占道污水漏水", "垃圾没人清理", "电梯困人",
              "井盖丢失", "乱堆乱放", "噪音扰民", *"abcxyz0159", "5g", "abc123", *"+#&._%-", " ", "  ", "\t", "\n",
              "\r\n", "\x0b", "\x0c", "\xa0", "\u3000", *"，。！？,.!?()（）", "😀", "ＡＢＣ", "１２",
              "㐀", "豈", "\u9fd6", "\U00020000", "\x1c", "\x1f"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(n)]


def test_the_native_cuts_equal_the_python_walk_on_every_corpus_text_and_random_strings(
    repo_list: ResponsibilityList,
) -> None:
    """rjieba (jieba-rs) with jieba's dictionary gives the words of the Python walk above, under both
    dictionaries: on every labelled text (training corpus, tests/data/classification_*.jsonl) and on
    random strings; texts it would class differently take the Python walk."""
    segmenter = Classifier(repo_list).segmenter
    files = [*corpus.corpus_files(), *sorted(corpus.ROOT.joinpath("tests", "data").glob("classification_*.jsonl"))]
    texts = [row.text for row in corpus.read(files)]
    assert len(texts) > 7000
    for text in [*texts, *ODD, *_fuzz(4000)]:
        for clean in (normalise(text), _normalise(text), text):
            assert segmenter.cut(clean) == segmenter._cut(clean, 0), clean
            assert segmenter.cut_with_words(clean) == segmenter._cut(clean, 1), clean
