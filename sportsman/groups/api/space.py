"""Group space and chat API: posts (with up to nine photos), comments, likes, notices, reports;
chat history, sending (the HTTP twin of the socket), read marks; staff handling reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In, Ok
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.groups import chat, services, space
from sportsman.groups.models import Comment, Post, Report
from sportsman.regions.access import Perm, for_self, scoped

router = Router(tags=["group space"])


class PostOut(Schema):
    id: int
    group_id: int
    author_id: int
    author: str
    text: str
    photos: list[str]
    pinned: bool
    likes: int
    comments: int
    created_at: dt.datetime


class PostPageOut(Schema):
    items: list[PostOut]
    next_before: int | None


class CommentOut(Schema):
    id: int
    post_id: int
    author_id: int
    author: str
    text: str
    created_at: dt.datetime


class MessageOut(Schema):
    id: int
    group_id: int
    sender_id: int
    sender: str
    client_id: str
    text: str
    created_at: dt.datetime


class PostsQuery(Schema):
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=50)


class MessagesQuery(Schema):
    before: int | None = Field(None, ge=1, lt=2**63)
    after: int | None = Field(None, ge=0, lt=2**63)
    limit: int = Field(50, ge=1, le=200)


class CommentIn(In):
    text: str = Field(..., max_length=500)


class LikeOut(Schema):
    likes: int


class PinIn(In):
    pinned: bool


class ReportIn(In):
    reason: str = Field(..., min_length=1, max_length=200)
    post_id: int | None = Field(None, ge=1, lt=2**63)
    comment_id: int | None = Field(None, ge=1, lt=2**63)
    message_id: int | None = Field(None, ge=1, lt=2**63)


class ReportOut(Schema):
    id: int
    group_id: int
    group_name: str
    reason: str
    status: str
    post_id: int | None
    comment_id: int | None
    message_id: int | None
    text: str
    created_at: dt.datetime


class MessageIn(In):
    text: str = Field(..., max_length=1000)
    client_id: str = Field(..., min_length=1, max_length=64)


class ReadIn(In):
    up_to: int = Field(..., ge=0, lt=2**63)


class HandleIn(In):
    uphold: bool
    mute_minutes: int = Field(0, ge=0, le=43_200)


def post_out(p: Post) -> dict[str, Any]:
    return {"id": p.pk, "group_id": p.group_id, "author_id": p.author_id,
            "author": p.author.nickname or "", "text": p.text,
            "photos": [ph.image.url for ph in p.photos.all()], "pinned": p.pinned,
            "likes": p.likes, "comments": p.comments, "created_at": p.created_at}


def comment_out(c: Comment) -> dict[str, Any]:
    return {"id": c.pk, "post_id": c.post_id, "author_id": c.author_id,
            "author": c.author.nickname or "", "text": c.text, "created_at": c.created_at}


def report_out(r: Report) -> dict[str, Any]:
    thing = r.post or r.comment or r.message
    return {"id": r.pk, "group_id": r.group_id, "group_name": r.group.name, "reason": r.reason,
            "status": r.status, "post_id": r.post_id, "comment_id": r.comment_id,
            "message_id": r.message_id, "text": getattr(thing, "text", ""),
            "created_at": r.created_at}


@router.get("/groups/{group_id}/posts", response=PostPageOut)
@for_self
def posts(request: HttpRequest, group_id: int, query: Query[PostsQuery]):
    """The group's posts, notices first, then newest first (members only); pass
    ``next_before`` back as ``before``."""
    services.require_member(request.user, group_id)
    qs = space.posts(group_id)
    if query.before is not None:
        qs = qs.filter(id__lt=query.before, pinned=False)
    rows = list(qs[:query.limit + 1])
    page = rows[:query.limit]
    return {"items": [post_out(p) for p in page],
            "next_before": page[-1].pk if len(rows) > query.limit else None}


@router.post("/groups/{group_id}/posts", response={201: PostOut})
@for_self
@idempotent
def create_post(request: HttpRequest, group_id: int, text: Form[str],
                notice: Form[bool] = False, photos: File[list[UploadedFile]] = None):  # type: ignore[assignment]
    """Post text with up to nine photos (each JPEG/PNG/WebP up to 5 MB, stored re-encoded
    without EXIF). ``notice`` pins it (leader and administrators). Refusals: ``not_member``,
    ``muted``, ``sensitive_words``, ``too_many_photos``, ``photo_invalid``,
    ``photo_too_large``, ``throttled``."""
    files = photos or []
    if len(files) > space.MAX_PHOTOS:
        raise InvalidInput(code="too_many_photos", fields={"photos": ["≤ 9"]})
    post = space.create_post(actor=request.user, group_id=group_id, text=text, notice=notice,
                             photos=[f.read(PHOTO_MAX_BYTES + 1) for f in files])
    return Status(201, post_out(space.posts(group_id).get(pk=post.pk)))


@router.delete("/groups/{group_id}/posts/{post_id}", response=Ok)
@for_self
def delete_post(request: HttpRequest, group_id: int, post_id: int):
    space.delete_post(actor=request.user, group_id=group_id, post_id=post_id)
    return {"ok": True}


@router.put("/groups/{group_id}/posts/{post_id}/pin", response=PostOut)
@for_self
def pin(request: HttpRequest, group_id: int, post_id: int, data: PinIn):
    space.pin(actor=request.user, group_id=group_id, post_id=post_id, pinned=data.pinned)
    return post_out(space.posts(group_id).get(pk=post_id))


@router.get("/groups/{group_id}/posts/{post_id}/comments", response=list[CommentOut])
@for_self
def comments(request: HttpRequest, group_id: int, post_id: int):
    services.require_member(request.user, group_id)
    return [comment_out(c) for c in space.comments(group_id, post_id)[:500]]


@router.post("/groups/{group_id}/posts/{post_id}/comments", response={201: CommentOut})
@for_self
@idempotent
def add_comment(request: HttpRequest, group_id: int, post_id: int, data: CommentIn):
    row = space.comment(actor=request.user, group_id=group_id, post_id=post_id, text=data.text)
    return Status(201, comment_out(row))


@router.delete("/groups/{group_id}/comments/{comment_id}", response=Ok)
@for_self
def delete_comment(request: HttpRequest, group_id: int, comment_id: int):
    space.delete_comment(actor=request.user, group_id=group_id, comment_id=comment_id)
    return {"ok": True}


@router.put("/groups/{group_id}/posts/{post_id}/like", response=LikeOut)
@for_self
def like(request: HttpRequest, group_id: int, post_id: int):
    """Like a post (liking twice counts once)."""
    return {"likes": space.like(actor=request.user, group_id=group_id, post_id=post_id)}


@router.delete("/groups/{group_id}/posts/{post_id}/like", response=LikeOut)
@for_self
def unlike(request: HttpRequest, group_id: int, post_id: int):
    return {"likes": space.like(actor=request.user, group_id=group_id, post_id=post_id,
                                on=False)}


@router.post("/groups/{group_id}/reports", response={201: Ok})
@for_self
def report(request: HttpRequest, group_id: int, data: ReportIn):
    """Report one post, comment or chat message to the staff of the group's region."""
    space.report(actor=request.user, group_id=group_id, **data.model_dump())
    return Status(201, {"ok": True})


# --- chat over HTTP -----------------------------------------------------------------------------


@router.get("/groups/{group_id}/messages", response=list[MessageOut])
@for_self
def messages(request: HttpRequest, group_id: int, query: Query[MessagesQuery]):
    """Chat history, oldest first: the latest (``before`` to scroll back) or, with ``after``,
    everything since that id (catch-up after a reconnect)."""
    rows = chat.history(actor=request.user, group_id=group_id, before=query.before,
                        after=query.after, limit=query.limit)
    return [chat.message_out(m) for m in rows]


@router.post("/groups/{group_id}/messages", response={200: MessageOut, 201: MessageOut})
@for_self
def send(request: HttpRequest, group_id: int, data: MessageIn):
    """Send a message (201), or get the stored one back for a ``client_id`` already sent (200):
    a resend never doubles a message. Connected members receive it over their socket."""
    message, created = chat.send(actor=request.user, group_id=group_id, text=data.text,
                                 client_id=data.client_id)
    if created:
        chat.broadcast(message)
    return Status(201 if created else 200, chat.message_out(message))


@router.post("/groups/{group_id}/messages/read", response=Ok)
@for_self
def read(request: HttpRequest, group_id: int, data: ReadIn):
    chat.mark_read(actor=request.user, group_id=group_id, up_to=data.up_to)
    return {"ok": True}


# --- staff: reports ---------------------------------------------------------------------------


class ReportsQuery(Schema):
    status: str = Field("open", pattern="^(open|upheld|dismissed)$")
    limit: int = Field(50, ge=1, le=200)


@router.get("/console/group-reports", response=list[ReportOut])
@scoped(Perm.GROUP_MANAGE)
def staff_reports(request: HttpRequest, query: Query[ReportsQuery]):
    """Reports from the spaces and chats of my subtree's groups, oldest open first."""
    qs = space.reports_in_scope(request.user).filter(status=query.status).order_by("id")
    return [report_out(r) for r in qs[:query.limit]]


@router.post("/console/group-reports/{report_id}", response=ReportOut)
@scoped(Perm.GROUP_MANAGE)
def handle_report(request: HttpRequest, report_id: int, data: HandleIn):
    """Uphold (the post, comment or message is removed; its author may be muted) or dismiss."""
    row = space.handle_report(actor=request.user, report_id=report_id, uphold=data.uphold,
                              mute_minutes=data.mute_minutes, request=request)
    return report_out(space.reports_in_scope(request.user).get(pk=row.pk))
