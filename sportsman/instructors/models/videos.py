"""Teaching videos (教学视频): an instructor's resumable uploads (tus) and the videos they become,
with a once-a-day-per-viewer view count."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = ["TeachingVideo", "VideoLevel", "VideoStatus", "VideoUpload", "VideoView"]


class VideoLevel(models.TextChoices):
    # Who the lesson is for, easiest first (the list filters on it).
    BEGINNER = "beginner", _("beginner")
    INTERMEDIATE = "intermediate", _("intermediate")
    ADVANCED = "advanced", _("advanced")


class VideoStatus(models.TextChoices):
    PUBLISHED = "published", _("published")
    UNPUBLISHED = "unpublished", _("unpublished")  # by its instructor; they may publish again
    TAKEN_DOWN = "taken_down", _("taken down")  # by staff of the region; only staff restore it


class VideoUpload(models.Model):
    """One tus upload in progress. The key is the upload's URL (unguessable, 32 random bytes);
    the bytes so far sit in a private file under VAR_DIR, never in the media storage, until the
    upload completes and passes the checks."""

    key = models.CharField(max_length=64, primary_key=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="video_uploads")
    instructor = models.ForeignKey("instructors.Instructor", on_delete=models.CASCADE,
                                   related_name="uploads")
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    filename = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=80)
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    level = models.CharField(max_length=12, choices=VideoLevel.choices,
                             default=VideoLevel.BEGINNER)
    video = models.OneToOneField("instructors.TeachingVideo", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="upload")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(offset__gte=0) & Q(offset__lte=models.F("length")),
                                   name="video_upload_offset_in_length"),
        ]

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.offset}/{self.length}"


class TeachingVideo(TimeStampedModel):
    """A finished teaching video: checked (type from the bytes, size), probed (duration) and
    given a poster frame. ``region`` is the instructor's at upload time: staff of its subtree
    may take it down."""

    instructor = models.ForeignKey("instructors.Instructor", on_delete=models.CASCADE,
                                   related_name="videos")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="teaching_videos")
    level = models.CharField(_("level"), max_length=12, choices=VideoLevel.choices,
                             default=VideoLevel.BEGINNER)
    file = models.FileField(upload_to="instructors/videos/", max_length=200)
    content_type = models.CharField(max_length=40)  # video/mp4 or video/webm, from the bytes
    size = models.BigIntegerField()
    duration = models.FloatField(default=0)  # seconds
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    poster = models.FileField(upload_to="instructors/posters/", max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=VideoStatus.choices,
                              default=VideoStatus.PUBLISHED, db_index=True)
    taken_down_reason = models.CharField(max_length=200, blank=True)
    taken_down_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    views = models.PositiveIntegerField(default=0)  # moved by UPDATE only (record_view)

    class Meta:
        indexes = [models.Index(fields=["status", "sport", "level", "-id"],
                                name="video_list"),
                   models.Index(fields=["region", "status"], name="video_region_status")]

    def __str__(self) -> str:
        return self.title


class VideoView(models.Model):
    """A viewer's first view of a video on a (local) day: the unique row makes the count once
    per viewer per day, whatever the races."""

    video = models.ForeignKey(TeachingVideo, on_delete=models.CASCADE, related_name="+")
    viewer = models.CharField(max_length=64)  # "u<user id>" or a keyed hash of the client
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "viewer", "day"],
                                               name="video_view_once_a_day")]

    def __str__(self) -> str:
        return f"{self.video_id}/{self.viewer}/{self.day}"
