"""The demo logins: one per kind of user, placed so that each administrator governs the region
that contains the demo resident's home community. Generated residents follow from 13900000000."""

DEMO_PASSWORD = "sportsman-demo"  # noqa: S105 (the documented demo password)

DEMO_LOGINS: list[tuple[str, str]] = [
    ("13800000000", "resident (居民)"),
    ("13800000001", "community administrator (社区管理员)"),
    ("13800000002", "town administrator (街道管理员)"),
    ("13800000003", "district administrator (区县管理员)"),
    ("13800000004", "city administrator (市管理员)"),
    ("13800000005", "venue manager (场馆管理员)"),
    ("13800000006", "merchant (商户)"),
    ("13800000010", "association administrator (协会管理员)"),
    ("13800000011", "social sports instructor (社会体育指导员)"),
    ("13800000012", "third-party evaluator (第三方评估员)"),
]

GENERATED_RESIDENT_FIRST_PHONE = 13900000000

# 花园社区 in 新嘉街道, 南湖区, 嘉兴市: the demo resident's home (a real 2023 code).
DEMO_HOME_COMMUNITY = "330402009034"

# Every demo account: phone, nickname, role (None: resident only), region code of the role,
# home community code. The first seven and 13800000010–12 are DEMO_LOGINS (13800000006 owns the demo merchant that
# the rewards demo step creates); the others give demos a sibling town, a sibling district,
# another town's community and every remaining role.
DEMO_STAFF: list[tuple[str, str, str | None, str | None, str]] = [
    ("13800000000", "演示居民", None, None, DEMO_HOME_COMMUNITY),
    ("13800000001", "花园社区管理员", "community_admin", DEMO_HOME_COMMUNITY, DEMO_HOME_COMMUNITY),
    ("13800000002", "新嘉街道管理员", "town_admin", "330402009000", DEMO_HOME_COMMUNITY),
    ("13800000003", "南湖区管理员", "district_admin", "330402000000", "330402013009"),
    ("13800000004", "嘉兴市管理员", "city_admin", "330400000000", "330402013009"),
    ("13800000005", "花园社区场馆管理员", "venue_manager", DEMO_HOME_COMMUNITY,
     DEMO_HOME_COMMUNITY),
    ("13800000006", "新嘉运动商户", "merchant", "330402009000", DEMO_HOME_COMMUNITY),
    ("13800000007", "新南社区管理员", "community_admin", "330402013009", "330402013009"),
    ("13800000008", "秀洲区管理员", "district_admin", "330411000000", "330411104008"),
    ("13800000009", "蓬莱社区场馆管理员", "venue_manager", "330411104008", "330411104008"),
    ("13800000010", "市体育总会", "association_admin", "330400000000", "330402013009"),
    ("13800000011", "王指导员", "instructor", DEMO_HOME_COMMUNITY, DEMO_HOME_COMMUNITY),
    ("13800000012", "第三方评估员", "evaluator", "330400000000", "330402013009"),
    ("13800000014", "花园志愿队长", "volunteer_leader", DEMO_HOME_COMMUNITY, DEMO_HOME_COMMUNITY),
    ("13800000015", "东栅街道管理员", "town_admin", "330402013000", "330402013009"),
]
