"""Teaching video pages: the public list (by sport and level) and a video's page with its
player; the file and poster, served with range requests; my videos (upload with the resumable
uploader, edit, unpublish); the console's videos of the region's subtree (take down, restore)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sportsman.core.models import Sport
from sportsman.core.ranges import serve_ranged
from sportsman.instructors import videos
from sportsman.instructors.models import Instructor, VideoLevel, VideoStatus
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "instructors"
PAGE = 12


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _paged(qs, request: HttpRequest) -> tuple[list, int | None]:
    before = _int(request.GET.get("before"))
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[:PAGE + 1])
    return rows[:PAGE], (rows[PAGE - 1].pk if len(rows) > PAGE else None)


@public
@require_GET
def video_list(request: HttpRequest) -> HttpResponse:
    sport = request.GET.get("sport") or None
    level = request.GET.get("level") if request.GET.get("level") in VideoLevel.values else None
    rows, next_before = _paged(videos.published_videos(sport=sport, level=level), request)
    sports = Sport.objects.filter(teaching_videos__status=VideoStatus.PUBLISHED).distinct() \
        .order_by("slug")
    return render(request, "instructors/videos/list.html", {
        "videos": rows, "next_before": next_before, "sports": sports, "sport": sport,
        "level": level, "levels": VideoLevel.choices})


@public
@require_GET
def video_page(request: HttpRequest, video_id: int) -> HttpResponse:
    """The player; opening the page is a view (once per viewer per day)."""
    video = videos.visible_video(request.user, video_id)
    if video.status == VideoStatus.PUBLISHED and videos.record_view(
            video_id=video.pk, viewer=videos.viewer_key(request)):
        video.views += 1
    return render(request, "instructors/videos/detail.html", {
        "video": video, "is_mine": request.user.is_authenticated
        and video.instructor.user_id == request.user.pk})


def _etag(video) -> str:
    return f'"v{video.pk}-{video.size}-{int(video.updated_at.timestamp())}"'


@public
@require_GET
def video_file(request: HttpRequest, video_id: int) -> HttpResponseBase:
    """The video's bytes, with range requests (seeking); taken-down and unpublished videos only
    for their instructor and staff over them."""
    video = videos.visible_video(request.user, video_id)
    name = video.file.name or ""
    if not name or not default_storage.exists(name):
        raise Http404()
    return serve_ranged(request, name, content_type=video.content_type,
                        etag=_etag(video), modified=video.updated_at,
                        open_max=settings.VIDEO_RANGE_BYTES)


@public
@require_GET
def video_poster(request: HttpRequest, video_id: int) -> HttpResponseBase:
    video = videos.visible_video(request.user, video_id)
    name = video.poster.name or ""
    if not name or not default_storage.exists(name):
        raise Http404()
    return serve_ranged(request, name, content_type="image/jpeg",
                        etag=_etag(video), modified=video.updated_at)


@for_self
def mine(request: HttpRequest) -> HttpResponse:
    """My videos and the uploader (instructors only, others see why not)."""
    instructor = Instructor.objects.filter(user=request.user.pk).first()
    rows, next_before = _paged(videos.my_videos(request.user), request)
    return render(request, "instructors/videos/mine.html", {
        "instructor": instructor, "videos": rows, "next_before": next_before,
        "sports": Sport.objects.order_by("slug"), "levels": VideoLevel.choices,
        "uploads_url": "/api/v1/videos/uploads"})


@for_self
@require_POST
def edit(request: HttpRequest, video_id: int) -> HttpResponse:
    action = request.POST.get("action", "save")
    if action in ("publish", "unpublish"):
        videos.edit_video(actor=request.user, video_id=video_id,
                          published=action == "publish")
    else:
        videos.edit_video(actor=request.user, video_id=video_id,
                          title=request.POST.get("title"),
                          description=request.POST.get("description"),
                          sport=request.POST.get("sport"), level=request.POST.get("level"))
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("instructors:my_videos"))


@scoped(Perm.VIDEO_MANAGE)
def console(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    qs = videos.videos_in_scope(access_for(request)).filter(
        subtree_q(state.region.path, "region"))
    status = request.GET.get("status")
    if status in VideoStatus.values:
        qs = qs.filter(status=status)
    rows, next_before = _paged(qs, request)
    return _render(request, "instructors/videos/console.html", state, SECTION,
                   videos=rows, next_before=next_before, statuses=VideoStatus.choices,
                   status=status)


@scoped(Perm.VIDEO_MANAGE)
@require_POST
def console_video(request: HttpRequest, video_id: int) -> HttpResponse:
    if request.POST.get("action") == "restore":
        videos.restore_video(actor=request.user, video_id=video_id, request=request)
        messages.success(request, _("Restored."))
    else:
        videos.take_down_video(actor=request.user, video_id=video_id,
                               reason=request.POST.get("reason", ""), request=request)
        messages.success(request, _("Taken down."))
    return HttpResponseRedirect(reverse("instructors:console_videos"))


urlpatterns: list[URLPattern] = [
    path("videos/", video_list, name="videos"),
    path("videos/mine/", mine, name="my_videos"),
    path("videos/<int:video_id>/", video_page, name="video"),
    path("videos/<int:video_id>/file", video_file, name="video_file"),
    path("videos/<int:video_id>/poster.jpg", video_poster, name="video_poster"),
    path("videos/<int:video_id>/edit/", edit, name="video_edit"),
    path("console/videos/", console, name="console_videos"),
    path("console/videos/<int:video_id>/", console_video, name="console_video"),
]
