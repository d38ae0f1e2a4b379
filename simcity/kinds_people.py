"""Incident kinds of environment, safety, public order, livelihood and the units of dedicated grids."""

from __future__ import annotations

from simcity.kinds import Kind, kind

N, U, C = (1, 0, 0), (1, 2, 0), (0, 1, 2)

PEOPLE_KINDS: tuple[Kind, ...] = (
    kind("eco.river_waste", "生态环境/河道污染", "river_section road", "投诉 举报", N, (
        "{loc}河面上漂着大量垃圾和死鱼，臭得很",
        "{loc}有个排污口一直往河里排黑水",
    ), ("巡河发现{loc}水面漂浮物较多，已打捞部分，需河长办安排保洁",)),
    kind("eco.smoke", "生态环境/废气", "industrial_park road", "举报 投诉", U, (
        "{loc}附近的厂晚上偷偷排废气，烟囱冒黑烟，气味很刺鼻",
        "{loc}有人在空地上焚烧垃圾和轮胎，浓烟滚滚",
    ), ("巡查发现{loc}露天焚烧垃圾，已制止",)),
    kind("eco.odour", "生态环境/油烟异味", "road compound", "投诉", N, (
        "{loc}楼下饭店油烟直排，呛得家里开不了窗",
        "{loc}附近一到晚上就有一股化工臭味，不知道哪里来的",
    ), ("{loc}餐饮店未安装油烟净化设施，居民反映强烈",)),
    kind("safety.work", "安全生产", "industrial_park", "举报", U, (
        "{loc}有工人高空作业不系安全带，也没有防护网",
        "{loc}里面一个厂房堆了很多油桶和易燃物，没人管",
    ), ("巡查发现{loc}企业危化品存放不规范，已拍照上报",), 0.8),
    kind("fire.blocked_exit", "消防安全/消防通道", "compound market", "举报 投诉", U, (
        "{loc}消防通道被杂物和电动车堵死了，真着火了人都出不去",
        "{loc}的安全出口被锁住了，存在很大隐患",
    ), ("巡查发现{loc}楼道堆放杂物堵塞疏散通道，已督促清理",)),
    kind("fire.ebike_charging", "消防安全/电动车充电", "compound", "举报 投诉", U, (
        "{loc}楼道里有人给电瓶车充电，电线从窗户拉下来，太危险了",
        "{loc}有住户把电动车推进电梯带回家充电",
    ), ("巡查发现{loc}飞线充电一处，已劝导拆除",), 1.2),
    kind("security.dispute", "社会治安/邻里纠纷", "compound", "求助 投诉", U, (
        "{loc}邻居为了停车位吵起来了，差点动手，请派人来调解",
        "楼上邻居家漏水把我家天花板泡坏了，找他也不理，希望社区帮忙调解",
        "{loc}对门邻居在公共楼道装摄像头对着我家门口",
    ), ("{loc}两户居民因楼道堆物发生争执，已初步调解，需社区跟进",), 1.2),
    kind("security.suspicious", "社会治安/可疑情况", "road compound", "举报", U, (
        "{loc}附近晚上有可疑人员撬电动车锁",
        "{loc}有人挨家挨户推销保健品，专门骗老年人",
    ), ("{loc}发现可疑人员多次徘徊，已通报派出所",)),
    kind("livelihood.heating", "民生服务/供暖", "compound", "投诉 咨询", N, (
        "{loc}家里暖气一点都不热，交了费也没人来修",
        "请问{loc}今年什么时候开始供暖",
    ), ("{loc}多户居民反映暖气不热",), 0.5),
    kind("livelihood.property", "民生服务/物业管理", "compound", "投诉", N, (
        "{loc}物业不作为，电梯坏了一个星期都没人修，老人上不了楼",
        "{loc}小区大门门禁坏了好久，外卖快递随便进",
    ), ("{loc}电梯停运多日，居民意见大，已联系物业",), 1.3),
    kind("special.elderly_alone", "特殊人群/独居老人", "compound", "求助", C, (
        "{loc}独居的{elder}今天一直没出门，敲门也没人应，担心出事",
        "我家老人住在{loc}，电话一直打不通，麻烦网格员帮忙去看一下",
    ), ("智能门磁提示：{loc}独居老人{elder}超过24小时未出门，正在上门查看",), 0.7),
    kind("market.food_safety", "市场监管/食品安全", "market road", "举报 投诉", N, (
        "{loc}有个摊位卖过期食品，我买回家才发现",
        "{loc}的熟食店没有健康证，卫生条件很差",
    ), ("巡查发现{loc}商户销售无标签食品",)),
    kind("school.gate_safety", "校园周边/交通安全", "school", "投诉 建议", N, (
        "{loc}门口放学时段家长车辆乱停，学生过马路很危险",
        "{loc}周边小卖部卖三无零食给学生",
    ), ("巡查发现{loc}放学时段校门口交通拥堵",)),
    kind("hospital.order", "医疗卫生/医院秩序", "hospital", "举报 投诉", N, (
        "{loc}门口有号贩子倒卖专家号",
        "{loc}停车场收费乱，保安态度也很差",
    ), ("巡查发现{loc}门口黑车揽客",)),
    kind("scenic.crowding", "文化旅游/景区秩序", "scenic_area", "投诉 建议", N, (
        "{loc}游客太多，有人翻到护栏外拍照，很危险",
        "{loc}附近停车场爆满，车都堵到路上了",
    ), ("巡查发现{loc}客流较大，部分游客翻越护栏",), 0.6),
    kind("consult.policy", "咨询", "compound road", "咨询", N, (
        "想咨询一下{community}的居住证在哪里办理，需要带什么材料",
        "请问老旧小区加装电梯政府有没有补贴，{loc}想装",
        "孩子上学是按{loc}的户口还是房产划片",
    ), ("{loc}居民咨询养老补贴申领流程",)),
    kind("suggestion.public", "建议", "road compound", "建议", N, (
        "建议在{loc}附近增设一个公交站台，现在要走很远",
        "建议{road}增设非机动车道隔离护栏",
    ), ("{loc}居民建议增设休闲座椅",), 0.5),
)
