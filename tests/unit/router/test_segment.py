"""The shared segmenter gives exactly jieba's HMM-free words, under jieba's dictionary and with the keywords."""

from __future__ import annotations

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
