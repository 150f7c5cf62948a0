"""The demo step's teaching videos: real, playable files of the demo instructor, made once."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_demo_videos_are_real_and_made_once(tree):
    from django.core.files.storage import default_storage

    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo_city import DemoCity
    from sportsman.instructors.demo_steps.videos import LESSONS, step_videos
    from sportsman.instructors.models import TeachingVideo

    user = User.objects.create_user("13800000011", "pw-123456789", nickname="王指导员")
    assert user.phone_hash == crypto.keyed_hash("13800000011")
    city = DemoCity(scale="small", seed=1, cities=1, progress=False)
    step_videos(city)
    step_videos(city)
    made = list(TeachingVideo.objects.filter(instructor__user=user))
    assert len(made) == len(LESSONS)
    for video in made:
        assert video.status == "published" and video.duration >= 10 and video.poster
        with default_storage.open(video.file.name, "rb") as f:
            assert f.read(12)[4:8] == b"ftyp"
