"""The department directory of docs/departments.md, as data."""

from __future__ import annotations

from simcity.model import Department, DepartmentKind

_ROWS: tuple[tuple[str, str, str, DepartmentKind], ...] = (
    ("CENTER", "区社会治理现代化指挥中心", "district command centre", "centre"),
    ("URBAN_MGMT", "区城市管理局（综合行政执法局）", "urban management & enforcement", "department"),
    ("HOUSING", "区住房和城乡建设局", "housing & construction", "department"),
    ("PROPERTY", "区物业管理办公室", "property management office", "department"),
    ("ECO_ENV", "市生态环境局区分局", "ecology & environment", "department"),
    ("WATER", "区水利局（河长办）", "water resources / river chiefs", "department"),
    ("TRANSPORT", "区交通运输局", "transport", "department"),
    ("TRAFFIC_POLICE", "公安分局交通警察大队", "traffic police", "department"),
    ("POLICE", "公安分局（派出所）", "public security", "department"),
    ("MARKET", "区市场监督管理局", "market regulation", "department"),
    ("EMERGENCY", "区应急管理局", "emergency management / work safety", "department"),
    ("FIRE", "区消防救援大队", "fire & rescue", "department"),
    ("CIVIL_AFFAIRS", "区民政局", "civil affairs", "department"),
    ("HR_SOCIAL", "区人力资源和社会保障局", "human resources & social security", "department"),
    ("HEALTH", "区卫生健康委员会", "health commission", "department"),
    ("EDUCATION", "区教育局", "education", "department"),
    ("NATURAL_RES", "自然资源和规划分局", "natural resources & planning", "department"),
    ("AGRICULTURE", "区农业农村局", "agriculture & rural affairs", "department"),
    ("GREENERY", "区园林绿化管理中心", "parks & greenery", "department"),
    ("CULTURE", "区文化广电和旅游局", "culture & tourism", "department"),
    ("JUSTICE", "区司法局（人民调解）", "justice / mediation", "department"),
    ("PETITION", "区信访局", "letters & visits", "department"),
    ("DISABLED", "区残疾人联合会", "disabled persons' federation", "department"),
    ("VETERANS", "区退役军人事务局", "veterans affairs", "department"),
    ("POWER", "国网供电公司", "power utility", "utility"),
    ("WATER_SUPPLY", "自来水公司", "water supply utility", "utility"),
    ("GAS", "燃气公司", "gas utility", "utility"),
    ("TELECOM", "通信运营商（电信/移动/联通）", "telecom operators", "utility"),
    ("BUS", "公交公司", "bus company", "utility"),
    ("HEATING", "供热公司", "heating utility", "utility"),
)

# Locational owners resolved from the located grid; not departments, listed for completeness.
LOCATIONAL_OWNERS: tuple[str, ...] = ("GRID", "COMMUNITY", "STREET")


def departments() -> tuple[Department, ...]:
    return tuple(Department(code=c, name=n, name_en=e, kind=k) for c, n, e, k in _ROWS)
