"""Urgency as its own decision: danger to life or property now (火情, 燃气泄漏, 电梯困人, 塌陷, 溺水, 群体聚集…).

Three signals: the top candidate is an item whose labelled texts are mostly urgent (电梯困人, 火情…), a
lexicon of danger phrases and patterns (a phrase shortly after 万一/担心/哪天/以为… is a feared, mistaken or
past event and does not count, nor one right after 没有/不是/防, nor one followed by 似的 or by damage to a
thing: 灯杆被车撞歪) and the model's urgency head. Any one makes the text urgent;
the router then never dispatches it on a guess (README: urgent texts need the stricter threshold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.router.classification.features import normalise
from services.router.domain.phrases import PhraseFinder

DANGER = (
    "着火", "起火", "失火", "火灾", "火情", "冒烟", "浓烟", "烧起来", "明火", "火苗",
    "燃气泄漏", "煤气泄漏", "天然气泄漏", "液化气泄漏", "煤气味", "燃气味", "天然气味", "漏气",
    "电梯困人", "困在电梯", "被困电梯", "关在电梯", "电梯里出不来", "卡在电梯", "困人",
    "塌陷", "坍塌", "塌方", "倒塌", "裂缝越来越大",
    "溺水", "落水", "掉进河", "掉进水", "淹死", "被水冲",
    "群体聚集", "聚集了", "人员聚集", "围堵", "堵门", "拉横幅", "群体上访", "打群架", "持刀", "砍人", "斗殴",
    "触电", "电线掉", "电线断", "漏电", "爆炸", "爆裂", "炸了",
    "跳楼", "轻生", "自杀", "晕倒", "昏迷", "受伤流血", "被困",
    "化学品泄漏", "危化品", "毒气", "有毒气体",
    "井盖丢失", "没有井盖", "窨井盖没了", "掉进井",
    "水管爆裂", "爆管", "大面积积水", "倒灌",
    "高空坠物", "砸到人", "悬挂物", "摇摇欲坠",
    # crowds: a crush is a danger to life before anyone is hurt (踩踏 alone is also 踩踏草坪: not listed)
    "踩踏事故", "发生踩踏", "踩踏风险", "踩踏危险", "挤踩", "人挤人", "挤成一团", "挤倒", "被挤伤", "挤得动不了",
    "人流失控", "人群失控",
    # people hurt now: traffic and other accidents, medical emergencies
    "撞伤", "撞人", "被车撞", "撞了人", "把人撞", "人被撞", "撞倒了人", "撞倒一个", "撞飞", "肇事逃逸", "逃逸",
    "流血", "出血", "血流", "满身是血",
    "一地血", "重伤", "伤者", "受重伤", "倒地不起", "躺在地上不动", "不省人事", "没有意识", "没意识",
    "没有呼吸", "呼吸困难", "抽搐", "口吐白沫", "心脏骤停", "中毒", "一氧化碳", "窒息", "被咬伤",
    "砸伤", "烧伤", "烫伤",
    # violence, missing and trapped people
    "行凶", "追砍", "抢劫", "劫持", "绑架", "捅人", "捅伤", "走失", "走丢", "失踪", "孩子丢了",
    "锁在车里", "困在车里", "困在家里", "坠楼", "掉下去了",
    # land, water and structures giving way
    "山体滑坡", "滑坡", "泥石流", "决堤", "溃堤", "漫堤", "洪水", "进水了", "水漫进", "熄火滞留",
    "歪斜", "斜了要倒", "要倒了", "随时可能倒", "随时可能掉", "随时要倒", "冒气", "嘶嘶",
    "呼吸机",
    # a weapon drawn, a mental-health crisis, a person fallen in, a fire spreading, a person not seen for days
    "拿刀", "拿着刀", "动刀", "挥刀", "举着刀", "犯病", "精神病发作", "神志不清", "扬言",
    "掉了进去", "掉进去了", "卡进去了", "火势", "火已经", "全是烟",
    "没人见过", "联系不上老人", "敲门不应", "敲门也不应", "敲门无应答", "敲门没人应",
)
_PATTERNS = (
    re.compile(r"(几|[一二三四五六七八九十两])天没(出门|见|开门|露面)"),  # a person not seen for days (独居老人)
    re.compile(r"电梯.{0,6}(闷|出不去|出不来|困住|关住)"),  # people shut in a lift, however it is said
)
# feared, hypothetical, narrowly missed or mistaken (以为着火了) or past (上次被困电梯); not 害怕 (afraid now)
_FEARED = ("万一", "一旦", "担心", "以防", "以免", "防止", "真怕", "就怕", "生怕", "怕会", "如果", "要是", "假如",
           "避免", "哪天", "差点", "险些", "以为", "容易", "上次")
# right before the phrase: negated, or prevented (防溺水, not 消防: only right before it). 不: 打不着火
_NEGATED = ("没有", "没", "不是", "并非", "未", "不", "防")
# right after the phrase: a likeness (跟着火似的), damage to a thing (灯杆被车撞歪), a fire already out
_AFTER = ("似的", "一样", "歪", "扁", "变形", "斜", "已扑灭", "已经扑灭")
_WINDOW = 6  # characters before a phrase searched for a feared or negating word (哪天掉下来砸到人)


@dataclass(frozen=True)
class Urgency:
    urgent: bool
    phrases: tuple[str, ...]  # danger phrases found (not feared, not negated)
    model_probability: float | None
    reported: bool  # the reporter or intake already marked it urgent/critical
    item: str | None = None  # the top candidate is an item whose labelled texts are mostly urgent

    def explain(self) -> dict[str, object]:
        return {"urgent": self.urgent, "phrases": list(self.phrases), "reported_urgent": self.reported,
                "urgent_item": self.item,
                "model_probability": None if self.model_probability is None else round(self.model_probability, 4)}


_FINDER = PhraseFinder(DANGER)
_ORDER = {phrase: rank for rank, phrase in enumerate(DANGER)}


def danger_phrases(text: str) -> tuple[str, ...]:
    """The lexicon's phrases that occur at least once neither feared, negated nor followed by a likeness or
    damage to a thing, in the lexicon's order; then the patterns that match."""
    clean = normalise(text)
    found: set[str] = set()
    for start, end, phrase in _FINDER.find(clean):
        if phrase in found:
            continue
        before = clean[max(0, start - _WINDOW):start]
        after = clean[end:end + 4]
        if not any(m in before for m in _FEARED) and not any(before.endswith(m) for m in _NEGATED) \
                and not any(after.startswith(m) or after[1:].startswith(m) for m in _AFTER):
            found.add(phrase)
    ordered = sorted(found, key=_ORDER.__getitem__)
    ordered.extend(match.group() for match in (pattern.search(clean) for pattern in _PATTERNS) if match)
    return tuple(ordered)


def assess(text: str, model_probability: float | None, threshold: float, reported: bool,
           urgent_item: str | None = None) -> Urgency:
    """`urgent_item`: the top candidate when it is an item whose labelled texts are mostly urgent."""
    phrases = danger_phrases(text)
    by_model = model_probability is not None and model_probability >= threshold
    return Urgency(bool(phrases) or by_model or reported or urgent_item is not None, phrases, model_probability,
                   reported, urgent_item)
