"""Rankings: verified scores per region subtree, competition ranks, opted-out residents hidden,
Redis boards equal to the database, fitness stars."""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.activity import rankings, ranktables
from sportsman.activity.models import RankCount, RankEntry
from sportsman.activity.rankings import Metric, RankLevel
from sportsman.activity.ranktables import BUCKET
from sportsman.activity.selectors import Period
from sportsman.activity.tests.test_mydata import put_day
from sportsman.core.errors import NotFound

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 10)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def _people(tree, scores_by_community):
    out = []
    for community, minutes in scores_by_community:
        u = tree.user(home_community=community, nickname=f"n{len(out)}")
        put_day(u, DAY, minutes)
        out.append(u)
    return out


def _page(region, **kw):
    return rankings.ranking_page_db(region, period=Period.WEEK, on=DAY, metric=Metric.MINUTES,
                                    **kw)


def test_ties_share_a_rank_and_the_next_rank_skips(tree):
    a, b, c, d = _people(tree, [(tree.k1, 50), (tree.k1, 80), (tree.k1, 50), (tree.k1, 10)])
    page = _page(tree.k1)
    assert [(r.user_id, r.rank) for r in page.items] == [(b.pk, 1), (a.pk, 2), (c.pk, 2),
                                                         (d.pk, 4)]
    assert rankings.my_rank_db(c, tree.k1, period=Period.WEEK, on=DAY,
                               metric=Metric.MINUTES) == (2, 50, 4)


def test_town_ranking_covers_its_communities_only(tree):
    a, b, c = _people(tree, [(tree.k1, 10), (tree.k2, 20), (tree.k3, 30)])
    assert [r.user_id for r in _page(tree.t1).items] == [b.pk, a.pk]
    assert [r.user_id for r in _page(tree.city).items] == [c.pk, b.pk, a.pk]


def _opt(user, hide: bool) -> None:
    """Opt out or back in through the profile service, then run the consumers (as the worker
    does after commit)."""
    from sportsman.accounts.services import update_profile
    from sportsman.core.events import dispatch

    update_profile(user=user, hide_from_rankings=hide)
    dispatch()


def test_opted_out_resident_is_hidden_and_takes_no_rank(tree):
    a, b, c = _people(tree, [(tree.k1, 90), (tree.k1, 50), (tree.k1, 40)])
    _opt(a, True)
    page = _page(tree.k1)
    assert [(r.user_id, r.rank) for r in page.items] == [(b.pk, 1), (c.pk, 2)]
    assert rankings.my_rank_db(a, tree.k1, period=Period.WEEK, on=DAY,
                               metric=Metric.MINUTES)[0] is None
    assert rankings.my_rank_db(c, tree.k1, period=Period.WEEK, on=DAY,
                               metric=Metric.MINUTES) == (2, 40, 2)
    assert not RankEntry.objects.filter(user_id=a.pk).exists()
    _opt(a, False)  # back in: their record counts again
    assert [(r.user_id, r.rank) for r in _page(tree.k1).items] == [(a.pk, 1), (b.pk, 2),
                                                                  (c.pk, 3)]
    assert rankings.my_rank_db(c, tree.k1, period=Period.WEEK, on=DAY,
                               metric=Metric.MINUTES) == (3, 40, 3)
    assert ranktables.stored() == ranktables.expected()


def test_a_deleted_account_leaves_the_rankings_with_its_counts(tree):
    from sportsman.accounts.services import delete_account
    from sportsman.core.events import dispatch

    a, b = _people(tree, [(tree.k1, 90), (tree.k1, 50)])
    a.set_password("pw-123456789")
    a.save()
    delete_account(user=a, password="pw-123456789")
    dispatch()
    assert rankings.my_rank_db(b, tree.city, period=Period.WEEK, on=DAY,
                               metric=Metric.MINUTES) == (1, 50, 1)
    assert [r.user_id for r in _page(tree.city).items] == [b.pk]
    assert ranktables.stored() == ranktables.expected()


def test_a_day_whose_first_record_goes_moves_to_the_next_records_community(tree):
    from sportsman.activity import records, rollups
    from sportsman.activity.models import Source

    at = dt.datetime(2026, 6, 10, 8, 0, tzinfo=rollups.LOCAL_TZ)
    me = tree.resident
    for key, hours, region in (("visit:1", 0, tree.k1), ("visit:2", 2, tree.k3)):
        records.record_session(user_id=me.pk, source=Source.VISIT, source_key=key,
                               sport_id=None, started_at=at + dt.timedelta(hours=hours),
                               ended_at=at + dt.timedelta(hours=hours, minutes=30),
                               region_id=region.pk)
    assert _all_db(tree.k1) == [(me.pk, 60, 1)] and _all_db(tree.k3) == []
    records.remove_session(source=Source.VISIT, source_key="visit:1")
    assert _all_db(tree.k1) == [] and _all_db(tree.k3) == [(me.pk, 30, 1)]
    assert ranktables.stored() == ranktables.expected()


def test_only_verified_minutes_count_and_sessions_are_a_metric(tree):
    a, b = _people(tree, [(tree.k1, 10), (tree.k1, 20)])
    put_day(a, DAY + dt.timedelta(days=1), 500, verified=0, sessions=3)  # manual: unverified
    put_day(a, DAY + dt.timedelta(days=2), 15, sessions=2)
    assert [r.user_id for r in _page(tree.k1).items] == [a.pk, b.pk]
    assert _page(tree.k1).items[0].score == 25
    by_sessions = rankings.ranking_page_db(tree.k1, period=Period.WEEK, on=DAY,
                                           metric=Metric.SESSIONS)
    assert [(r.user_id, r.score) for r in by_sessions.items] == [(a.pk, 3), (b.pk, 1)]


def test_pages_carry_ranks_computed_over_the_whole_ranking(tree):
    people = _people(tree, [(tree.k1, 100 - n) for n in range(7)])
    first = _page(tree.k1, limit=3)
    second = _page(tree.k1, cursor=first.next_cursor, limit=3)
    last = _page(tree.k1, cursor=second.next_cursor, limit=3)
    assert [r.rank for r in second.items] == [4, 5, 6]
    assert [r.user_id for r in last.items] == [people[6].pk] and last.next_cursor is None


def test_a_ranking_page_and_my_rank_are_a_fixed_number_of_queries(tree):
    people = _people(tree, [(tree.k1, n) for n in range(1, 30)])
    with CaptureQueriesContext(connection) as q:
        _page(tree.city, limit=50)
    assert len(q.captured_queries) == 1
    with CaptureQueriesContext(connection) as q:
        _page(tree.city, cursor=10, limit=5)  # the first row's rank from the counts
    assert len(q.captured_queries) == 2
    with CaptureQueriesContext(connection) as q:
        rankings.my_rank_db(people[3], tree.city, period=Period.WEEK, on=DAY,
                            metric=Metric.MINUTES)
    assert len(q.captured_queries) == 2


def test_a_rank_reads_the_counts_of_buckets_and_of_its_own_bucket_only(tree):
    scores = [5, 127, 128, 128, 255, 256, 300, 1000, 5000]
    people = _people(tree, [(tree.k1, m) for m in scores])
    for person, score in zip(people, scores, strict=True):
        expected = 1 + sum(1 for s in scores if s > score)
        assert rankings.my_rank_db(person, tree.city, period=Period.WEEK, on=DAY,
                                   metric=Metric.MINUTES) == (expected, score, len(scores))
    buckets = set(RankCount.objects.filter(region=tree.city, metric="minutes", width=BUCKET,
                                           period="2026-W24").values_list("value", "count"))
    assert buckets == {(0, 2), (1, 3), (2, 2), (7, 1), (39, 1)}


def test_the_rebuild_restores_damaged_tables_and_changes_nothing_when_run_again(tree):
    from django.core.management import call_command

    _people(tree, [(tree.k1, 30), (tree.k2, 60), (tree.k4, 60)])
    good = ranktables.stored()
    assert good == ranktables.expected()
    RankEntry.objects.filter(region=tree.city).update(minutes=1)
    RankCount.objects.filter(region=tree.k1).delete()
    call_command("rebuild_rank_tables", verbosity=0)
    assert ranktables.stored() == good
    call_command("rebuild_rank_tables", verbosity=0)
    assert ranktables.stored() == good


def test_my_ranks_cover_four_levels_and_none_when_hidden(tree):
    me = tree.resident
    put_day(me, DAY, 30)
    _people(tree, [(tree.k3, 60)])
    levels = rankings.my_ranks(me, period=Period.WEEK, on=DAY)
    assert [(lr.level, lr.rank) for lr in levels] == [
        (RankLevel.COMMUNITY, 1), (RankLevel.TOWN, 1), (RankLevel.DISTRICT, 2),
        (RankLevel.CITY, 2)]
    me.hide_from_rankings = True
    assert all(lr.rank is None for lr in rankings.my_ranks(me, period=Period.WEEK, on=DAY))


def test_a_region_outside_my_area_is_not_found(tree):
    with pytest.raises(NotFound):
        rankings.region_for(tree.resident, RankLevel.TOWN, tree.t2.pk)
    assert rankings.region_for(tree.resident, RankLevel.TOWN, None) == tree.t1


def test_fitness_stars_keep_ties_at_the_cut(tree):
    a, b, c, _d = _people(tree, [(tree.k1, 90), (tree.k1, 70), (tree.k1, 70), (tree.k2, 10)])
    stars = rankings.fitness_stars(tree.k1, year=2026, top=2)
    assert {r.user_id for r in stars} == {a.pk, b.pk, c.pk}
    assert [r.user_id for r in rankings.fitness_stars(tree.t1, year=2026, percent=1)] == [a.pk]


# --- Redis boards against the database ----------------------------------------------------------

redis_only = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")


@pytest.fixture
def board(settings):
    import redis

    settings.REDIS_URL = REDIS_URL
    settings.ACTIVITY_BOARD_PREFIX = f"test:board:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    for key in client.scan_iter(match=f"{settings.ACTIVITY_BOARD_PREFIX}:*"):
        client.delete(key)


def _all_db(region, metric=Metric.MINUTES):
    page = rankings.ranking_page_db(region, period=Period.WEEK, on=DAY, metric=metric, limit=100)
    assert page.items == rankings.ranking_page_recomputed(region, period=Period.WEEK, on=DAY,
                                                          metric=metric, limit=100).items
    return [(r.user_id, r.score, r.rank) for r in page.items]


def _all_redis(region, metric=Metric.MINUTES):
    page = rankings.ranking_page(region, period=Period.WEEK, on=DAY, metric=metric, limit=100)
    assert page.source == "redis"
    return [(r.user_id, r.score, r.rank) for r in page.items]


@redis_only
def test_redis_boards_equal_the_database_after_rebuild_and_bumps(tree, board):
    rng = random.Random(4)
    communities = [tree.k1, tree.k2, tree.k3, tree.k4]
    people = _people(tree, [(rng.choice(communities), rng.choice([10, 20, 30, 45]))
                            for _ in range(40)])
    _opt(people[3], True)
    assert rankings.rebuild_boards(period=Period.WEEK, on=DAY) > 0
    for region in (tree.k1, tree.t1, tree.d1, tree.city):
        for metric in Metric:
            assert _all_redis(region, metric) == _all_db(region, metric)
    # Incremental: a new verified session for someone, then the rollup and the board move alike.
    who = people[5]
    day = DAY + dt.timedelta(days=1)
    put_day(who, day, 25)
    rankings.bump(user_id=who.pk, region_id=who.home_community_id, day=day,
                  verified_minutes=25, verified_sessions=1)
    rankings.bump(user_id=people[3].pk, region_id=people[3].home_community_id, day=day,
                  verified_minutes=99, verified_sessions=1)  # hidden: not added
    for region in (tree.k1, tree.k2, tree.t1, tree.city):
        assert _all_redis(region) == _all_db(region)
    for person in people[:10]:
        region = person.home_community
        assert rankings.my_rank(person, region, period=Period.WEEK, on=DAY,
                                metric=Metric.MINUTES) == rankings.my_rank_db(
            person, region, period=Period.WEEK, on=DAY, metric=Metric.MINUTES)


@redis_only
def test_a_resident_who_opts_out_after_the_rebuild_is_never_listed(tree, board):
    a, b = _people(tree, [(tree.k1, 90), (tree.k1, 50)])
    rankings.rebuild_boards(period=Period.WEEK, on=DAY)
    a.hide_from_rankings = True  # opted out; the consumer (``forget``) has not run yet
    a.save()
    assert [r.user_id for r in rankings.ranking_page(
        tree.k1, period=Period.WEEK, on=DAY, metric=Metric.MINUTES).items] == [b.pk]
    rankings.forget(user_id=a.pk)
    assert _all_redis(tree.k1) == _all_db(tree.k1) == [(b.pk, 50, 1)]


@redis_only
def test_the_job_builds_week_month_and_year_boards(tree, board):
    _people(tree, [(tree.k1, 10), (tree.k3, 20)])
    # Boards exist where someone ranks: city, d1, t1, t2, k1, k3 — per period and metric.
    assert rankings.rebuild_current_boards(on=DAY) == 3 * 2 * 6
    for period in Period:
        page = rankings.ranking_page(tree.city, period=period, on=DAY, metric=Metric.MINUTES)
        assert page.source == "redis" and [r.score for r in page.items] == [20, 10]


@redis_only
def test_without_a_board_rankings_fall_back_to_the_database(tree, board):
    _people(tree, [(tree.k1, 10)])
    page = rankings.ranking_page(tree.k1, period=Period.WEEK, on=DAY, metric=Metric.MINUTES)
    assert page.source == "db" and len(page.items) == 1


def test_redis_down_falls_back_to_the_database(tree, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    _people(tree, [(tree.k1, 10)])
    page = rankings.ranking_page(tree.k1, period=Period.WEEK, on=DAY, metric=Metric.MINUTES)
    assert page.source == "db" and len(page.items) == 1
