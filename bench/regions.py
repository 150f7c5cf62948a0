"""Region-tree query cost at a given size: ``python -m bench.regions SIZE`` prints JSON.

Run by ``python -m bench`` in a process of its own, against an empty migrated database named
by DATABASE_URL. Loads a synthetic province of about SIZE regions with the platform's own loader
(``bulk_load_tree``), then times the selectors that every scoped query leans on.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

# (cities, districts per city, towns per district, communities per town) → about SIZE regions
SHAPES = {
    1_000: (1, 4, 10, 24),  # 1,006
    10_000: (4, 6, 16, 25),  # 10,013
    100_000: (10, 10, 25, 40),  # 102,611
}


def _median_us(fn: Callable[[], object], *, repeat: int) -> float:
    fn()  # warm the statement cache and the pages
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples) * 1e6, 1)


def measure(size: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sportsman.core.demo_city import OTHER_CITIES, synthetic_city_rows
    from sportsman.regions.models import Region
    from sportsman.regions.selectors import ancestors, find_by_code, subtree
    from sportsman.regions.services import bulk_load_tree

    cities, districts, towns, communities = SHAPES[size]
    rng = random.Random(size)
    rows = [{"code12": "330000000000", "name": "浙江省", "level": "province", "parent_code": ""}]
    for code, name in [("3304", "嘉兴市"), *OTHER_CITIES][:cities]:
        rows += synthetic_city_rows(rng, city_code=code, city_name=name, province_code="33",
                                    districts=districts, towns=towns, communities=communities)
    start = time.perf_counter()
    bulk_load_tree(rows, edition=2023)
    load_s = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    city = find_by_code("3304")
    district = find_by_code("330401")
    town = find_by_code("330401001")
    community = Region.objects.filter(parent=town).order_by("code").first()
    assert city and district and town and community

    def subtree_count(region: Region) -> Callable[[], int]:
        return lambda: subtree(region).count()

    # The access module's scope for a town administrator: what every scoped query filters by.
    from sportsman.accounts.models import User
    from sportsman.regions.access import Access, Perm
    from sportsman.regions.models import RoleAssignment

    admin = User.objects.create_user("13700000000", None)
    RoleAssignment.objects.create(user=admin, role="town_admin", region=town)
    access = Access(admin)
    access.grants  # noqa: B018 — loaded once, as per request

    with CaptureQueriesContext(connection) as queries:
        list(subtree(town))
        list(ancestors(community))
    repeat = 200
    figures = {
        "database": connection.vendor,
        "regions": Region.objects.count(),
        "load_seconds": round(load_s, 2),
        "load_rows_per_s": round(len(rows) / load_s),
        "subtree_count_us": {
            "city": _median_us(subtree_count(city), repeat=20),
            "district": _median_us(subtree_count(district), repeat=repeat),
            "town": _median_us(subtree_count(town), repeat=repeat),
        },
        "subtree_sizes": {"city": subtree(city).count(), "district": subtree(district).count(),
                          "town": subtree(town).count()},
        "town_subtree_rows_us": _median_us(lambda: list(subtree(town)), repeat=repeat),
        "ancestors_us": _median_us(lambda: list(ancestors(community)), repeat=repeat),
        # Django's own startswith (LIKE): on SQLite a table scan, which the selectors avoid.
        "town_startswith_count_us": _median_us(
            lambda: Region.objects.filter(path__startswith=town.path).count(), repeat=20),
        "access_scope_town_count_us": _median_us(
            lambda: access.regions(Perm.REGION_VIEW).count(), repeat=20),
        "queries_per_subtree_and_ancestors": len(queries) / 2,
        "subtree_plan": subtree(district).explain().replace("\n", " | "),
    }
    return figures


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    size = int(sys.argv[1])
    if size not in SHAPES:
        raise SystemExit(f"size must be one of {sorted(SHAPES)}")
    print(json.dumps(measure(size)))


if __name__ == "__main__":
    main()
