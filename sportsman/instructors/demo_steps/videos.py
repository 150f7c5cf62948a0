"""Demo teaching videos (step 97, after the instructors' registry): four short lessons by the
demo instructor 王指导员 (13800000011) — real MP4 files made on the spot with PyAV (about
0.1 s each), put through the same resumable-upload pipeline an instructor's phone uses (type
sniffed, probed, poster frame), with a few days' views. The instructor's registry row is made
here only if no earlier step made it. Deterministic for a seed (``city.rng("videos")``)."""

from __future__ import annotations

import io

from sportsman.core.demo_city import DemoCity, demo_step

DEMO_INSTRUCTOR_PHONE = "13800000011"
LESSONS = [
    # title, sport slug, level, seconds, colour
    ("二十四式太极拳 · 起势与野马分鬃", "taichi", "beginner", 24, (120, 60, 40)),
    ("健身操热身八分钟（节选）", "aerobics", "beginner", 16, (11, 110, 79)),
    ("羽毛球正手高远球要领", "badminton", "intermediate", 20, (30, 70, 140)),
    ("跑步摆臂与呼吸节奏", "running", "advanced", 12, (110, 40, 110)),
]


def demo_instructor():
    """The demo instructor's registry row, made if missing (the registry step seeds the
    city's 469 instructors and may have made it already)."""
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_HOME_COMMUNITY
    from sportsman.core.models import Sport
    from sportsman.instructors.models import Instructor
    from sportsman.regions.models import Region

    user = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_INSTRUCTOR_PHONE)).first()
    if user is None:
        return None
    found = Instructor.objects.filter(user=user).first()
    if found is not None:
        return found
    region = Region.objects.filter(code=DEMO_HOME_COMMUNITY).order_by("-edition").first()
    if region is None:
        return None
    made = Instructor.objects.create(user=user, name="王指导员", level="second",
                                     certificate_number="DEMO-330402009034-0011",
                                     region=region, bio="太极拳、健身操二级社会体育指导员。")
    made.sports.set(Sport.objects.filter(slug__in=["taichi", "aerobics", "badminton"]))
    return made


@demo_step("videos", order=97)
def step_videos(city: DemoCity) -> None:
    from sportsman.instructors import videos
    from sportsman.instructors.models import TeachingVideo
    from sportsman.instructors.video_samples import sample_video

    instructor = demo_instructor()
    if instructor is None or TeachingVideo.objects.filter(instructor=instructor).exists():
        return
    rng = city.rng("videos")
    for title, sport, level, seconds, colour in LESSONS:
        content = sample_video(fmt="mp4", seconds=seconds, size=(320, 240), colour=colour)
        upload = videos.start_upload(actor=instructor.user, length=len(content), metadata={
            "filename": f"{sport}.mp4", "title": title, "sport": sport, "level": level})
        stream = io.BytesIO(content)
        _upload, video = videos.append_chunk(actor=instructor.user, key=upload.key, offset=0,
                                             read=stream.read, declared=len(content))
        assert video is not None
        TeachingVideo.objects.filter(pk=video.pk).update(views=rng.randrange(20, 400))
