"""Importing recordings from watches, bike computers and phones: GPX, TCX and FIT files.

A file is recognised by its content, never its name: FIT by the ``.FIT`` signature of its header,
GPX and TCX by their XML root element. XML is parsed with ``defusedxml`` (no DTDs, no entities:
no billion laughs, no external fetches) before gpxpy sees it; FIT with ``fitdecode`` (pure Python,
CRC checked). Each track (GPX), activity (TCX) or session (FIT) with timed points is one session:

- start and end: the first and last timed point; **duration is elapsed time** (pauses included),
  the same in all three formats;
- distance: the haversine sum over consecutive positions of the track (segments are not bridged),
  so the three formats of one ride agree; the file's own total when it has no positions;
- elevation gain: climbs counted with a 2 m hysteresis (GPS altitude noise is not a climb);
- heart rate: mean and maximum of the samples.

Refusals, before anything is written: ``recording_empty`` (no bytes, or no timed point),
``recording_too_large`` (over ``MAX_BYTES`` or ``MAX_POINTS``), ``recording_type`` (neither
FIT, GPX nor TCX), ``recording_corrupt`` (cannot be read).

:func:`import_recording` records the sessions as ``source="file"``, keyed by the file's SHA-256
and the session's index (importing the same file again changes nothing), unverified
(self-reported: never ranked or rewarded) and flagged when implausible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import fitdecode
import gpxpy
import gpxpy.gpx
from defusedxml import DefusedXmlException
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from sportsman.activity.models import ActivityRecord, Source
from sportsman.activity.records import record_session
from sportsman.core.errors import DomainError, NotFound
from sportsman.core.models import Sport

MAX_BYTES = 20 * 1024 * 1024
MAX_POINTS = 200_000
CLIMB_HYSTERESIS_M = 2.0
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
SEMICIRCLE = 180 / 2**31

# Sport names the formats use → the catalogue's slugs.
SPORTS = {
    "cycling": "cycling", "biking": "cycling", "bike": "cycling", "ride": "cycling",
    "road_biking": "cycling", "mountain_biking": "cycling", "e_biking": "cycling",
    "running": "running", "run": "running", "trail_running": "running",
    "walking": "walking", "walk": "walking", "hiking": "hiking", "hike": "hiking",
    "swimming": "swimming", "swim": "swimming",
}


class RecordingError(DomainError):
    status = 400


def _refuse(code: str) -> RecordingError:
    messages = {
        "recording_empty": _("The file holds no timed track."),
        "recording_too_large": _("The file is too large (at most 20 MB and 200,000 points)."),
        "recording_type": _("This is not a GPX, TCX or FIT recording."),
        "recording_corrupt": _("The recording cannot be read: the file is damaged."),
    }
    return RecordingError(messages[code], code=code, fields={"file": messages[code]})


@dataclass
class Point:
    at: dt.datetime | None
    lat: float | None = None
    lng: float | None = None
    alt: float | None = None
    hr: int | None = None
    dist: float | None = None  # the device's cumulative distance, metres


@dataclass
class Session:
    sport: str | None
    started_at: dt.datetime
    ended_at: dt.datetime
    points: int
    distance_m: float | None
    elevation_gain_m: float | None
    avg_heart_rate: int | None
    max_heart_rate: int | None
    segments: list[list[Point]] = field(default_factory=list, repr=False)

    @property
    def duration_seconds(self) -> float:
        """Elapsed time, first to last timed point (pauses included)."""
        return (self.ended_at - self.started_at).total_seconds()


def haversine_m(a: Point, b: Point) -> float:
    assert a.lat is not None and a.lng is not None and b.lat is not None and b.lng is not None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _session(sport: str | None, segments: list[list[Point]],
             file_distance: float | None = None) -> Session | None:
    timed = [p for seg in segments for p in seg if p.at is not None]
    if not timed:
        return None
    distance = 0.0
    has_positions = False
    for seg in segments:
        placed = [p for p in seg if p.lat is not None and p.lng is not None]
        for a, b in itertools.pairwise(placed):
            distance += haversine_m(a, b)
            has_positions = True
    if not has_positions:
        cumulative = [p.dist for p in timed if p.dist is not None]
        distance = max(cumulative) if cumulative else (file_distance or 0.0)
    gain = None
    alts = [p.alt for seg in segments for p in seg if p.alt is not None]
    if alts:
        gain, anchor = 0.0, alts[0]
        for alt in alts[1:]:
            if alt - anchor >= CLIMB_HYSTERESIS_M:
                gain += alt - anchor
                anchor = alt
            elif anchor - alt >= CLIMB_HYSTERESIS_M:
                anchor = alt
    rates = [p.hr for seg in segments for p in seg if p.hr]
    times = [p.at for p in timed if p.at is not None]
    return Session(sport=SPORTS.get((sport or "").strip().lower()),
                   started_at=min(times), ended_at=max(times),
                   points=sum(len(seg) for seg in segments),
                   distance_m=distance if (has_positions or distance) else None,
                   elevation_gain_m=gain,
                   avg_heart_rate=round(sum(rates) / len(rates)) if rates else None,
                   max_heart_rate=max(rates) if rates else None, segments=segments)


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


# --- sniffing --------------------------------------------------------------------------------

def sniff(data: bytes) -> str:
    """"fit", "gpx" or "tcx" from the content; refuses anything else."""
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        lowered = head.lower()
        if b"<gpx" in lowered:
            return "gpx"
        if b"<trainingcenterdatabase" in lowered:
            return "tcx"
    raise _refuse("recording_type")


def _safe_xml(data: bytes) -> Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise _refuse("recording_corrupt") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- GPX -------------------------------------------------------------------------------------

def _gpx_hr(point: gpxpy.gpx.GPXTrackPoint) -> int | None:
    for ext in point.extensions:
        for el in ext.iter():
            if _local(el.tag) == "hr" and el.text:
                try:
                    return int(float(el.text))
                except ValueError:
                    return None
    return None


def parse_gpx(data: bytes) -> list[Session]:
    _safe_xml(data)  # refuses DTDs and entities before gpxpy parses it
    try:
        doc = gpxpy.parse(io.StringIO(data.decode("utf-8-sig")))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        raise _refuse("recording_corrupt") from exc
    sessions = []
    for track in doc.tracks:
        segments = [[Point(_aware(p.time), p.latitude, p.longitude, p.elevation, _gpx_hr(p))
                     for p in seg.points] for seg in track.segments]
        s = _session(track.type, segments)
        if s:
            sessions.append(s)
    return sessions


# --- TCX -------------------------------------------------------------------------------------

def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el: Element | None, *path: str) -> str | None:
    for name in path:
        if el is None:
            return None
        el = _child(el, name)
    return el.text.strip() if el is not None and el.text else None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError as exc:
        raise _refuse("recording_corrupt") from exc


def parse_tcx(data: bytes) -> list[Session]:
    root = _safe_xml(data)
    sessions = []
    for activity in root.iter():
        if _local(activity.tag) != "Activity":
            continue
        segments: list[list[Point]] = []
        lap_distance = 0.0
        for lap in activity:
            if _local(lap.tag) != "Lap":
                continue
            lap_distance += _float(_text(lap, "DistanceMeters")) or 0.0
            for track in lap:
                if _local(track.tag) != "Track":
                    continue
                seg = []
                for tp in track:
                    if _local(tp.tag) != "Trackpoint":
                        continue
                    when = _text(tp, "Time")
                    try:
                        at = _aware(dt.datetime.fromisoformat(when)) if when else None
                    except ValueError as exc:
                        raise _refuse("recording_corrupt") from exc
                    hr = _float(_text(tp, "HeartRateBpm", "Value"))
                    seg.append(Point(at, _float(_text(tp, "Position", "LatitudeDegrees")),
                                     _float(_text(tp, "Position", "LongitudeDegrees")),
                                     _float(_text(tp, "AltitudeMeters")),
                                     int(hr) if hr else None,
                                     _float(_text(tp, "DistanceMeters"))))
                segments.append(seg)
        s = _session(activity.get("Sport"), segments, lap_distance or None)
        if s:
            sessions.append(s)
    return sessions


# --- FIT -------------------------------------------------------------------------------------

def parse_fit(data: bytes) -> list[Session]:
    points: list[Point] = []
    sport: str | None = None
    total_distance: float | None = None
    try:
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.ENABLED) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "record":
                    values = {f.name: f.value for f in frame.fields}
                    lat, lng = values.get("position_lat"), values.get("position_long")
                    alt = values.get("enhanced_altitude", values.get("altitude"))
                    points.append(Point(
                        _aware(values.get("timestamp")),
                        lat * SEMICIRCLE if isinstance(lat, int) else None,
                        lng * SEMICIRCLE if isinstance(lng, int) else None,
                        float(alt) if isinstance(alt, int | float) else None,
                        values.get("heart_rate") or None,
                        values.get("distance")))
                    if len(points) > MAX_POINTS:
                        raise _refuse("recording_too_large")
                elif frame.name in ("sport", "session"):
                    values = {f.name: f.value for f in frame.fields}
                    if isinstance(values.get("sport"), str):
                        sport = values["sport"]
                    if frame.name == "session" and values.get("total_distance"):
                        total_distance = float(values["total_distance"])
    except fitdecode.FitError as exc:
        raise _refuse("recording_corrupt") from exc
    s = _session(sport, [points], total_distance)
    return [s] if s else []


PARSERS = {"gpx": parse_gpx, "tcx": parse_tcx, "fit": parse_fit}


def parse_recording(data: bytes) -> list[Session]:
    """The sessions of a recording file, or a refusal (see the module docstring)."""
    if not data:
        raise _refuse("recording_empty")
    if len(data) > MAX_BYTES:
        raise _refuse("recording_too_large")
    sessions = PARSERS[sniff(data)](data)
    if sum(s.points for s in sessions) > MAX_POINTS:
        raise _refuse("recording_too_large")
    if not sessions:
        raise _refuse("recording_empty")
    return sessions


def import_recording(*, actor: Any, filename: str, data: bytes) -> list[ActivityRecord]:
    """The actor imports a recording of their own exercise: one unverified record per session
    (self-reported: shown in my data, never ranked or rewarded), flagged when implausible.
    Importing the same bytes again returns the same records and changes nothing. The file is
    judged by its content (``filename`` is only for the caller's messages); a refused file
    writes nothing. Side effects: overlap merge and rollups of each record."""
    if not actor or not actor.is_authenticated:
        raise NotFound()
    sessions = parse_recording(data)
    digest = hashlib.sha256(data).hexdigest()
    slugs = {s.sport for s in sessions if s.sport}
    sport_ids = dict(Sport.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    made = []
    with transaction.atomic():
        for index, s in enumerate(sessions):
            made.append(record_session(
                user_id=actor.pk, source=Source.FILE, source_key=f"file:{digest}:{index}",
                sport_id=sport_ids.get(s.sport or ""), started_at=s.started_at,
                ended_at=s.ended_at,
                distance_m=round(s.distance_m) if s.distance_m is not None else None,
                elevation_gain_m=round(s.elevation_gain_m)
                if s.elevation_gain_m is not None else None,
                avg_heart_rate=s.avg_heart_rate, max_heart_rate=s.max_heart_rate,
                verified=False))
    return made


def iter_points(session: Session) -> Iterable[Point]:
    for seg in session.segments:
        yield from seg
