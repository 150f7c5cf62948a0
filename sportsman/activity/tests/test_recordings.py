"""Importing recordings: real GPX, TCX and FIT files of one ride agree with each other and with
GPSBabel; bad files (empty, corrupt, wrong type, huge) are refused with nothing written."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sportsman.activity import recordings
from sportsman.activity.models import ActivityRecord, Source, UserDay
from sportsman.activity.records import FLAG_TOO_FAST
from sportsman.core.errors import DomainError

FIXTURES = Path(__file__).parent / "fixtures"
RIDE = {"gpx": "activity_4078723797.gpx.gz", "tcx": "activity_4078723797.tcx.gz",
        "fit": "4078723797.fit.gz"}
SHORT = {"gpx": "activity_5039744860.gpx", "tcx": "activity_5039744860.tcx",
         "fit": "2020-06-01-16-52-40.fit"}
GPSBABEL_FORMAT = {"gpx": "gpx", "tcx": "gtrnctr", "fit": "garmin_fit"}

# Reference figures from GPSBabel 1.8.0 (Debian's gpsbabel), obtained with
#   gpsbabel -t -i <gpx|gtrnctr|garmin_fit> -f <file> -o garmin_txt,dist=m -F -
# on the uncompressed files: its "Track" line gives start, elapsed time and length, and it lists
# one "Trackpoint" line per point. The same for all three formats of each ride.
RIDE_GPSBABEL = {"start": dt.datetime(2019, 9, 20, 14, 10, 3, tzinfo=dt.UTC),
                 "elapsed_s": 2 * 3600 + 19 * 60 + 16, "length_m": 57_600, "points": 8_357}
SHORT_GPSBABEL = {"start": dt.datetime(2020, 6, 1, 14, 52, 40, tzinfo=dt.UTC),
                  "elapsed_s": 126, "length_m": 900}
CERKNICA_GPSBABEL_M = [1900, 874, 30, 1400, 32, 29, 347]  # per track (km figures to 0.1 km)


def read(name: str) -> bytes:
    data = (FIXTURES / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


@pytest.fixture(scope="module")
def ride():
    return {kind: recordings.parse_recording(read(name)) for kind, name in RIDE.items()}


def test_content_decides_the_type_not_the_name():
    assert recordings.sniff(read(RIDE["fit"])) == "fit"
    assert recordings.sniff(read(SHORT["gpx"])) == "gpx"
    assert recordings.sniff(read(SHORT["tcx"])) == "tcx"


@pytest.mark.parametrize("kind", ["gpx", "tcx", "fit"])
def test_the_ride_in_each_format_matches_gpsbabel(ride, kind):
    [s] = ride[kind]
    assert s.sport == "cycling"
    assert s.points == RIDE_GPSBABEL["points"]
    assert s.started_at == RIDE_GPSBABEL["start"]
    # Elapsed time: gpsbabel's 2:19:16 is rounded to the second, as ours is whole seconds.
    assert abs(s.duration_seconds - RIDE_GPSBABEL["elapsed_s"]) <= 1
    assert s.distance_m == pytest.approx(RIDE_GPSBABEL["length_m"], rel=0.01)
    assert (s.avg_heart_rate, s.max_heart_rate) == (165, 190)  # the FIT session's own figures
    assert 1_000 < s.elevation_gain_m < 1_400  # the FIT session's total_ascent is 1,254 m


def test_the_three_formats_of_the_ride_agree_within_one_percent(ride):
    distances = [ride[k][0].distance_m for k in ("gpx", "tcx", "fit")]
    assert max(distances) <= min(distances) * 1.01
    assert len({ride[k][0].started_at for k in ride}) == 1


@pytest.mark.parametrize("kind", ["gpx", "tcx", "fit"])
def test_the_short_ride_matches_gpsbabel(kind):
    [s] = recordings.parse_recording(read(SHORT[kind]))
    assert s.started_at == SHORT_GPSBABEL["start"]
    assert s.duration_seconds == SHORT_GPSBABEL["elapsed_s"]
    assert s.distance_m == pytest.approx(SHORT_GPSBABEL["length_m"], rel=0.01)


def test_each_timed_track_of_a_gpx_is_a_session():
    sessions = recordings.parse_recording(read("cerknicko-jezero.gpx"))
    assert len(sessions) == len(CERKNICA_GPSBABEL_M)
    for s, reference in zip(sessions, CERKNICA_GPSBABEL_M, strict=True):
        # gpsbabel prints lengths over 1 km to 0.1 km: allow that rounding, else 1 %.
        assert s.distance_m == pytest.approx(reference, rel=0.01, abs=50 if reference > 1000
                                             else 1)


def _gpsbabel_tracks(kind: str, path: Path) -> list[tuple[str, float]]:
    out = subprocess.run(
        ["gpsbabel", "-t", "-i", GPSBABEL_FORMAT[kind], "-f", str(path), "-o",
         "garmin_txt,dist=m", "-F", "-"], capture_output=True, check=True, timeout=120).stdout
    tracks = []
    for line in out.decode("utf-8", "replace").splitlines():
        cols = line.split("\t")
        if cols[0] == "Track" and len(cols) > 4:
            number, unit = re.match(r"([\d.]+) (km|m)", cols[4]).groups()  # type: ignore[union-attr]
            tracks.append((cols[3], float(number) * (1000 if unit == "km" else 1)))
    return tracks


@pytest.mark.skipif(shutil.which("gpsbabel") is None, reason="gpsbabel is not installed")
@pytest.mark.parametrize("kind", ["gpx", "tcx", "fit"])
def test_the_ride_matches_gpsbabel_run_now(ride, kind, tmp_path):
    path = tmp_path / f"ride.{kind}"
    path.write_bytes(read(RIDE[kind]))
    [(elapsed, length)] = _gpsbabel_tracks(kind, path)
    assert elapsed == "2:19:16"
    assert ride[kind][0].distance_m == pytest.approx(length, rel=0.01)


# --- importing -------------------------------------------------------------------------------


def test_importing_the_ride_records_one_unverified_session(tree):
    [record] = recordings.import_recording(actor=tree.resident, filename="ride.fit",
                                           data=read(RIDE["fit"]))
    assert record.source == Source.FILE and record.source_key.startswith("file:")
    assert not record.is_verified and record.flags == []
    assert record.sport.slug == "cycling"
    assert record.duration_minutes == 139 and record.counted_minutes == 139
    assert record.distance_m == pytest.approx(57_600, rel=0.01)
    assert record.region_id == tree.k1.pk
    day = UserDay.objects.get()
    assert (day.minutes, day.verified_minutes) == (139, 0)


def test_importing_the_same_file_again_changes_nothing(tree):
    first = recordings.import_recording(actor=tree.resident, filename="a.gpx",
                                        data=read(SHORT["gpx"]))
    again = recordings.import_recording(actor=tree.resident, filename="b.gpx",
                                        data=read(SHORT["gpx"]))
    assert [r.pk for r in again] == [r.pk for r in first]
    assert ActivityRecord.objects.count() == 1 and UserDay.objects.get().sessions == 1


def test_the_same_ride_in_another_format_is_not_counted_twice(tree):
    recordings.import_recording(actor=tree.resident, filename="a.gpx", data=read(SHORT["gpx"]))
    recordings.import_recording(actor=tree.resident, filename="a.tcx", data=read(SHORT["tcx"]))
    # Two sessions, the same two minutes: one of them claims them (by the fixed claim order).
    assert sorted(ActivityRecord.objects.values_list("counted_minutes", flat=True)) == [0, 2]
    day = UserDay.objects.get()
    assert (day.minutes, day.sessions) == (2, 2)


def test_an_implausibly_fast_walk_is_flagged(tree):
    # The ride (25 km/h average) presented as a walk.
    data = read(SHORT["gpx"]).replace(b"<type>cycling</type>", b"<type>walking</type>")
    [record] = recordings.import_recording(actor=tree.resident, filename="walk.gpx", data=data)
    assert FLAG_TOO_FAST in record.flags


def _corrupt_fit() -> bytes:
    data = bytearray(read(SHORT["fit"]))
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the CRC no longer matches
    return bytes(data)


BAD_FILES = [
    ("empty", b"", "recording_empty"),
    ("whitespace", b"   \n", "recording_type"),
    ("png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "recording_type"),
    ("csv named gpx", b"lat,lng\n30.7,120.7\n", "recording_type"),
    ("html", b"<html><body>not a track</body></html>", "recording_type"),
    ("truncated gpx", b"<?xml version='1.0'?><gpx version='1.1'><trk><trkseg><trkpt lat=",
     "recording_corrupt"),
    ("truncated fit", b"", "recording_corrupt"),
    ("flipped fit", b"", "recording_corrupt"),
    ("billion laughs", b"<?xml version='1.0'?><!DOCTYPE gpx [<!ENTITY a 'aaaaaaaaaa'>"
     b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]><gpx version='1.1'>&b;</gpx>",
     "recording_corrupt"),
    ("gpx without tracks", b"<?xml version='1.0'?><gpx version='1.1' "
     b"xmlns='http://www.topografix.com/GPX/1/1'><wpt lat='30.7' lon='120.7'/></gpx>",
     "recording_empty"),
    ("huge", b"<gpx" + b" " * (recordings.MAX_BYTES + 1), "recording_too_large"),
]


@pytest.mark.parametrize(("name", "data", "code"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_nothing_is_written(tree, name, data, code):
    if name == "truncated fit":
        data = read(SHORT["fit"])[:2000]
    elif name == "flipped fit":
        data = _corrupt_fit()
    with pytest.raises(DomainError) as err:
        recordings.import_recording(actor=tree.resident, filename="x.gpx", data=data)
    assert err.value.code == code
    assert err.value.as_dict()["message"]
    assert not ActivityRecord.objects.exists() and not UserDay.objects.exists()


def test_a_gpx_without_times_is_empty():
    untimed = re.sub(rb"<time>[^<]*</time>", b"", read("cerknicko-jezero.gpx"))
    with pytest.raises(DomainError) as err:
        recordings.parse_recording(untimed)
    assert err.value.code == "recording_empty"


def test_too_many_points_are_refused(monkeypatch):
    monkeypatch.setattr(recordings, "MAX_POINTS", 1_000)
    for kind in ("gpx", "fit"):
        with pytest.raises(DomainError) as err:
            recordings.parse_recording(read(RIDE[kind]))
        assert err.value.code == "recording_too_large"


def test_a_file_whose_second_session_fails_writes_nothing(tree, monkeypatch):
    calls = []
    real = recordings.record_session

    def failing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise DomainError(code="boom")
        return real(**kwargs)

    monkeypatch.setattr(recordings, "record_session", failing)
    with pytest.raises(DomainError):
        recordings.import_recording(actor=tree.resident, filename="c.gpx",
                                    data=read("cerknicko-jezero.gpx"))
    assert not ActivityRecord.objects.exists() and not UserDay.objects.exists()
