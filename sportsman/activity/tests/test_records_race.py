"""The exercise record under concurrent writers: a source replayed at once records once; one
person's overlapping sessions arriving together are still counted once; many people writing to
one community-day lose no update."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.activity import ranktables, records, rollups
from sportsman.activity.models import ActivityRecord, RankEntry, RegionDay, Source, UserDay
from sportsman.core.testing import failures, race

pytestmark = pytest.mark.django_db(transaction=True)

T = dt.datetime(2024, 5, 3, 8, 0, tzinfo=rollups.LOCAL_TZ)


def _visit(user_id: int, key: str, start: dt.datetime, minutes: int) -> ActivityRecord:
    return records.record_session(user_id=user_id, source=Source.VISIT, source_key=key,
                                  sport_id=None, started_at=start,
                                  ended_at=start + dt.timedelta(minutes=minutes))


def _matches_raw() -> None:
    rows = rollups._rows(None)
    assert {r[0]: r[7] for r in rows} == rollups.recount_all(rows)
    users, regions = rollups.expected_rollups(rows)
    assert {(u.user_id, u.day): [u.region_id, u.minutes, u.sessions, u.verified_minutes,
                                 u.verified_sessions] for u in UserDay.objects.all()} == users
    assert {(r.region_id, r.day): [r.minutes, r.sessions, r.verified_minutes, r.active_users]
            for r in RegionDay.objects.all()} == regions
    # The rank tables (a read-modify-write of the person's entries, shared counts) too.
    assert ranktables.stored() == ranktables.expected()


def test_one_event_replayed_concurrently_records_once(tree):
    outcomes = race(lambda i: _visit(tree.resident.pk, "visit:1", T, 60), 4)
    assert not failures(outcomes)
    assert len({o.pk for o in outcomes}) == 1
    assert ActivityRecord.objects.count() == 1
    assert UserDay.objects.get().minutes == 60
    assert RegionDay.objects.get().active_users == 1


def test_overlapping_sessions_of_one_person_arriving_together_count_once(tree):
    outcomes = race(lambda i: _visit(tree.resident.pk, f"visit:{i}",
                                     T + dt.timedelta(minutes=15 * i), 60), 4)
    assert not failures(outcomes)
    assert UserDay.objects.get().minutes == 105  # 08:00–09:45
    _matches_raw()


def test_many_people_on_one_community_day_lose_no_update(tree):
    people = [tree.user(home_community=tree.k1) for _ in range(6)]
    outcomes = race(lambda i: _visit(people[i].pk, f"visit:{i}", T, 30 + i), 6)
    assert not failures(outcomes)
    day = RegionDay.objects.get(region=tree.k1)
    assert (day.minutes, day.sessions, day.active_users) == (sum(30 + i for i in range(6)), 6, 6)
    _matches_raw()


def test_two_rollups_of_one_person_in_one_week_lose_nothing_in_the_rank_tables(tree):
    me = tree.resident
    # Different days of one week: each rollup rewrites the same week and year entries.
    outcomes = race(lambda i: _visit(me.pk, f"visit:{i}", T + dt.timedelta(days=i), 20 + i), 2)
    assert not failures(outcomes)
    _matches_raw()
    week = RankEntry.objects.get(user_id=me.pk, region=tree.city, period="2024-W18")
    assert (week.minutes, week.sessions) == (41, 2)


def test_many_people_moving_shared_counts_at_once_lose_nothing(tree):
    people = [tree.user(home_community=c) for c in (tree.k1, tree.k2, tree.k3, tree.k4) * 2]
    # Two sessions each, racing: counts of the same scores and buckets move up and down.
    outcomes = race(lambda i: [_visit(people[i % 8].pk, f"visit:{i}",
                                      T + dt.timedelta(hours=i // 8 * 3), 30)], 16)
    assert not failures(outcomes)
    _matches_raw()
