"""Races of teaching videos: many first views of one viewer at once count once; a second writer
of one upload is refused while the first streams."""

from __future__ import annotations

import threading

import pytest

from sportsman.instructors.models import TeachingVideo, VideoView
from sportsman.instructors.tests.fixtures_videos import (
    clip,
    create,
    instructor,
    key_of,
    patch,
    video,
)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_views_of_one_viewer_count_once(tree):
    from django.db import connection

    from sportsman.instructors import videos

    v = video(tree)
    barrier = threading.Barrier(6)
    outcomes: list[bool] = []

    def watch(viewer: str) -> None:
        try:
            barrier.wait()
            outcomes.append(videos.record_view(video_id=v.pk, viewer=viewer))
        finally:
            connection.close()

    threads = [threading.Thread(target=watch, args=("u1",)) for _ in range(4)]
    threads += [threading.Thread(target=watch, args=(f"u{i}",)) for i in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False, False, False, True, True, True]
    assert TeachingVideo.objects.get(pk=v.pk).views == 3
    assert VideoView.objects.filter(video=v).count() == 3


@pytest.mark.django_db
def test_a_second_writer_of_one_upload_is_refused_while_the_first_writes(tree, api_client):
    from sportsman.instructors.videos import _locked_part

    client = api_client.as_user(instructor(tree).user)
    content = clip()
    key = key_of(create(client, len(content)))
    with _locked_part(key):  # the first PATCH, still streaming
        answer = patch(client, key, 0, content[:1000])
    assert answer.status_code == 423 and answer.json()["code"] == "upload_locked"
    assert patch(client, key, 0, content[:1000]).status_code == 204
