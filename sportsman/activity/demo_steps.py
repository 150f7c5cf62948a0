"""Demo data for the exercise record: the year of facility visits (step 40) recorded as activity
records through the backfill path, in bulk, with their daily rollups — together with the sessions
earlier steps witnessed and left in ``city.made["sessions"]`` (group activities, step 45), so the
people concerned are rolled up once; and for the demo resident
(13800000000) a few sessions entered by hand and two imported recordings, so "my data" shows
every source.

The visits add up to the city's published year (11,743,937 minutes of visits); a person's
overlapping visits are counted once, so the records' counted minutes are slightly fewer (the
step leaves both figures in ``city.made``). Everything is drawn from ``city.rng("activity")``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import DemoCity, demo_step

DEMO_RESIDENT_PHONE = "13800000000"


@demo_step("activity", order=50)
def step_activity(city: DemoCity) -> None:
    import itertools

    from sportsman.activity.consumers import session_from_visit
    from sportsman.activity.records import record_sessions_in_bulk
    from sportsman.facilities.selectors import completed_visits

    witnessed = city.made.get("sessions", [])
    with city.bar(city.made.get("visits", 0) + len(witnessed), "activity records") as bar:
        result = record_sessions_in_bulk(itertools.chain(
            (session_from_visit(v) for v in completed_visits()), witnessed))
        bar.update(result["recorded"])
    city.made["activity_records"] = result["recorded"]
    _demo_resident(city)


def _demo_resident(city: DemoCity) -> None:
    """Manual entries and imported recordings of the demo resident, in the last weeks."""
    from django.db.models import Sum

    from sportsman.accounts.models import User
    from sportsman.activity import recordings, records
    from sportsman.activity.models import ActivityRecord
    from sportsman.core.models import Sport

    resident = User.objects.filter(phone_hash=_phone_hash(DEMO_RESIDENT_PHONE)).first()
    if resident is None:
        return
    rng = city.rng("activity")
    today = timezone.localdate()
    sports = dict(Sport.objects.filter(slug__in=["walking", "taichi", "rope-skipping"])
                  .values_list("slug", "pk"))
    for days_ago, hour, minutes, slug, note in [(2, 6, 40, "walking", "南湖边晨走"),
                                                (5, 19, 30, "rope-skipping", "楼下跳绳"),
                                                (9, 7, 45, "taichi", "公园太极")]:
        start = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour,
                                    rng.choice((0, 10, 20))), tzinfo=_tz())
        records.add_manual_session(actor=resident, sport_id=sports.get(slug), started_at=start,
                                   duration_minutes=minutes, note=note)
    for days_ago, kind, km in [(3, "running", 6.4), (12, "cycling", 21.0)]:
        start = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(18, 30),
                                    tzinfo=_tz())
        recordings.import_recording(actor=resident, filename=f"{kind}.gpx",
                                    data=loop_gpx(start=start, kind=kind, km=km, rng=rng))
    city.made["activity_counted_minutes"] = (ActivityRecord.objects
                                             .aggregate(n=Sum("counted_minutes"))["n"] or 0)


def _phone_hash(phone: str) -> str:
    from sportsman.core import crypto

    return crypto.keyed_hash(phone)


def _tz() -> Any:
    from sportsman.activity.rollups import LOCAL_TZ

    return LOCAL_TZ


# Around 南湖 (Jiaxing): the demo resident's loop.
LOOP_CENTRE = (30.7530, 120.7640)
SPEED_KMH = {"running": 9.5, "cycling": 18.0, "walking": 5.0}


def loop_gpx(*, start: dt.datetime, kind: str, km: float, rng: Any) -> bytes:
    """A GPX 1.1 track of ``km`` km round a loop by the lake, one point every 5 seconds at the
    sport's pace (with a little GPS jitter), as a phone would record it."""
    speed = SPEED_KMH.get(kind, 6.0) / 3.6  # m/s
    seconds = int(km * 1000 / speed)
    laps = max(1, round(km / 3.2))
    radius_m = km * 1000 / laps / (2 * math.pi)
    lat0, lng0 = LOOP_CENTRE
    points = []
    for t in range(0, seconds + 1, 5):
        angle = 2 * math.pi * laps * t / seconds
        north = radius_m * math.sin(angle) + rng.gauss(0, 1.5)
        east = radius_m * math.cos(angle) + rng.gauss(0, 1.5)
        lat = lat0 + north / 111_320
        lng = lng0 + east / (111_320 * math.cos(math.radians(lat0)))
        at = (start + dt.timedelta(seconds=t)).astimezone(dt.UTC)
        points.append(f'<trkpt lat="{lat:.6f}" lon="{lng:.6f}"><ele>{4 + 2 * math.sin(angle):.1f}'
                      f'</ele><time>{at:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Sportsman demo" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>南湖</name>'
            f'<type>{kind}</type><trkseg>{"".join(points)}</trkseg></trk></gpx>').encode()
