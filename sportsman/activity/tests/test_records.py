"""Writing the exercise record: idempotent sessions, the overlap merge, plausibility flags,
manual entries and withdrawals, with the rollups they move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.activity import records, rollups
from sportsman.activity.models import ActivityRecord, RegionDay, Source, UserDay
from sportsman.core.errors import DomainError, NotFound
from sportsman.core.models import Sport

TZ = rollups.LOCAL_TZ


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=TZ)


def sport(slug: str) -> int:
    return Sport.objects.get(slug=slug).pk


def visit(user, key, start, end, **kw):
    return records.record_session(user_id=user.pk, source=Source.VISIT, source_key=key,
                                  sport_id=kw.pop("sport_id", None), started_at=start,
                                  ended_at=end, **kw)


def assert_rollups_match_raw():
    users, regions = rollups.expected_rollups(rollups._rows(None))
    got_users = {(u.user_id, u.day): [u.region_id, u.minutes, u.sessions, u.verified_minutes,
                                      u.verified_sessions] for u in UserDay.objects.all()}
    got_regions = {(r.region_id, r.day): [r.minutes, r.sessions, r.verified_minutes,
                                          r.active_users]
                   for r in RegionDay.objects.all() if (r.minutes, r.sessions) != (0, 0)}
    assert got_users == users
    assert got_regions == {k: v for k, v in regions.items() if v[:2] != [0, 0]}


def test_a_session_lands_in_the_home_community_and_the_rollups(tree):
    r = visit(tree.resident, "visit:1", at(3, 8), at(3, 9, 30))
    assert (r.region_id, r.duration_minutes, r.counted_minutes) == (tree.k1.pk, 90, 90)
    assert r.is_verified and r.flags == []
    day = UserDay.objects.get(user=tree.resident)
    assert (day.day, day.minutes, day.sessions, day.verified_minutes) == (dt.date(2024, 5, 3),
                                                                          90, 1, 90)
    region = RegionDay.objects.get(region=tree.k1)
    assert (region.minutes, region.sessions, region.active_users) == (90, 1, 1)


def test_replaying_a_source_returns_the_same_record_and_changes_nothing(tree):
    first = visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
    again = visit(tree.resident, "visit:1", at(3, 8), at(3, 11))
    assert again.pk == first.pk and again.duration_minutes == 60
    assert ActivityRecord.objects.count() == 1
    assert UserDay.objects.get().minutes == 60
    assert RegionDay.objects.get().sessions == 1


def test_the_day_is_the_local_date_of_the_start(tree):
    # 23:30 local on the 3rd is 15:30 UTC: the 3rd, not the UTC date or the end's date.
    visit(tree.resident, "visit:1", at(3, 23, 30), at(4, 0, 30))
    assert UserDay.objects.get().day == dt.date(2024, 5, 3)


def test_overlapping_sessions_are_never_double_counted(tree):
    a = visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
    b = visit(tree.resident, "visit:2", at(3, 8, 30), at(3, 10))
    a.refresh_from_db()
    assert (a.counted_minutes, b.counted_minutes) == (60, 60)
    assert UserDay.objects.get().minutes == 120  # 08:00–10:00, not 150
    assert UserDay.objects.get().sessions == 2
    assert RegionDay.objects.get().active_users == 1


def test_a_late_earlier_session_gives_the_same_counts_as_in_order(tree):
    late_first = visit(tree.resident, "visit:2", at(3, 8, 30), at(3, 10))
    early = visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
    late_first.refresh_from_db()
    # The same as arriving in start order: the earlier session claims 08:00–09:00.
    assert (early.counted_minutes, late_first.counted_minutes) == (60, 60)
    assert UserDay.objects.get().minutes == 120
    assert_rollups_match_raw()


def test_a_session_inside_another_counts_nothing_but_is_a_session(tree):
    visit(tree.resident, "visit:1", at(3, 8), at(3, 12))
    inner = visit(tree.resident, "visit:2", at(3, 9), at(3, 10))
    assert inner.counted_minutes == 0
    day = UserDay.objects.get()
    assert (day.minutes, day.sessions) == (240, 2)


def test_other_people_overlapping_do_not_affect_each_other(tree):
    visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
    other = visit(tree.community_admin, "visit:2", at(3, 8), at(3, 9), region_id=tree.k1.pk)
    assert other.counted_minutes == 60
    assert RegionDay.objects.get(region=tree.k1).active_users == 2


@pytest.mark.parametrize(("slug", "km", "minutes", "flag"), [
    ("walking", 9, 60, records.FLAG_TOO_FAST),
    ("running", 26, 60, records.FLAG_TOO_FAST),
    ("cycling", 61, 60, records.FLAG_TOO_FAST),
    ("running", 1, 11 * 60, records.FLAG_TOO_LONG),
    ("walking", 1, 0, records.FLAG_DISTANCE_WITHOUT_DURATION),
])
def test_implausible_sessions_are_flagged_and_left_out_of_verified_totals(tree, slug, km,
                                                                          minutes, flag):
    start = at(3, 6)
    r = records.record_session(user_id=tree.resident.pk, source=Source.DEVICE,
                               source_key="device:1", sport_id=sport(slug), started_at=start,
                               ended_at=start + dt.timedelta(minutes=minutes),
                               distance_m=km * 1000)
    assert flag in r.flags and not r.is_verified
    day = UserDay.objects.get()
    assert (day.minutes, day.verified_minutes, day.verified_sessions) == (minutes, 0, 0)
    assert RegionDay.objects.get().verified_minutes == 0


def test_a_session_ending_in_the_future_is_flagged(tree):
    start = timezone.now() + dt.timedelta(days=30)
    r = visit(tree.resident, "visit:1", start, start + dt.timedelta(hours=1))
    assert r.flags == [records.FLAG_IN_FUTURE]
    assert UserDay.objects.get().verified_minutes == 0


def test_plausible_speeds_are_not_flagged(tree):
    r = records.record_session(user_id=tree.resident.pk, source=Source.DEVICE,
                               source_key="device:1", sport_id=sport("cycling"),
                               started_at=at(3, 6), ended_at=at(3, 8), distance_m=57_600)
    assert r.flags == [] and r.is_verified


def test_removing_a_session_reverses_the_rollups_and_returns_overlapped_minutes(tree):
    visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
    later = visit(tree.resident, "visit:2", at(3, 8, 30), at(3, 10))
    assert records.remove_session(source=Source.VISIT, source_key="visit:1") is True
    later.refresh_from_db()
    assert later.counted_minutes == 90
    day = UserDay.objects.get()
    assert (day.minutes, day.sessions) == (90, 1)
    assert records.remove_session(source=Source.VISIT, source_key="visit:2") is True
    assert not UserDay.objects.exists()
    region = RegionDay.objects.get()
    assert (region.minutes, region.sessions, region.active_users) == (0, 0, 0)
    assert records.remove_session(source=Source.VISIT, source_key="visit:2") is False


def test_manual_entry_is_unverified_and_capped_per_day(tree):
    r = records.add_manual_session(actor=tree.resident, sport_id=sport("walking"),
                                   started_at=at(3, 7), duration_minutes=120, note="晨练")
    assert r.source == Source.MANUAL and not r.is_verified
    assert UserDay.objects.get().verified_minutes == 0
    with pytest.raises(DomainError) as err:
        records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(3, 18),
                                   duration_minutes=61)
    assert err.value.code == "manual_cap"
    records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(3, 18),
                               duration_minutes=60)
    # Another day has its own allowance.
    records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(4, 7),
                               duration_minutes=180)
    assert ActivityRecord.objects.filter(source=Source.MANUAL).count() == 3


@pytest.mark.parametrize(("minutes", "code"), [(0, "manual_duration"), (181, "manual_duration")])
def test_manual_entry_refuses_bad_durations(tree, minutes, code):
    with pytest.raises(DomainError) as err:
        records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(3, 7),
                                   duration_minutes=minutes)
    assert err.value.code == code
    assert not ActivityRecord.objects.exists()


def test_manual_entry_in_the_future_is_refused(tree):
    with pytest.raises(DomainError) as err:
        records.add_manual_session(actor=tree.resident, sport_id=None,
                                   started_at=timezone.now(), duration_minutes=30)
    assert err.value.code == "manual_future"


def test_deleting_own_manual_entry_reverses_rollups(tree):
    r = records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(3, 7),
                                   duration_minutes=30)
    records.delete_manual_session(actor=tree.resident, record_id=r.pk)
    assert not ActivityRecord.objects.exists() and not UserDay.objects.exists()
    assert RegionDay.objects.get().active_users == 0


def test_nobody_deletes_another_persons_entry_or_a_visit(tree):
    mine = records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(3, 7),
                                      duration_minutes=30)
    v = visit(tree.resident, "visit:1", at(4, 8), at(4, 9))
    with pytest.raises(NotFound):
        records.delete_manual_session(actor=tree.community_admin, record_id=mine.pk)
    with pytest.raises(NotFound):
        records.delete_manual_session(actor=tree.resident, record_id=v.pk)
    assert ActivityRecord.objects.count() == 2


def test_a_session_ending_before_it_starts_is_refused(tree):
    with pytest.raises(DomainError) as err:
        visit(tree.resident, "visit:1", at(3, 9), at(3, 8))
    assert err.value.code == "time_order"


def test_rebuild_gives_back_the_incremental_rollups(tree):
    visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
    visit(tree.resident, "visit:2", at(3, 8, 30), at(3, 10), region_id=tree.k2.pk)
    visit(tree.community_admin, "visit:3", at(4, 8), at(4, 9), region_id=tree.k2.pk)
    before = (sorted(UserDay.objects.values_list("user_id", "day", "region_id", "minutes",
                                                 "sessions", "verified_minutes")),
              sorted(RegionDay.objects.values_list("region_id", "day", "minutes", "sessions",
                                                   "active_users")))
    UserDay.objects.update(minutes=0)
    rollups.rebuild_rollups()
    after = (sorted(UserDay.objects.values_list("user_id", "day", "region_id", "minutes",
                                                "sessions", "verified_minutes")),
             sorted(RegionDay.objects.values_list("region_id", "day", "minutes", "sessions",
                                                  "active_users")))
    assert after == before


def test_ranking_boards_get_the_verified_deltas_after_commit(tree, settings, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    from collections import Counter

    from sportsman.activity import rankings

    settings.REDIS_URL = "redis://unused"
    sent = Counter()

    def bump(*, user_id, region_id, day, verified_minutes, verified_sessions):
        sent[(user_id, region_id, day, "m")] += verified_minutes
        sent[(user_id, region_id, day, "s")] += verified_sessions

    monkeypatch.setattr(rankings, "bump", bump)
    with django_capture_on_commit_callbacks(execute=True):
        visit(tree.resident, "visit:1", at(3, 8), at(3, 9))
        visit(tree.resident, "visit:2", at(3, 8, 30), at(3, 10), region_id=tree.k2.pk)
        records.add_manual_session(actor=tree.resident, sport_id=None, started_at=at(3, 12),
                                   duration_minutes=20)  # unverified: no bump
        # The day's first record goes: the person-day moves to k2, and its board entry with it.
        records.remove_session(source=Source.VISIT, source_key="visit:1")
    boards = {k: v for k, v in sent.items() if v}
    day = UserDay.objects.get()
    assert day.region_id == tree.k2.pk
    assert boards == {(tree.resident.pk, tree.k2.pk, day.day, "m"): day.verified_minutes,
                      (tree.resident.pk, tree.k2.pk, day.day, "s"): day.verified_sessions}
    assert day.verified_minutes == 90
