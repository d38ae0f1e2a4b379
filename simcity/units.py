"""Names of the units that own dedicated grids (专属网格): schools, hospitals, parks, river sections..."""

from __future__ import annotations

from collections.abc import Iterator

from simcity.names import DISTRICT, ORDINALS, RIVERS, SCENIC


def _candidates(kind: str, street: str, community: str, n: int) -> Iterator[str]:
    """Name candidates, most prominent first; ``n`` is how many units of the kind exist already."""
    if kind == "hospital":
        yield from (f"{DISTRICT}{o}人民医院" for o in ORDINALS[:2])
        yield from (f"{DISTRICT}中医院", f"{DISTRICT}妇幼保健院", f"{DISTRICT}口腔医院")
        yield f"{street}街道社区卫生服务中心"
        yield f"{community}社区卫生服务站"
    elif kind == "school":
        yield f"{DISTRICT}实验小学"
        yield from (f"{DISTRICT}{o}中学" for o in ORDINALS[:4])
        yield from (f"{DISTRICT}{community}小学", f"{DISTRICT}{community}初级中学", f"{community}幼儿园")
        yield f"{street}高级中学"
    elif kind == "industrial_park":
        yield "通江经济开发区"
        yield from (f"{street}科技产业园", f"{community}工业集中区", f"{street}{community}物流园")
    elif kind == "river_section":
        yield from (f"{RIVERS[(n + i) % len(RIVERS)]}{community}段" for i in range(len(RIVERS)))
    elif kind == "market":
        yield from (f"{community}农贸市场", f"{street}综合市场", f"{community}菜市场", f"{street}小商品城")
    elif kind == "scenic_area":
        yield from SCENIC
        yield from (f"{community}公园", f"{street}{community}游园")
    else:
        raise ValueError(kind)


def unit_name(kind: str, street: str, community: str, used: set[str]) -> str:
    """A unit name not yet in ``used`` (which is updated)."""
    n = len(used)
    for name in _candidates(kind, street, community, n):
        if name not in used:
            used.add(name)
            return name
    label = _LABELS[kind]
    i = 0
    while (name := f"{street}{community}{ORDINALS[i % 10]}{label}{i // 10 or ''}") in used:
        i += 1
    used.add(name)
    return name


_LABELS = {"hospital": "卫生所", "school": "小学", "industrial_park": "工业园", "river_section": "河段",
           "market": "市场", "scenic_area": "游园"}
