"""Property: whatever sequence of inserts, replays, overlapping and late sessions, withdrawals and
manual entries happens, the counted minutes and both incrementally kept rollups equal a
recomputation from the raw records (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sportsman.activity import records, rollups
from sportsman.activity.models import RegionDay, Source, UserDay
from sportsman.core.errors import DomainError

BASE = dt.datetime(2024, 5, 3, 20, 0, tzinfo=rollups.LOCAL_TZ)  # spans local midnights

insert = st.fixed_dictionaries({
    "op": st.just("insert"),
    "who": st.integers(0, 1),
    "source": st.sampled_from([Source.VISIT, Source.DEVICE, Source.FILE]),
    "key": st.integers(0, 7),  # a small pool: replays happen
    "start": st.integers(0, 8 * 24).map(lambda q: q * 15),  # minutes after BASE
    "minutes": st.integers(0, 240),
    "region": st.integers(0, 2),
    "distance_km": st.one_of(st.none(), st.integers(0, 40)),
})
remove = st.fixed_dictionaries({
    "op": st.just("remove"),
    "source": st.sampled_from([Source.VISIT, Source.DEVICE, Source.FILE]),
    "key": st.integers(0, 7),
})
manual = st.fixed_dictionaries({
    "op": st.just("manual"),
    "who": st.integers(0, 1),
    "start": st.integers(0, 8 * 24).map(lambda q: q * 15),
    "minutes": st.integers(1, 120),
    "delete_after": st.booleans(),
})


def snapshot():
    users = {(u.user_id, u.day): [u.region_id, u.minutes, u.sessions, u.verified_minutes,
                                  u.verified_sessions] for u in UserDay.objects.all()}
    regions = {(r.region_id, r.day): [r.minutes, r.sessions, r.verified_minutes, r.active_users]
               for r in RegionDay.objects.all()}
    # A community-day whose records all went stays as a row of zeros (shared rows are never
    # deleted under concurrency): the same as no row.
    regions = {k: v for k, v in regions.items() if v != [0, 0, 0, 0]}
    return users, regions


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(st.one_of(insert, insert, remove, manual), min_size=1, max_size=25))
def test_incremental_rollups_equal_a_recomputation_from_raw_records(tree, ops):
    people = [tree.resident, tree.community_admin]
    regions = [tree.k1.pk, tree.k2.pk, None]
    with transaction.atomic():
        for op in ops:
            if op["op"] == "insert":
                start = BASE + dt.timedelta(minutes=op["start"])
                km = op["distance_km"]
                records.record_session(
                    user_id=people[op["who"]].pk, source=op["source"],
                    source_key=f"{op['source']}:{op['key']}", sport_id=None,
                    started_at=start, ended_at=start + dt.timedelta(minutes=op["minutes"]),
                    region_id=regions[op["region"]],
                    distance_m=None if km is None else km * 1000)
            elif op["op"] == "remove":
                records.remove_session(source=op["source"],
                                       source_key=f"{op['source']}:{op['key']}")
            else:
                try:
                    r = records.add_manual_session(
                        actor=people[op["who"]], sport_id=None,
                        started_at=BASE + dt.timedelta(minutes=op["start"]),
                        duration_minutes=op["minutes"])
                except DomainError as e:
                    assert e.code == "manual_cap"
                    continue
                if op["delete_after"]:
                    records.delete_manual_session(actor=people[op["who"]], record_id=r.pk)

        rows = rollups._rows(None)
        # Counted minutes do not depend on arrival order: a recount of whole histories agrees.
        assert {r[0]: r[7] for r in rows} == rollups.recount_all(rows)
        users, regions = rollups.expected_rollups(rows)
        assert snapshot() == (users, {k: v for k, v in regions.items() if v != [0, 0, 0, 0]})
        # And the rebuild gives the same tables.
        before = snapshot()
        rollups.rebuild_rollups()
        assert snapshot() == before
        transaction.set_rollback(True)


def test_counted_minutes_cover_the_union_of_a_persons_sessions():
    spans = [rollups.Span(rollups.order_key(BASE + dt.timedelta(minutes=s),
                                            BASE + dt.timedelta(minutes=e), "visit", str(i)),
                          BASE + dt.timedelta(minutes=s), BASE + dt.timedelta(minutes=e))
             for i, (s, e) in enumerate([(0, 60), (30, 90), (10, 20), (200, 260), (250, 250)])]
    counted = rollups.counted_minutes_of(spans)
    assert sum(counted.values()) == 90 + 60  # [0, 90) ∪ [200, 260)
    assert counted[spans[2].key] == 0


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 300)), min_size=1, max_size=12),
       st.randoms())
def test_counted_minutes_do_not_depend_on_the_order_given(pairs, rnd):
    spans = [rollups.Span(rollups.order_key(BASE + dt.timedelta(minutes=s),
                                            BASE + dt.timedelta(minutes=s + d), "file", str(i)),
                          BASE + dt.timedelta(minutes=s), BASE + dt.timedelta(minutes=s + d))
             for i, (s, d) in enumerate(pairs)]
    shuffled = list(spans)
    rnd.shuffle(shuffled)
    counted = rollups.counted_minutes_of(spans)
    assert counted == rollups.counted_minutes_of(shuffled)
    covered = set()
    for s, d in pairs:
        covered.update(range(s, s + d))
    assert sum(counted.values()) == len(covered)
