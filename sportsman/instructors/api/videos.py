"""Teaching videos API: the tus upload endpoints (see ``instructors.tus``), the public list and
detail, the instructor's own videos and edits, and staff take-downs.

The upload, for a client library (tus-js-client, TUSKit, tuspy …): point it at
``/api/v1/videos/uploads`` with the bearer token in ``Authorization`` and the metadata
``filename``, ``title``, ``sport`` (slug), ``level`` (``beginner``/``intermediate``/``advanced``)
and, for staff uploading for an instructor, ``instructor`` (their id). The last chunk's answer
carries ``Video-Id``; refusals come in the API's error shape (``video_type`` 415,
``video_too_large`` 413, ``video_invalid`` 422, ``upload_offset`` 409, ``not_an_instructor`` 403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from sportsman.core.schemas import In, Ok
from sportsman.instructors import tus, videos
from sportsman.instructors.models import TeachingVideo, VideoLevel, VideoStatus
from sportsman.regions.access import Perm, access_for, for_self, public, scoped

router = Router(tags=["teaching videos"])

LEVELS = "^(" + "|".join(VideoLevel.values) + ")$"
STATUSES = "^(" + "|".join(VideoStatus.values) + ")$"


class VideoOut(Schema):
    id: int
    title: str
    description: str
    instructor_id: int
    instructor: str
    sport: str | None
    sport_name: str | None
    level: str
    duration: float
    size: int
    width: int
    height: int
    content_type: str
    status: str
    views: int
    file_url: str
    poster_url: str | None
    page_url: str
    created_at: dt.datetime


class StaffVideoOut(VideoOut):
    region_id: int
    region: str
    taken_down_reason: str


class VideoPageOut(Schema):
    items: list[VideoOut]
    next_before: int | None


class StaffVideoPageOut(Schema):
    items: list[StaffVideoOut]
    next_before: int | None


class VideosQuery(Schema):
    sport: str | None = Field(None, max_length=32)
    level: str | None = Field(None, pattern=LEVELS)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=50)


class StaffVideosQuery(Schema):
    status: str | None = Field(None, pattern=STATUSES)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=50)


class VideoEditIn(In):
    title: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=2000)
    sport: str | None = Field(None, max_length=32)
    level: str | None = Field(None, pattern=LEVELS)
    published: bool | None = None


class TakeDownIn(In):
    reason: str = Field(..., max_length=200)


class ViewOut(Schema):
    counted: bool
    views: int


def video_out(v: TeachingVideo, *, staff: bool = False) -> dict[str, Any]:
    out = {"id": v.pk, "title": v.title, "description": v.description,
           "instructor_id": v.instructor_id, "instructor": v.instructor.name,
           "sport": v.sport.slug if v.sport else None,
           "sport_name": v.sport.name_zh if v.sport else None, "level": v.level,
           "duration": v.duration, "size": v.size, "width": v.width, "height": v.height,
           "content_type": v.content_type, "status": v.status, "views": v.views,
           "file_url": reverse("instructors:video_file", args=[v.pk]),
           "poster_url": reverse("instructors:video_poster", args=[v.pk]) if v.poster else None,
           "page_url": reverse("instructors:video", args=[v.pk]), "created_at": v.created_at}
    if staff:
        out |= {"region_id": v.region_id, "region": v.region.name,
                "taken_down_reason": v.taken_down_reason}
    return out


def _page(qs: Any, before: int | None, limit: int, *, staff: bool = False) -> dict[str, Any]:
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[:limit + 1])
    page = rows[:limit]
    return {"items": [video_out(v, staff=staff) for v in page],
            "next_before": page[-1].pk if len(rows) > limit else None}


# --- the tus endpoints ------------------------------------------------------------------------


@router.api_operation(["OPTIONS"], "/videos/uploads", auth=None, include_in_schema=True)
@public
def upload_options(request: HttpRequest):
    """tus discovery: ``Tus-Version``, ``Tus-Extension``, ``Tus-Max-Size`` (204)."""
    return tus.options(request)


@router.post("/videos/uploads")
@for_self
def upload_create(request: HttpRequest):
    """tus creation: ``Upload-Length`` (refused over ``Tus-Max-Size``: 413 ``video_too_large``)
    and ``Upload-Metadata``; answers 201 with ``Location`` (the upload's unguessable URL) and
    ``Upload-Expires``. A body of type ``application/offset+octet-stream`` is the first chunk
    (creation-with-upload). Instructors only (staff: name ``instructor`` in the metadata)."""
    return tus.create(request)


@router.api_operation(["HEAD"], "/videos/uploads/{key}")
@for_self
def upload_head(request: HttpRequest, key: str):
    """Where my upload stands: ``Upload-Offset``, ``Upload-Length``; ``Video-Id`` once done."""
    return tus.head(request, key)


@router.patch("/videos/uploads/{key}")
@for_self
def upload_patch(request: HttpRequest, key: str):
    """Append a chunk (``Content-Type: application/offset+octet-stream``) at ``Upload-Offset``,
    which must be where the upload stands (409 ``upload_offset``); answers 204 with the new
    ``Upload-Offset``. The chunk that completes the upload checks and keeps the video."""
    return tus.patch(request, key)


@router.delete("/videos/uploads/{key}")
@for_self
def upload_delete(request: HttpRequest, key: str):
    """tus termination: my unfinished upload and its bytes are dropped (204)."""
    return tus.delete(request, key)


# --- watching -----------------------------------------------------------------------------------


@router.get("/videos", response=VideoPageOut, auth=None)
@public
def video_list(request: HttpRequest, query: Query[VideosQuery]):
    """Published teaching videos, newest first, of a sport (slug) and a level if given; pass
    ``next_before`` back as ``before`` for the next page."""
    return _page(videos.published_videos(sport=query.sport, level=query.level),
                 query.before, query.limit)


@router.get("/videos/mine", response=VideoPageOut)
@for_self
def my_video_list(request: HttpRequest, query: Query[StaffVideosQuery]):
    """My own teaching videos in every state."""
    qs = videos.my_videos(request.user)
    if query.status:
        qs = qs.filter(status=query.status)
    return _page(qs, query.before, query.limit)


@router.get("/videos/{video_id}", response=VideoOut, auth=None)
@public
def video_detail(request: HttpRequest, video_id: int):
    """A published video (its instructor and staff over it also see it unpublished)."""
    return video_out(videos.visible_video(request.user, video_id))


@router.post("/videos/{video_id}/views", response=ViewOut, auth=None)
@public
def video_viewed(request: HttpRequest, video_id: int):
    """An app reports a play: counted once per viewer per day."""
    video = videos.visible_video(request.user, video_id)
    counted = videos.record_view(video_id=video.pk, viewer=videos.viewer_key(request))
    video.refresh_from_db(fields=["views"])
    return {"counted": counted, "views": video.views}


@router.patch("/videos/{video_id}", response=VideoOut)
@for_self
def video_edit(request: HttpRequest, video_id: int, data: VideoEditIn):
    """Edit my video; ``published: false`` unpublishes it (``video_taken_down`` when staff took
    it down)."""
    video = videos.edit_video(actor=request.user, video_id=video_id,
                              **data.model_dump(exclude_unset=True))
    return video_out(videos.visible_video(request.user, video.pk))


# --- staff --------------------------------------------------------------------------------------


@router.get("/console/videos", response=StaffVideoPageOut)
@scoped(Perm.VIDEO_MANAGE)
def staff_video_list(request: HttpRequest, query: Query[StaffVideosQuery]):
    """Teaching videos of instructors in my subtree, every state, newest first."""
    qs = videos.videos_in_scope(access_for(request))
    if query.status:
        qs = qs.filter(status=query.status)
    return _page(qs, query.before, query.limit, staff=True)


@router.post("/console/videos/{video_id}/take-down", response=Ok)
@scoped(Perm.VIDEO_MANAGE)
def video_take_down(request: HttpRequest, video_id: int, data: TakeDownIn):
    """Take the video down with a reason (audited): out of the lists, its file no longer served
    to the public."""
    videos.take_down_video(actor=request.user, video_id=video_id, reason=data.reason,
                           request=request)
    return {"ok": True}


@router.post("/console/videos/{video_id}/restore", response=Ok)
@scoped(Perm.VIDEO_MANAGE)
def video_restore(request: HttpRequest, video_id: int):
    videos.restore_video(actor=request.user, video_id=video_id, request=request)
    return {"ok": True}
