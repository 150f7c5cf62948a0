"""The demo logins: one per kind of user, placed so that each administrator governs the region
that contains the demo resident's home community. Generated residents follow from 13900000000."""

DEMO_PASSWORD = "sportsman-demo"

DEMO_LOGINS: list[tuple[str, str]] = [
    ("13800000000", "resident (居民)"),
    ("13800000001", "community administrator (社区管理员)"),
    ("13800000002", "town administrator (街道管理员)"),
    ("13800000003", "district administrator (区县管理员)"),
    ("13800000004", "city administrator (市管理员)"),
    ("13800000005", "venue manager (场馆管理员)"),
]

GENERATED_RESIDENT_FIRST_PHONE = 13900000000
