"""A text that says nothing routable (你好，我想问一下这个事情) goes to the centre, whatever the model's score.

A learned model always puts its probability somewhere; on a greeting or a bare "I want to ask about this
matter" it can be confident for no reason (a corpus item's texts share those words). What is left of the
text once greetings, fillers, pronouns, particles, punctuation and emoji are removed is its content; under
MIN_CONTENT characters there is nothing to dispatch on, and the centre calls the citizen back.
"""

from __future__ import annotations

import re

from services.router.classification.features import normalise

# longest first, so 问一下 goes before 问, 这个事情 before 这个
_FILLERS = tuple(sorted((
    "你好", "您好", "喂", "哈喽", "在吗", "请问", "我想", "想问", "问一下", "问问", "咨询一下", "咨询",
    "反映一下", "反映", "说一下", "投诉一下", "怎么办", "怎么", "如何", "什么", "这个", "那个", "这件", "那件",
    "事情", "事儿", "事", "情况", "问题", "一下", "就是", "有个", "有件", "帮忙", "麻烦", "谢谢",
    "你们", "我们", "我", "你", "他", "她", "想", "要", "的", "了", "啊", "呢",
    "吧", "嗯", "呀", "哦", "哈", "吗", "么", "个", "有", "是", "和", "跟",
    "一", "件",
), key=len, reverse=True))
_FILLER = re.compile("|".join(map(re.escape, _FILLERS)))
_NOT_CONTENT = re.compile(r"[^\w]|_", re.UNICODE)  # punctuation, spaces, emoji
MIN_CONTENT = 2


def content(text: str) -> str:
    """The text without fillers, punctuation and emoji."""
    return _NOT_CONTENT.sub("", _FILLER.sub("", normalise(text)))


def says_nothing(text: str) -> bool:
    return len(content(text)) < MIN_CONTENT
