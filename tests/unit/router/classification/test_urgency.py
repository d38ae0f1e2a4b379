"""Urgency is its own decision: danger now counts, a feared or negated danger does not."""

from __future__ import annotations

from services.router.classification.urgency import assess, danger_phrases


def test_danger_to_life_or_property_is_urgent() -> None:
    texts = ("3栋电梯困人了里面有老人", "厨房燃气泄漏味道很大", "路面突然塌陷了一个大坑",
             "河边有人溺水", "楼下着火了冒浓烟")
    for text in texts:
        assert danger_phrases(text), text
        assert assess(text, None, 0.5, reported=False).urgent


def test_crowd_crushes_and_people_hurt_in_accidents_are_urgent() -> None:
    texts = ("广场上人挤人动不了，前面有人摔倒了", "出口只开一个，存在踩踏风险", "庙会入口人流失控",
             "电动车被轿车撞了，骑车的人头上在流血", "撞了人就跑，肇事逃逸", "老人倒地不起，叫不醒",
             "一家三口一氧化碳中毒", "孩子被锁在车里出不来了", "山体滑坡把路埋了")
    for text in texts:
        assert danger_phrases(text), text


def test_trampled_grass_and_a_dented_car_are_not_dangers() -> None:
    assert not danger_phrases("有人踩踏草坪种菜")
    assert not danger_phrases("停在路边的车被撞了个坑，对方留了电话")


def test_a_feared_danger_is_not_an_urgent_one() -> None:
    assert not danger_phrases("楼道堆满杂物，万一着火怎么办")
    assert not danger_phrases("担心燃气泄漏，想问问怎么检查")


def test_a_negated_danger_is_not_urgent() -> None:
    assert not danger_phrases("电梯坏了，没有困人，就是停运")


def test_the_model_or_the_reporter_alone_can_make_a_text_urgent() -> None:
    assert assess("情况很危急", 0.8, 0.5, reported=False).urgent
    assert not assess("情况很危急", 0.3, 0.5, reported=False).urgent
    assert assess("情况很危急", None, 0.5, reported=True).urgent


def test_a_weapon_a_mental_crisis_a_person_fallen_in_or_unseen_for_days_is_urgent() -> None:
    texts = ("有个人拿着刀在小区里追人", "楼上那人又犯病了 往楼下扔东西", "昨晚有个大爷掉进去了",
             "楼道全是烟 下不去", "独居老人三天没出门了 敲门也不应", "电梯里闷了好几个人 按钮没反应")
    for text in texts:
        assert danger_phrases(text), text


def test_a_stove_that_will_not_light_a_mistaken_fire_and_a_bent_pole_are_not_dangers() -> None:
    for text in ("灶台打不着火 没气了", "楼下一大股烟 以为着火了 原来是物业在烧落叶", "烤摊烟大得跟着火似的",
                 "路边灯杆被车撞歪了", "水库边防溺水警示牌损坏", "上次被困电梯半小时才有人来，想问有没有规定",
                 "哪天掉下来砸到人咋办", "车棚着火已扑灭，现场无人员伤亡"):
        assert not danger_phrases(text), text


def test_being_afraid_of_a_danger_now_does_not_hide_it() -> None:
    assert danger_phrases("孩子吓得很害怕 楼下着火了")
