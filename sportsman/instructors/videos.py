"""Teaching videos (教学视频): the services behind the resumable upload (``tus.py`` speaks the
protocol, these keep the state), the finished videos' edits, take-downs and view counts, and
the selectors the API and the pages read through.

Who may do what:

- an active instructor uploads, edits, unpublishes and publishes again their own videos (no
  grant needed: they own them); uploads belong to whoever created them and are invisible (404)
  to anyone else;
- staff holding ``VIDEO_MANAGE`` over the instructor's region upload on an instructor's behalf
  (naming them in the upload's metadata), see every video of their subtree, take one down with
  a reason and restore it;
- anyone watches published videos.

The unfinished bytes live in ``VIDEO_UPLOAD_DIR`` (private); only a complete upload that passes
the checks (type from the bytes, size, a decodable video stream) reaches the media storage.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.core.uploads import (
    VIDEO_SNIFF_BYTES,
    probe_video,
    sniff_video,
    video_too_large,
    video_type_refused,
)
from sportsman.instructors.models import (
    Instructor,
    InstructorStatus,
    TeachingVideo,
    VideoLevel,
    VideoStatus,
    VideoUpload,
    VideoView,
)
from sportsman.regions.access import Access, Perm, access_for_user

WRITE_BLOCK = 4 * 1024 * 1024  # bytes read from the request and written at a time (memory bound)
KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
EXTENSIONS = {"video/mp4": "mp4", "video/webm": "webm"}


class UploadNotFound(NotFound):
    code = "upload_not_found"
    default_message = _("This upload does not exist or has expired.")


class UploadOffsetMismatch(Conflict):
    code = "upload_offset"
    default_message = _("The upload is at another offset; ask where it stands and resume there.")


class UploadLocked(Conflict):
    status = 423
    code = "upload_locked"
    default_message = _("Another request is writing to this upload.")


class VideoNotFound(NotFound):
    code = "video_not_found"
    default_message = _("This video does not exist.")


class VideoTakenDown(Conflict):
    code = "video_taken_down"
    default_message = _("Staff have taken this video down.")


class NotAnInstructor(InvalidInput):
    status = 403
    code = "not_an_instructor"
    default_message = _("Only registered instructors upload teaching videos.")


# --- where the bytes wait ---------------------------------------------------------------------


def upload_dir() -> Path:
    folder = Path(settings.VIDEO_UPLOAD_DIR or Path(settings.VAR_DIR) / "uploads" / "videos")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def part_path(key: str) -> Path:
    return upload_dir() / f"{key}.part"


def _expiry(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(hours=settings.VIDEO_UPLOAD_EXPIRY_HOURS)


def _drop_part(key: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        part_path(key).unlink()


# --- uploads ----------------------------------------------------------------------------------


def _instructor_for(actor: Any, on_behalf_of: str | None) -> Instructor:
    """The actor themselves if an active instructor; staff name one of their subtree."""
    if on_behalf_of:
        if not on_behalf_of.isdigit():
            raise InvalidInput(code="upload_metadata", fields={"instructor": [_("Not valid.")]})
        access = access_for_user(actor)
        found = access.scope(Instructor.objects.filter(status=InstructorStatus.ACTIVE),
                             Perm.VIDEO_MANAGE).filter(pk=int(on_behalf_of)).first()
        if found is None:
            raise NotAnInstructor()
        return found
    found = Instructor.objects.filter(user=actor, status=InstructorStatus.ACTIVE).first()
    if found is None:
        raise NotAnInstructor()
    return found


def _sport_id(slug: str | None) -> int | None:
    from sportsman.core.models import Sport

    if not slug:
        return None
    sport_id = Sport.objects.filter(slug=slug).values_list("pk", flat=True).first()
    if sport_id is None:
        raise InvalidInput(code="unknown_sport", fields={"sport": [_("Unknown sport.")]})
    return sport_id


def _level(value: str | None) -> str:
    if not value:
        return VideoLevel.BEGINNER
    if value not in VideoLevel.values:
        raise InvalidInput(code="unknown_level", fields={"level": [_("Unknown level.")]})
    return value


def start_upload(*, actor: Any, length: int, metadata: dict[str, str]) -> VideoUpload:
    """Open a resumable upload of ``length`` bytes for the actor (an active instructor, or staff
    naming ``instructor`` in the metadata). Refused at once, before any byte is sent, when the
    length passes ``VIDEO_MAX_BYTES`` (``video_too_large``). The metadata carries ``filename``,
    ``title`` (the filename's stem if absent), ``sport`` (a slug) and ``level``."""
    if length < 0:
        raise InvalidInput(code="upload_length")
    if length > settings.VIDEO_MAX_BYTES:
        raise video_too_large(settings.VIDEO_MAX_BYTES)
    instructor = _instructor_for(actor, metadata.get("instructor"))
    filename = (metadata.get("filename") or "")[:200]
    title = (metadata.get("title") or Path(filename).stem or "").strip()[:80]
    if not title:
        raise InvalidInput(code="title_required", fields={"title": [_("Give the video a title.")]})
    now = timezone.now()
    upload = VideoUpload.objects.create(
        key=secrets.token_urlsafe(32), owner=actor, instructor=instructor, length=length,
        filename=filename, title=title, sport_id=_sport_id(metadata.get("sport")),
        level=_level(metadata.get("level")), expires_at=_expiry(now))
    part_path(upload.key).touch()
    return upload


def upload_for(actor: Any, key: str) -> VideoUpload:
    """The actor's own upload, unexpired; anyone else's is ``upload_not_found``."""
    if not key or len(key) > 64 or not set(key) <= KEY_CHARS:
        raise UploadNotFound()
    upload = (VideoUpload.objects.filter(key=key, owner=actor)
              .filter(Q(video__isnull=False) | Q(expires_at__gt=timezone.now())).first())
    if upload is None:
        raise UploadNotFound()
    return upload


@contextlib.contextmanager
def _locked_part(key: str):
    # One writer per upload: a second PATCH while one streams is refused, never interleaved.
    try:
        handle = open(part_path(key), "r+b")  # noqa: SIM115 (closed below)
    except FileNotFoundError as exc:
        raise UploadNotFound() from exc
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadLocked() from exc
        yield handle
    finally:
        handle.close()


def append_chunk(*, actor: Any, key: str, offset: int, read: Callable[[int], bytes],
                 declared: int | None) -> tuple[VideoUpload, TeachingVideo | None]:
    """Write the bytes ``read`` yields at ``offset`` (which must be where the upload stands:
    ``upload_offset`` otherwise), a block at a time — never the whole body in memory. Bytes
    received before the client went away are kept and counted, so the upload resumes there.
    The first bytes are sniffed at once (``video_type``: the upload is dropped); the last one
    completes the video (``finish_upload``). Returns the upload and, once complete, the video."""
    upload = upload_for(actor, key)
    if upload.video_id is not None:
        if offset != upload.length:
            raise UploadOffsetMismatch()
        return upload, upload.video
    if offset != upload.offset:
        raise UploadOffsetMismatch()
    room = upload.length - offset
    if declared is not None and declared > room:
        raise InvalidInput(_("The chunk runs past the upload's length."),
                           code="upload_too_long", status=413)
    written = 0
    with _locked_part(key) as handle:
        upload.refresh_from_db(fields=["offset"])
        if upload.offset != offset:  # another request finished a chunk meanwhile
            raise UploadOffsetMismatch()
        handle.truncate(offset)  # bytes past the recorded offset were never acknowledged
        handle.seek(offset)
        try:
            while written < room:
                block = read(min(WRITE_BLOCK, room - written))
                if not block:
                    break
                handle.write(block)
                written += len(block)
        finally:
            handle.flush()
            now = timezone.now()
            VideoUpload.objects.filter(pk=key, offset=offset).update(
                offset=offset + written, updated_at=now, expires_at=_expiry(now))
            upload.offset = offset + written
        if offset < VIDEO_SNIFF_BYTES and upload.offset >= min(VIDEO_SNIFF_BYTES, upload.length):
            handle.seek(0)
            if sniff_video(handle.read(VIDEO_SNIFF_BYTES)) is None:
                discard_upload(upload)
                raise video_type_refused()
    if upload.offset == upload.length:
        return upload, finish_upload(upload)
    return upload, None


class _PartFile(File):
    """The finished part file, handed to the storage: a local storage moves it into place
    instead of copying (Django's ``temporary_file_path`` protocol)."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def finish_upload(upload: VideoUpload) -> TeachingVideo:
    """Check the complete file (type from its bytes, a decodable video stream, the size),
    extract its duration and a poster frame, and keep it as a published ``TeachingVideo``
    (audited). Refused (``video_type``, ``video_invalid``): the upload and its bytes are
    dropped, nothing is kept."""
    path = part_path(upload.key)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        content_type = sniff_video(handle.read(VIDEO_SNIFF_BYTES))
        os.fsync(handle.fileno())  # the finished video is on disk before it is announced
    try:
        if content_type is None:
            raise video_type_refused()
        if size != upload.length or size > settings.VIDEO_MAX_BYTES:
            raise video_too_large(settings.VIDEO_MAX_BYTES)
        probe = probe_video(path)
    except InvalidInput:
        discard_upload(upload)
        raise
    name = secrets.token_urlsafe(16)
    instructor = upload.instructor
    with open(path, "rb") as handle:
        stored = default_storage.save(
            f"instructors/videos/{name}.{EXTENSIONS[content_type]}", _PartFile(handle, str(path)))
    poster = default_storage.save(f"instructors/posters/{name}.jpg",
                                  ContentFile(probe.poster_jpeg))
    _drop_part(upload.key)
    with transaction.atomic():
        video = TeachingVideo.objects.create(
            instructor=instructor, region_id=instructor.region_id, title=upload.title,
            sport_id=upload.sport_id, level=upload.level, file=stored,
            content_type=content_type, size=size, duration=probe.duration,
            width=probe.width, height=probe.height, poster=poster)
        VideoUpload.objects.filter(pk=upload.key).update(video=video, offset=size)
        upload.video = video
        audit.record(actor=upload.owner, action="instructors.video.upload", obj=video,
                     region=instructor.region,
                     data={"size": size, "type": content_type, "duration": probe.duration})
    return video


def discard_upload(upload: VideoUpload) -> None:
    _drop_part(upload.key)
    VideoUpload.objects.filter(pk=upload.key).delete()


def terminate_upload(*, actor: Any, key: str) -> None:
    """tus termination: the actor's upload and its bytes are gone (a finished video stays)."""
    upload = upload_for(actor, key)
    if upload.video_id is not None:
        VideoUpload.objects.filter(pk=upload.key).delete()
        return
    with _locked_part(key):
        discard_upload(upload)


def expire_uploads(now: dt.datetime | None = None) -> int:
    """Drop unfinished uploads past their expiry (no chunk for ``VIDEO_UPLOAD_EXPIRY_HOURS``)
    with their bytes, and finished uploads' bookkeeping rows a day later; returns how many
    unfinished ones went. Run by the scheduler (tasks.py)."""
    now = now or timezone.now()
    stale = list(VideoUpload.objects.filter(video=None, expires_at__lte=now)
                 .values_list("key", flat=True)[:1000])
    for key in stale:
        _drop_part(key)
    VideoUpload.objects.filter(key__in=stale).delete()
    VideoUpload.objects.filter(video__isnull=False,
                               expires_at__lte=now - dt.timedelta(days=1)).delete()
    return len(stale)


# --- videos -----------------------------------------------------------------------------------


def published_videos(*, sport: str | None = None, level: str | None = None
                     ) -> QuerySet[TeachingVideo]:
    """Published videos, newest first, optionally of one sport (slug) and level."""
    qs = (TeachingVideo.objects.filter(status=VideoStatus.PUBLISHED)
          .select_related("instructor", "sport").order_by("-id"))
    if sport:
        qs = qs.filter(sport__slug=sport)
    if level:
        qs = qs.filter(level=level)
    return qs


def my_videos(actor: Any) -> QuerySet[TeachingVideo]:
    return (TeachingVideo.objects.filter(instructor__user=actor)
            .select_related("instructor", "sport").order_by("-id"))


def videos_in_scope(access: Access) -> QuerySet[TeachingVideo]:
    return access.scope(TeachingVideo.objects.select_related("instructor", "sport", "region"),
                        Perm.VIDEO_MANAGE).order_by("-id")


def visible_video(actor: Any, video_id: int) -> TeachingVideo:
    """A published video for anyone; an unpublished or taken-down one only for its instructor
    and for staff over its region; else ``video_not_found``."""
    video = (TeachingVideo.objects.select_related("instructor", "sport", "region")
             .filter(pk=video_id).first())
    if video is None:
        raise VideoNotFound()
    if video.status == VideoStatus.PUBLISHED:
        return video
    if actor is not None and actor.is_authenticated and (
            video.instructor.user_id == actor.pk
            or access_for_user(actor).can(Perm.VIDEO_MANAGE, video.region)):
        return video
    raise VideoNotFound()


def edit_video(*, actor: Any, video_id: int, title: str | None = None,
               description: str | None = None, sport: str | None = None,
               level: str | None = None, published: bool | None = None) -> TeachingVideo:
    """The instructor edits their own video (anyone else: ``video_not_found``): title,
    description, sport (slug, "" for none), level, and published or not. A video staff took
    down cannot be published again by its instructor (``video_taken_down``)."""
    with transaction.atomic():
        video = (TeachingVideo.objects.select_for_update()
                 .filter(pk=video_id, instructor__user=actor).first())
        if video is None:
            raise VideoNotFound()
        changed: dict[str, Any] = {}
        if title is not None:
            if not title.strip():
                raise InvalidInput(code="title_required",
                                   fields={"title": [_("Give the video a title.")]})
            changed["title"] = title.strip()[:80]
        if description is not None:
            changed["description"] = description.strip()[:2000]
        if sport is not None:
            changed["sport_id"] = _sport_id(sport)
        if level is not None:
            changed["level"] = _level(level)
        if published is not None:
            if video.status == VideoStatus.TAKEN_DOWN:
                raise VideoTakenDown()
            changed["status"] = VideoStatus.PUBLISHED if published else VideoStatus.UNPUBLISHED
        for name, value in changed.items():
            setattr(video, name, value)
        if changed:
            video.save(update_fields=[*changed, "updated_at"])
            audit.record(actor=actor, action="instructors.video.edit", obj=video,
                         region=video.region,
                         data={k: str(v) for k, v in changed.items()})
    return video


def _staff_video(actor: Any, video_id: int) -> TeachingVideo:
    video = (videos_in_scope(access_for_user(actor)).select_for_update(of=("self",))
             .filter(pk=video_id).first())
    if video is None:
        raise VideoNotFound()
    return video


def take_down_video(*, actor: Any, video_id: int, reason: str, request: Any = None
                    ) -> TeachingVideo:
    """Staff over the video's region take it down with a reason (kept; audited); it leaves the
    lists and its file is no longer served to the public. ``video_taken_down`` if it is."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput(code="reason_required",
                           fields={"reason": [_("Say why it is taken down.")]})
    with transaction.atomic():
        video = _staff_video(actor, video_id)
        if video.status == VideoStatus.TAKEN_DOWN:
            raise VideoTakenDown()
        video.status, video.taken_down_reason, video.taken_down_by = (
            VideoStatus.TAKEN_DOWN, reason, actor)
        video.save(update_fields=["status", "taken_down_reason", "taken_down_by", "updated_at"])
        audit.record(actor=actor, action="instructors.video.take_down", obj=video,
                     region=video.region, request=request, data={"reason": reason})
    return video


def restore_video(*, actor: Any, video_id: int, request: Any = None) -> TeachingVideo:
    """Staff put a taken-down video back up (published; audited); ``video_not_taken_down``."""
    with transaction.atomic():
        video = _staff_video(actor, video_id)
        if video.status != VideoStatus.TAKEN_DOWN:
            raise Conflict(code="video_not_taken_down")
        video.status, video.taken_down_reason, video.taken_down_by = (
            VideoStatus.PUBLISHED, "", None)
        video.save(update_fields=["status", "taken_down_reason", "taken_down_by", "updated_at"])
        audit.record(actor=actor, action="instructors.video.restore", obj=video,
                     region=video.region, request=request)
    return video


def viewer_key(request: Any) -> str:
    """Who is watching, for the daily count: the user, or a keyed hash of the client's address
    and browser (visitors carry no session)."""
    from sportsman.core import crypto
    from sportsman.core.client import client_ip, user_agent

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    raw = f"{client_ip(request) or ''}|{user_agent(request)}"
    return "v" + crypto.keyed_hash(raw, purpose="video-viewer")[:40]


def record_view(*, video_id: int, viewer: str) -> bool:
    """Count a view once per viewer per local day: the unique (video, viewer, day) row decides
    — whichever request inserts it moves the counter by one UPDATE (never read-modify-write).
    Returns whether this view counted."""
    try:
        with transaction.atomic():
            VideoView.objects.create(video_id=video_id, viewer=viewer, day=timezone.localdate())
    except IntegrityError:
        return False
    TeachingVideo.objects.filter(pk=video_id).update(views=F("views") + 1)
    return True
