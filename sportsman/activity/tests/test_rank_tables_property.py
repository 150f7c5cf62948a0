"""Property: whatever sessions arrive and go, whoever opts out or back in, moves home or is
rebuilt, the rank tables equal a recomputation from the rollups, and the table path, the
grouped-query reference (``*_recomputed``) and — with TEST_REDIS_URL — the Redis boards agree on
every page and every rank (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sportsman.activity import rankings, ranktables, records, rollups
from sportsman.activity.models import Source
from sportsman.activity.rankings import Metric
from sportsman.activity.selectors import Period
from sportsman.core import events

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
# Days from Friday 26 December 2025 to 6 January 2026: ISO week 2026-W01 holds days of two
# years and two months, so week, month and year boards of one day differ.
BASE = dt.datetime(2025, 12, 26, 20, 0, tzinfo=rollups.LOCAL_TZ)
PEOPLE = 4

insert = st.fixed_dictionaries({
    "op": st.just("insert"),
    "who": st.integers(0, PEOPLE - 1),
    "source": st.sampled_from([Source.VISIT, Source.VISIT, Source.DEVICE, Source.FILE]),
    "key": st.integers(0, 9),  # a small pool: replays and withdrawals of real keys
    # Minutes after BASE (20:00): a few days, hours either side of midnight, so that one
    # person's sessions share days, overlap, and a day's first record can go.
    "start": st.tuples(st.sampled_from([0, 2, 3, 6, 10]), st.integers(0, 6)).map(
        lambda t: t[0] * 1440 + t[1] * 60),
    "minutes": st.sampled_from([0, 20, 30, 45, 60, 90, 130, 300]),  # ties, buckets, overlaps
    "region": st.integers(0, 4),  # the record's community: k1, k2, k3, k4 or none
})
remove = st.fixed_dictionaries({
    "op": st.just("remove"),
    "source": st.sampled_from([Source.VISIT, Source.DEVICE, Source.FILE]),
    "key": st.integers(0, 9),
})
opt = st.fixed_dictionaries({"op": st.just("opt"), "who": st.integers(0, PEOPLE - 1),
                             "hide": st.booleans()})
rebuild_person = st.fixed_dictionaries({"op": st.just("rebuild"),
                                        "who": st.integers(0, PEOPLE - 1)})


def _days(ops):
    return sorted({(BASE + dt.timedelta(minutes=o["start"])).date() for o in ops
                   if o["op"] == "insert"} | {BASE.date()})


def _agree(tree, people, days):
    """Every board of the days' periods: pages (whole, and two at a time) and ranks."""
    from sportsman.accounts.models import User

    people = list(User.objects.filter(pk__in=[p.pk for p in people]))
    # Every level, a town with two communities and a district with one (k3, t2 and t3 are
    # shaped like k2, t1 and d2's town).
    regions = [tree.k1, tree.k2, tree.k4, tree.t1, tree.d2, tree.city]
    periods = {(period, rankings.period_key(period, d)): d for d in days for period in Period}
    for (period, _key), on in periods.items():
        for region in regions:
            for metric in Metric:
                kw = {"period": period, "on": on, "metric": metric}
                whole = rankings.ranking_page_recomputed(region, limit=100, **kw).items
                assert rankings.ranking_page_db(region, limit=100, **kw).items == whole
                cursor, paged = 0, []
                while cursor is not None and region in (tree.k1, tree.city):
                    page = rankings.ranking_page_db(region, cursor=cursor, limit=2, **kw)
                    assert page.items == rankings.ranking_page_recomputed(
                        region, cursor=cursor, limit=2, **kw).items
                    paged += page.items
                    cursor = page.next_cursor
                assert paged == whole or region not in (tree.k1, tree.city)
                for person in people:
                    assert rankings.my_rank_db(person, region, **kw) == \
                        rankings.my_rank_recomputed(person, region, **kw)
    return regions, periods, people


def _agree_with_redis(regions, periods, people):
    import redis
    from django.conf import settings as django_settings

    prefix = f"test:board:{uuid.uuid4().hex}"
    old = django_settings.REDIS_URL, getattr(django_settings, "ACTIVITY_BOARD_PREFIX", None)
    django_settings.REDIS_URL, django_settings.ACTIVITY_BOARD_PREFIX = REDIS_URL, prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for (period, _key), on in periods.items():
            rankings.rebuild_boards(period=period, on=on, client=client)
            for region in regions:
                for metric in Metric:
                    kw = {"period": period, "on": on, "metric": metric}
                    page = rankings.ranking_page(region, limit=100, **kw)
                    assert page.items == rankings.ranking_page_db(region, limit=100, **kw).items
                    for person in people:
                        assert rankings.my_rank(person, region, **kw) == \
                            rankings.my_rank_db(person, region, **kw)
    finally:
        django_settings.REDIS_URL, django_settings.ACTIVITY_BOARD_PREFIX = old
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(st.one_of(insert, insert, insert, remove, remove, opt, rebuild_person),
                    min_size=1, max_size=25))
def test_rank_tables_the_reference_and_redis_agree(tree, ops):
    from sportsman.accounts.services import update_profile

    with transaction.atomic():
        people = [tree.user(home_community=c, nickname=f"p{i}")
                  for i, c in enumerate([tree.k1, tree.k1, tree.k2, tree.k3][:PEOPLE])]
        regions = [tree.k1.pk, tree.k2.pk, tree.k3.pk, tree.k4.pk, None]
        for op in ops:
            if op["op"] == "insert":
                start = BASE + dt.timedelta(minutes=op["start"])
                records.record_session(
                    user_id=people[op["who"]].pk, source=op["source"],
                    source_key=f"{op['source']}:{op['key']}", sport_id=None, started_at=start,
                    ended_at=start + dt.timedelta(minutes=op["minutes"]),
                    region_id=regions[op["region"]])
            elif op["op"] == "remove":
                records.remove_session(source=op["source"],
                                       source_key=f"{op['source']}:{op['key']}")
            elif op["op"] == "opt":
                person = people[op["who"]]
                person.refresh_from_db()
                update_profile(user=person, hide_from_rankings=op["hide"])
                events.dispatch()  # the consumers, as the worker runs them after commit
            else:
                rollups.rebuild_rollups([people[op["who"]].pk])

        assert ranktables.stored() == ranktables.expected()
        checked = _agree(tree, people, _days(ops))
        if REDIS_URL:
            _agree_with_redis(*checked)
        # The rebuild gives the same tables, and again.
        before = ranktables.stored()
        ranktables.rebuild()
        assert ranktables.stored() == before
        ranktables.rebuild()
        assert ranktables.stored() == before
        transaction.set_rollback(True)
