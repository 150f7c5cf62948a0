"""Watching teaching videos: the public list (sport, level, pages), the video page, the file
served with range requests, the once-a-day view count, the instructor's edits and staff
take-downs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.core.models import Sport
from sportsman.instructors.models import TeachingVideo
from sportsman.instructors.tests.fixtures_videos import clip, instructor, video

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _file(client, v, **headers):
    return client.get(f"/instructors/videos/{v.pk}/file", **headers)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_whole_file_says_it_accepts_ranges(tree, client):
    content = clip()
    v = video(tree, content=content)
    response = _file(client, v)
    assert response.status_code == 200 and response.streaming
    assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(content)) and _body(response) == content


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-0", 0, 0), ("bytes=100-1099", 100, 1099), ("bytes=1000-", 1000, None),
    ("bytes=-500", -500, None), ("bytes=10-99999999", 10, None), ("bytes=-99999999", 0, None),
])
def test_a_range_is_206_with_exactly_those_bytes(tree, client, header, first, last):
    content = clip()
    size = len(content)
    v = video(tree, content=content)
    response = _file(client, v, HTTP_RANGE=header)
    start = first if first >= 0 else size + first
    end = size - 1 if last is None else last
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)
    assert _body(response) == content[start:end + 1]


def test_an_open_ended_range_is_answered_a_part_at_a_time(tree, client, settings):
    settings.VIDEO_RANGE_BYTES = 64 * 1024
    content = clip("mp4", 20.0) * 4
    v = video(tree, content=content)
    first = _file(client, v, HTTP_RANGE="bytes=1000-")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 1000-{1000 + 65535}/{len(content)}"
    assert _body(first) == content[1000:1000 + 65536]
    explicit = _file(client, v, HTTP_RANGE=f"bytes=0-{len(content) - 1}")
    assert len(_body(explicit)) == len(content)  # an explicit range is served as asked


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{big}", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_with_the_size(tree, client, header):
    content = clip()
    v = video(tree, content=content)
    size = len(content)
    response = _file(client, v, HTTP_RANGE=header.format(size=size, big=size + 10))
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-10,20-30", "items=0-10", "bytes=20-10"])
def test_ranges_we_do_not_serve_get_the_whole_file(tree, client, header):
    content = clip()
    v = video(tree, content=content)
    response = _file(client, v, HTTP_RANGE=header)
    assert response.status_code == 200 and _body(response) == content


def test_if_range_of_another_version_gets_the_whole_file(tree, client):
    v = video(tree)
    stale = _file(client, v, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert stale.status_code == 200
    etag = _file(client, v)["ETag"]
    assert _file(client, v, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206


def test_a_taken_down_video_is_served_to_its_instructor_and_staff_only(tree, client):
    v = video(tree, status="taken_down")
    assert _file(client, v).status_code == 404
    assert client.get(f"/instructors/videos/{v.pk}/").status_code == 404
    client.force_login(v.instructor.user)
    assert _file(client, v, HTTP_RANGE="bytes=0-9").status_code == 206
    client.force_login(tree.sibling_town_admin)
    assert _file(client, v).status_code == 404
    client.force_login(tree.town_admin)
    assert _file(client, v).status_code == 200


def test_the_page_has_the_player_poster_and_the_ranged_source(tree, client):
    v = video(tree, poster="instructors/posters/none.jpg")
    page = client.get(f"/instructors/videos/{v.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-video="{v.pk}"' in html and "<video" in html
    assert f'src="/instructors/videos/{v.pk}/file"' in html
    assert f'poster="/instructors/videos/{v.pk}/poster.jpg"' in html


def test_a_view_counts_once_per_viewer_per_local_day(tree, client):
    v = video(tree)
    url = f"/instructors/videos/{v.pk}/"
    # 23:50 in Shanghai is 15:50 UTC: the next local day starts 10 minutes later
    with time_machine.travel(dt.datetime(2027, 3, 1, 23, 50, tzinfo=SHANGHAI), tick=False) as t:
        client.force_login(tree.resident)
        client.get(url)
        client.get(url)
        assert TeachingVideo.objects.get(pk=v.pk).views == 1
        client.force_login(tree.town_admin)
        client.get(url)
        assert TeachingVideo.objects.get(pk=v.pk).views == 2
        client.logout()
        client.get(url, HTTP_USER_AGENT="phone")
        client.get(url, HTTP_USER_AGENT="phone")
        assert TeachingVideo.objects.get(pk=v.pk).views == 3
        t.move_to(dt.datetime(2027, 3, 2, 0, 5, tzinfo=SHANGHAI))
        client.force_login(tree.resident)
        client.get(url)
        assert TeachingVideo.objects.get(pk=v.pk).views == 4
    page = client.get(url)  # another day again (the session's clock): counted, and shown
    assert 'data-views="5"' in page.content.decode()


def test_an_app_reports_a_play_once_a_day(tree, api_client):
    v = video(tree)
    first = api_client.post(f"/api/v1/videos/{v.pk}/views")
    second = api_client.post(f"/api/v1/videos/{v.pk}/views")
    assert first.json() == {"counted": True, "views": 1}
    assert second.json() == {"counted": False, "views": 1}


def test_the_list_filters_by_sport_and_level_and_pages(tree, api_client):
    taichi, dance = Sport.objects.get(slug="taichi"), Sport.objects.get(slug="aerobics")
    owner = instructor(tree)
    made = [video(tree, owner, sport=taichi, level="beginner") for _ in range(3)]
    other = video(tree, owner, sport=dance, level="advanced")
    video(tree, owner, sport=taichi, status="unpublished")
    video(tree, owner, sport=taichi, status="taken_down")
    listed = api_client.get("/api/v1/videos?sport=taichi&level=beginner&limit=2").json()
    assert [r["id"] for r in listed["items"]] == [made[2].pk, made[1].pk]
    rest = api_client.get(f"/api/v1/videos?sport=taichi&limit=2&before={listed['next_before']}")
    assert [r["id"] for r in rest.json()["items"]] == [made[0].pk]
    assert rest.json()["next_before"] is None
    everything = api_client.get("/api/v1/videos").json()["items"]
    assert {r["id"] for r in everything} == {*(m.pk for m in made), other.pk}
    assert everything[0]["file_url"] == f"/instructors/videos/{other.pk}/file"
    page = api_client.get("/instructors/videos/?level=advanced").content.decode()
    assert f'data-video="{other.pk}"' in page and f'data-video="{made[0].pk}"' not in page


def test_the_list_costs_the_same_queries_for_many_videos(tree, api_client):
    owner = instructor(tree)
    video(tree, owner, sport=Sport.objects.get(slug="taichi"))
    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/v1/videos")
    for _ in range(8):
        video(tree, instructor(tree), sport=Sport.objects.get(slug="yoga"))
    with CaptureQueriesContext(connection) as many:
        assert len(api_client.get("/api/v1/videos").json()["items"]) == 9
    assert len(many) == len(few)


def test_the_instructor_edits_unpublishes_and_publishes_again(tree, api_client):
    v = video(tree)
    mine = api_client.as_user(v.instructor.user)
    edited = mine.json("patch", f"/api/v1/videos/{v.pk}",
                       {"title": "二十四式太极拳", "sport": "taichi", "level": "advanced",
                        "published": False})
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["sport"], edited.json()["status"]) == (
        "二十四式太极拳", "taichi", "unpublished")
    assert api_client.get(f"/api/v1/videos/{v.pk}").status_code == 404
    assert [r["id"] for r in mine.get("/api/v1/videos/mine").json()["items"]] == [v.pk]
    assert mine.json("patch", f"/api/v1/videos/{v.pk}", {"published": True}).json()[
        "status"] == "published"
    stranger = api_client.as_user(instructor(tree, name="李指导员").user)
    assert stranger.json("patch", f"/api/v1/videos/{v.pk}", {"title": "x"}).status_code == 404


def test_staff_take_down_and_the_instructor_cannot_publish_it_again(tree, api_client):
    v = video(tree)
    staff = api_client.as_user(tree.town_admin)
    answer = staff.json("post", f"/api/v1/console/videos/{v.pk}/take-down", {"reason": "广告"})
    assert answer.status_code == 200
    assert api_client.get("/api/v1/videos").json()["items"] == []
    again = api_client.as_user(v.instructor.user).json("patch", f"/api/v1/videos/{v.pk}",
                                                       {"published": True})
    assert again.status_code == 409 and again.json()["code"] == "video_taken_down"
    twice = staff.json("post", f"/api/v1/console/videos/{v.pk}/take-down", {"reason": "广告"})
    assert twice.json()["code"] == "video_taken_down"
    assert staff.post(f"/api/v1/console/videos/{v.pk}/restore").status_code == 200
    assert [r["id"] for r in api_client.get("/api/v1/videos").json()["items"]] == [v.pk]
    from sportsman.core.models import AuditEntry

    assert set(AuditEntry.objects.filter(object_id=str(v.pk)).values_list(
        "action", flat=True)) >= {"instructors.video.take_down", "instructors.video.restore"}


def test_console_pages_take_down_and_restore(tree, client):
    v = video(tree)
    client.force_login(tree.town_admin)
    page = client.get("/instructors/console/videos/")
    assert page.status_code == 200 and f'data-video="{v.pk}"' in page.content.decode()
    client.post(f"/instructors/console/videos/{v.pk}/", {"action": "take_down",
                                                         "reason": "广告"})
    assert TeachingVideo.objects.get(pk=v.pk).status == "taken_down"
    client.post(f"/instructors/console/videos/{v.pk}/", {"action": "restore"})
    assert TeachingVideo.objects.get(pk=v.pk).status == "published"
    client.force_login(tree.resident)
    assert client.get("/instructors/console/videos/").status_code in (302, 403)


def test_my_videos_page_offers_the_uploader_to_instructors_only(tree, client):
    v = video(tree)
    client.force_login(v.instructor.user)
    page = client.get("/instructors/videos/mine/").content.decode()
    assert 'id="video-upload"' in page and f'data-video="{v.pk}"' in page
    client.post(f"/instructors/videos/{v.pk}/edit/", {"action": "unpublish"})
    assert TeachingVideo.objects.get(pk=v.pk).status == "unpublished"
    client.force_login(tree.resident)
    page = client.get("/instructors/videos/mine/").content.decode()
    assert 'id="not-instructor"' in page and 'id="video-upload"' not in page
