"""Rankings: verified minutes or verified sessions per week, month and year, within a community,
town, district or city (the region's subtree of home communities; see docs/activity.md).

Rules:

- Only verified exercise counts (``UserDay.verified_minutes`` / ``verified_sessions``); a day
  counts where the person lived that day (``UserDay.region``).
- Ties share a rank, standard competition ranking ("1224"): a resident's rank is one plus the
  number of residents with a strictly higher score. Within a tie the list is ordered by user id,
  which is stable but carries no meaning.
- Residents who opted out (``hide_from_rankings``) are left out entirely: they are not listed and
  do not take a rank from anyone. Residents with a zero score are not ranked.

The database is the truth: the rank tables (``RankEntry``, ``RankCount``; ``ranktables``),
kept with the rollups, answer a page with one range scan of a score index and my rank with
two look-ups, whatever the number of residents (docs/adr/0006-rank-tables.md). The grouped
query over ``UserDay`` (``*_recomputed``) stays as their reference. With ``settings.REDIS_URL``
set, boards are also held in Redis sorted sets (one key per metric, period and region), rebuilt
by ``rebuild_boards`` and bumped by ``bump`` as rollups change; reads use a board when it exists
and fall back to the database otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.expressions import Window
from django.db.models.functions import Rank
from redis.exceptions import RedisError

from sportsman.activity import ranktables
from sportsman.activity.models import RankCount, RankEntry, UserDay
from sportsman.activity.selectors import Period, period_bounds, period_key
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.regions.models import Level, Region, subtree_q

log = logging.getLogger(__name__)

MAX_PAGE = 100


class RankLevel(StrEnum):
    COMMUNITY = "community"
    TOWN = "town"
    DISTRICT = "district"
    CITY = "city"


LEVELS = [RankLevel.COMMUNITY, RankLevel.TOWN, RankLevel.DISTRICT, RankLevel.CITY]


class Metric(StrEnum):
    MINUTES = "minutes"
    SESSIONS = "sessions"


FIELD = {Metric.MINUTES: "verified_minutes", Metric.SESSIONS: "verified_sessions"}


def parse_level(value: str) -> RankLevel:
    from django.utils.translation import gettext as _

    try:
        return RankLevel(value)
    except ValueError:
        raise InvalidInput(_("Unknown level."), code="bad_level",
                           fields={"level": _("Choose community, town, district or city.")}) \
            from None


def parse_metric(value: str) -> Metric:
    from django.utils.translation import gettext as _

    try:
        return Metric(value)
    except ValueError:
        raise InvalidInput(_("Unknown metric."), code="bad_metric",
                           fields={"metric": _("Choose minutes or sessions.")}) from None


def my_regions(user: Any) -> dict[RankLevel, Region]:
    """The regions of the resident's home community at each ranking level: one query."""
    community = user.home_community
    if community is None:
        return {}
    rows = Region.objects.filter(id__in=[*community.ancestor_ids, community.pk])
    return {RankLevel(r.level): r for r in rows if r.level in {lv.value for lv in LEVELS}}


def region_for(user: Any, level: RankLevel, region_id: int | None) -> Region:
    """The region a resident may see the ranking of: one containing their home community, at
    ``level``. Another region answers 404 (whether it exists is none of their business)."""
    from django.utils.translation import gettext as _

    if user.home_community_id is None:
        raise InvalidInput(_("Set your home community first to see rankings."),
                           code="no_home_community")
    mine = my_regions(user)
    region = mine.get(level)
    if region is None or (region_id is not None and region.pk != region_id):
        raise NotFound(_("No such ranking in your area."))
    return region


@dataclass
class Row:
    user_id: int
    nickname: str
    score: int
    rank: int


@dataclass
class Page:
    items: list[Row]
    next_cursor: int | None
    participants: int | None = None
    source: str = "db"


def scores(region: Region, *, period: Period, on: dt.date, metric: Metric) -> QuerySet[Any]:
    """Per resident, the verified score within the region's subtree over the period: a grouped
    queryset (``user_id``, ``score``) without hidden residents or zero scores."""
    start, end = period_bounds(period, on)
    return (UserDay.objects
            .filter(subtree_q(region.path, "region"), day__gte=start, day__lt=end,
                    user__hide_from_rankings=False)
            .values("user_id")
            .annotate(score=Sum(FIELD[metric]))
            .filter(score__gt=0))


def ranked(region: Region, *, period: Period, on: dt.date, metric: Metric) -> QuerySet[Any]:
    """``scores`` with the competition rank of each resident (``RANK() OVER``), best first."""
    return (scores(region, period=period, on=on, metric=metric)
            .annotate(nickname=F("user__nickname"),
                      rank=Window(Rank(), order_by=F("score").desc()))
            .order_by("rank", "user_id"))


def ranking_page_recomputed(region: Region, *, period: Period, on: dt.date, metric: Metric,
                            cursor: int = 0, limit: int = 20) -> Page:
    """One page of the ranking recomputed from ``UserDay``: one grouped query (the rank is
    computed over the whole ranking, then the page is cut). The reference the rank tables are
    tested against; its cost grows with the residents of the region."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(ranked(region, period=period, on=on, metric=metric)[cursor:cursor + limit + 1])
    items = [Row(r["user_id"], r["nickname"] or "", int(r["score"]), int(r["rank"]))
             for r in rows[:limit]]
    return Page(items, cursor + limit if len(rows) > limit else None)


def my_rank_recomputed(user: Any, region: Region, *, period: Period, on: dt.date,
                       metric: Metric) -> tuple[int | None, int, int]:
    """(my rank or None, my score, how many are ranked) recomputed from ``UserDay``: my score,
    then one pass over the grouped ranking counting everyone and those strictly above me. The
    reference of :func:`my_rank_db`."""
    start, end = period_bounds(period, on)
    mine = (UserDay.objects.filter(subtree_q(region.path, "region"), user_id=user.pk,
                                   day__gte=start, day__lt=end)
            .aggregate(s=Sum(FIELD[metric]))["s"] or 0)
    counts = scores(region, period=period, on=on, metric=metric).aggregate(
        total=Count("user_id"), higher=Count("user_id", filter=Q(score__gt=mine)))
    if user.hide_from_rankings:  # off the ranking altogether, as on a Redis board
        return None, 0, counts["total"]
    if mine <= 0:
        return None, 0, counts["total"]
    return counts["higher"] + 1, int(mine), counts["total"]


# --- the rank tables (the database path) -----------------------------------------------------

def _higher_and_total(region: Region, *, period: Period, on: dt.date, metric: Metric,
                      score: int) -> tuple[int, int]:
    """(residents ranked strictly above ``score``, residents ranked) from the counts: the
    buckets above ``score``'s bucket, every bucket (the total) and the exact scores above
    ``score`` inside its bucket — three range scans of the counts' primary key in one query,
    reading at most 2 × (highest score / BUCKET) + BUCKET rows."""
    b = ranktables.bucket_of(score)
    table = connection.ops.quote_name(RankCount._meta.db_table)
    board = "metric = %s AND period = %s AND region_id = %s"
    key = [metric.value, period_key(period, on), region.pk]
    part = f"SELECT COALESCE(SUM(count), 0) FROM {table} WHERE {board} AND width = %s"  # noqa: S608 (our table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ({part} AND value > %s), ({part}), ({part} AND value > %s AND value < %s)",
            [*key, ranktables.BUCKET, b, *key, ranktables.BUCKET,
             *key, 1, score, (b + 1) * ranktables.BUCKET])
        above, total, within = cursor.fetchone()
    return int(above) + int(within), int(total)


def ranking_page_db(region: Region, *, period: Period, on: dt.date, metric: Metric,
                    cursor: int = 0, limit: int = 20) -> Page:
    """One page of the ranking from the rank tables: a range scan of the board's score index
    (one query), plus — past the first page — the rank of its first row from the counts. A
    row's rank is the position of the first of its tie. ``cursor`` is the offset of the page."""
    limit = max(1, min(limit, MAX_PAGE))
    field = metric.value
    rows = list(RankEntry.objects.filter(period=period_key(period, on), region=region,
                                         **{f"{field}__gt": 0})
                # Someone who opted out is never listed, even before their rows are taken out.
                .filter(user__hide_from_rankings=False)
                .order_by(f"-{field}", "user_id")
                .values_list("user_id", "user__nickname", field)[cursor:cursor + limit + 1])
    items: list[Row] = []
    for i, (uid, nickname, score) in enumerate(rows[:limit]):
        if items and items[-1].score == score:
            rank = items[-1].rank
        elif i == 0 and cursor > 0:
            rank = 1 + _higher_and_total(region, period=period, on=on, metric=metric,
                                         score=score)[0]
        else:
            rank = cursor + i + 1
        items.append(Row(uid, nickname or "", int(score), rank))
    return Page(items, cursor + limit if len(rows) > limit else None)


def my_rank_db(user: Any, region: Region, *, period: Period, on: dt.date,
               metric: Metric) -> tuple[int | None, int, int]:
    """(my rank or None, my score, how many are ranked) from the rank tables: my entry (by its
    key), then the counts above it — two index look-ups whatever the size of the region."""
    mine = (RankEntry.objects.filter(user_id=user.pk, period=period_key(period, on),
                                     region=region)
            .values_list(metric.value, flat=True).first() or 0)
    if user.hide_from_rankings or mine <= 0:
        mine = 0
    higher, total = _higher_and_total(region, period=period, on=on, metric=metric,
                                      score=mine)
    if mine <= 0:
        return None, 0, total
    return higher + 1, int(mine), total


# --- Redis boards --------------------------------------------------------------------------

BOARD_TTL = 400 * 24 * 3600  # old boards fade; a year board lives past its year's report season


def _redis() -> Any | None:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


# Members are encoded so that ZREVRANGE, which orders a tie by member in reverse byte order,
# lists a tie by ascending user id, exactly like the database.
_ID_SPACE = 10**15


def _member(user_id: int) -> str:
    return f"{_ID_SPACE - user_id:015d}"


def _user_id(member: bytes | str) -> int:
    return _ID_SPACE - int(member)


def board_key(metric: Metric, period: Period, on: dt.date, region_id: int) -> str:
    prefix = getattr(settings, "ACTIVITY_BOARD_PREFIX", "sportsman:board")
    return f"{prefix}:{metric}:{period_key(period, on)}:{region_id}"


def rebuild_boards(*, period: Period, on: dt.date, client: Any | None = None) -> int:
    """Rebuild every board (both metrics, every community, town, district and city) of the
    period from the rollups: one grouped query per metric, a new sorted set per region written
    under a temporary key and renamed over the old one (readers never see a half-built board).
    Returns the number of boards written; 0 without Redis. Run by the rankings job."""
    client = client or _redis()
    if client is None:
        return 0
    start, end = period_bounds(period, on)
    paths = dict(Region.objects.filter(level__in=[lv.value for lv in LEVELS])
                 .values_list("id", "path"))
    written = 0
    for metric in Metric:
        per_region: dict[int, dict[str, int]] = {}
        rows = (UserDay.objects.filter(day__gte=start, day__lt=end,
                                       user__hide_from_rankings=False, region__isnull=False)
                .values("user_id", "region_id").annotate(score=Sum(FIELD[metric]))
                .filter(score__gt=0))
        for r in rows:
            path = paths.get(r["region_id"])
            if path is None:
                continue
            for rid in (int(p) for p in path.strip("/").split("/")):
                if rid in paths:
                    board = per_region.setdefault(rid, {})
                    member = _member(r["user_id"])
                    board[member] = board.get(member, 0) + r["score"]
        pipe = client.pipeline(transaction=False)
        # Boards of regions that fell to zero must go too.
        for rid in paths:
            key = board_key(metric, period, on, rid)
            members = per_region.get(rid)
            if not members:
                pipe.delete(key)
                continue
            tmp = f"{key}:build"
            pipe.delete(tmp)
            items = list(members.items())
            for i in range(0, len(items), 5000):
                pipe.zadd(tmp, dict(items[i:i + 5000]))
            pipe.rename(tmp, key)
            pipe.expire(key, BOARD_TTL)
            written += 1
        pipe.execute()
    return written


def rebuild_current_boards(*, on: dt.date | None = None) -> int:
    """The rankings job: rebuild the boards of the current week, month and year (and of the
    previous ones during their first day, so late rollups of yesterday land). 0 without Redis.
    A ``bump`` racing a rebuild can be overwritten by it; the next rebuild repairs that."""
    from sportsman.activity.selectors import today

    if _redis() is None:
        return 0
    on = on or today()
    done = 0
    for period in Period:
        done += rebuild_boards(period=period, on=on)
        start, _end = period_bounds(period, on)
        if start == on:
            done += rebuild_boards(period=period, on=on - dt.timedelta(days=1))
    return done


def bump(*, user_id: int, region_id: int | None, day: dt.date, verified_minutes: int,
         verified_sessions: int, client: Any | None = None) -> None:
    """Add a change of one person's verified minutes/sessions on ``day`` (positive or negative
    deltas) to the boards of that day's week, month and year at the community and each region
    above it. Boards that do not exist yet are left alone (the rebuild makes them). Call after
    the rollup transaction commits; hidden residents are not added."""
    client = client or _redis()
    if client is None or region_id is None:
        return
    from sportsman.accounts.models import User

    if User.objects.filter(pk=user_id, hide_from_rankings=True).exists():
        return
    path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first()
    if path is None:
        return
    ids = [int(p) for p in path.strip("/").split("/")]
    pipe = client.pipeline(transaction=False)
    keys = [(board_key(metric, period, day, rid), delta)
            for metric, delta in ((Metric.MINUTES, verified_minutes),
                                  (Metric.SESSIONS, verified_sessions)) if delta
            for period in Period for rid in ids]
    for key, _delta in keys:
        pipe.exists(key)
    present = pipe.execute()
    pipe = client.pipeline(transaction=False)
    for (key, delta), exists in zip(keys, present, strict=True):
        if exists:
            pipe.zincrby(key, delta, _member(user_id))
            # A score falling to zero leaves the ranking, as in the database.
            pipe.zremrangebyscore(key, "-inf", 0)
    pipe.execute()


def forget(*, user_id: int, client: Any | None = None) -> None:
    """Take a resident out of the rank tables and every Redis board (they opted out of
    rankings, or their account went): called by the opt-out consumer."""
    resync(user_id=user_id)
    client = client or _redis()
    if client is None:
        return
    prefix = getattr(settings, "ACTIVITY_BOARD_PREFIX", "sportsman:board")
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.zrem(key, _member(user_id))


def resync(*, user_id: int) -> None:
    """Recompute a resident's rank-table entries from their rollups under their lock: none
    when they opted out or their account is gone, all of them when they opted back in. (The
    Redis boards take someone back in at the next rebuild.)"""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    with transaction.atomic():
        # The person's lock, as every rollup writer takes it first (a deleted account has none).
        list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))
        ranktables.sync_people([user_id])


def _board(region: Region, *, period: Period, on: dt.date, metric: Metric
           ) -> tuple[Any, str] | None:
    client = _redis()
    if client is None:
        return None
    key = board_key(metric, period, on, region.pk)
    try:
        if not client.exists(key):
            return None
    except RedisError:  # a Redis outage must not take rankings down: the database answers
        log.warning("rankings: Redis unavailable, answering from the database", exc_info=True)
        return None
    return client, key


def ranking_page_redis(client: Any, key: str, *, cursor: int = 0, limit: int = 20) -> Page:
    """One page from a board: ZREVRANGE for the page, then each member's competition rank as
    ZCOUNT of strictly higher scores + 1 (one pipeline), nicknames in one query."""
    from sportsman.accounts.models import User

    limit = max(1, min(limit, MAX_PAGE))
    raw = client.zrevrange(key, cursor, cursor + limit, withscores=True)
    pipe = client.pipeline(transaction=False)
    for _member, score in raw[:limit]:
        pipe.zcount(key, f"({score}", "+inf")
    higher = pipe.execute()
    ids = [_user_id(m) for m, _ in raw[:limit]]
    # Someone who opted out since the last rebuild (before ``forget`` ran) is never shown.
    names = dict(User.objects.filter(pk__in=ids, hide_from_rankings=False)
                 .values_list("pk", "nickname"))
    items = [Row(uid, names[uid] or "", int(score), n + 1)
             for uid, (_m, score), n in zip(ids, raw[:limit], higher, strict=True)
             if uid in names]
    return Page(items, cursor + limit if len(raw) > limit else None, source="redis")


def my_rank_redis(client: Any, key: str, user: Any) -> tuple[int | None, int, int]:
    pipe = client.pipeline(transaction=False)
    pipe.zscore(key, _member(user.pk))
    pipe.zcard(key)
    score, total = pipe.execute()
    if score is None or user.hide_from_rankings:
        return None, 0, int(total)
    return int(client.zcount(key, f"({score}", "+inf")) + 1, int(score), int(total)


def ranking_page(region: Region, *, period: Period, on: dt.date, metric: Metric,
                 cursor: int = 0, limit: int = 20) -> Page:
    """A page of the ranking: from the Redis board when there is one, else the database."""
    board = _board(region, period=period, on=on, metric=metric)
    if board is not None:
        try:
            return ranking_page_redis(*board, cursor=cursor, limit=limit)
        except RedisError:  # fall back, as above
            log.warning("rankings: Redis read failed", exc_info=True)
    return ranking_page_db(region, period=period, on=on, metric=metric, cursor=cursor,
                           limit=limit)


def my_rank(user: Any, region: Region, *, period: Period, on: dt.date,
            metric: Metric) -> tuple[int | None, int, int]:
    """(rank or None when unranked or opted out, score, number ranked)."""
    board = _board(region, period=period, on=on, metric=metric)
    if board is not None:
        try:
            return my_rank_redis(board[0], board[1], user)
        except RedisError:
            log.warning("rankings: Redis read failed", exc_info=True)
    return my_rank_db(user, region, period=period, on=on, metric=metric)


@dataclass
class LevelRank:
    level: RankLevel
    region_id: int
    region_name: str
    rank: int | None
    score: int
    participants: int


def my_ranks(user: Any, *, period: Period, on: dt.date,
             metric: Metric = Metric.MINUTES) -> list[LevelRank]:
    """My rank at each level (community up to city). Empty without a home community; ranks
    are None for a resident who opted out."""
    out = []
    for level, region in sorted(my_regions(user).items(), key=lambda kv: LEVELS.index(kv[0])):
        rank, score, total = my_rank(user, region, period=period, on=on, metric=metric)
        out.append(LevelRank(level, region.pk, region.name, rank, score, total))
    return out


def fitness_stars(region: Region, *, year: int, top: int | None = 10,
                  percent: float | None = None) -> list[Row]:
    """Yearly fitness stars (健身达人) of a region: residents ranked within the top ``top``
    ranks, or within the top ``percent`` % of those ranked (at least one rank), by verified
    minutes over the year. Ties at the cut-off are all stars. From the rank tables: pages of
    the year's board until the cut (one query for a top 10; one more with percent)."""
    on = dt.date(year, 1, 1)
    if percent is not None:
        _higher, total = _higher_and_total(region, period=Period.YEAR, on=on,
                                           metric=Metric.MINUTES, score=0)
        cut = max(1, math.ceil(total * percent / 100))
    else:
        cut = max(1, top or 1)
    out: list[Row] = []
    cursor: int | None = 0
    while cursor is not None:
        page = ranking_page_db(region, period=Period.YEAR, on=on, metric=Metric.MINUTES,
                               cursor=cursor, limit=MAX_PAGE)
        for row in page.items:
            if row.rank > cut:
                return out
            out.append(row)
        cursor = page.next_cursor
    return out


def level_label(level: RankLevel) -> str:
    return str(Level(level.value).label)
