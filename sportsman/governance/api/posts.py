"""My posts API: my community's feed, publishing, comments, my own posts; flagging governance
content; staff answering posts, turning one into a topic, and the moderation queue (take down,
restore, dismiss)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In, Ok
from sportsman.governance import moderation, posts
from sportsman.governance.api.deliberation import TopicOut, topic_out
from sportsman.governance.api.reports import ReportDetailOut, report_detail
from sportsman.governance.models import CommunityPost, PostComment, PostKind
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.regions.models import Region, subtree_q

router = Router(tags=["posts"])

KINDS = "^(" + "|".join(PostKind.values) + ")$"


class PostOut(Schema):
    id: int
    region_id: int
    region: str
    author_id: int
    author: str
    kind: str
    text: str
    comments: int
    answered_at: dt.datetime | None
    topic_id: int | None
    report_id: int | None
    hidden: bool
    hidden_reason: str
    created_at: dt.datetime


class PostPageOut(Schema):
    items: list[PostOut]
    next_before: int | None


class PostCommentOut(Schema):
    id: int
    post_id: int
    author_id: int
    author: str
    is_answer: bool
    text: str
    created_at: dt.datetime


class PageQuery(Schema):
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=50)


class StaffPostsQuery(PageQuery):
    region: int | None = Field(None, ge=1, lt=2**63)
    unanswered: bool = False


class PublishIn(In):
    text: str = Field(..., max_length=1000)
    kind: str = Field(PostKind.NEED, pattern=KINDS)


class CommentIn(In):
    text: str = Field(..., max_length=500)


class FlagIn(In):
    kind: str = Field(..., max_length=24)
    target_id: int = Field(..., ge=1, lt=2**63)
    reason: str = Field(..., max_length=200)


class ToTopicIn(In):
    title: str = Field(..., max_length=80)
    body: str = Field("", max_length=4000)
    open_now: bool = False


class TakeDownIn(In):
    reason: str = Field(..., max_length=200)


class QueueItemOut(Schema):
    id: str  # "<kind>:<target_id>"
    kind: str
    target_id: int
    region_id: int | None
    region: str
    text: str
    author_id: int | None
    flags: int
    reasons: list[str]
    first_at: dt.datetime
    hidden: bool


class QueueQuery(Schema):
    region: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(50, ge=1, le=200)


def post_out(p: CommunityPost) -> dict[str, Any]:
    return {"id": p.pk, "region_id": p.region_id, "region": p.region.name,
            "author_id": p.author_id, "author": p.author.nickname or "", "kind": p.kind,
            "text": p.text, "comments": p.comments, "answered_at": p.answered_at,
            "topic_id": p.topic_id, "report_id": p.report_id, "hidden": p.hidden_at is not None,
            "hidden_reason": p.hidden_reason, "created_at": p.created_at}


def comment_out(c: PostComment) -> dict[str, Any]:
    return {"id": c.pk, "post_id": c.post_id, "author_id": c.author_id,
            "author": c.author.nickname or "", "is_answer": c.is_answer, "text": c.text,
            "created_at": c.created_at}


def _page(qs: Any, query: PageQuery) -> dict[str, Any]:
    if query.before is not None:
        qs = qs.filter(id__lt=query.before)
    rows = list(qs[:query.limit + 1])
    page = rows[:query.limit]
    return {"items": [post_out(p) for p in page],
            "next_before": page[-1].pk if len(rows) > query.limit else None}


# --- residents ------------------------------------------------------------------------------------


@router.get("/posts", response=PostPageOut)
@for_self
def feed(request: HttpRequest, query: Query[PageQuery]):
    """My community's posts, newest first; pass ``next_before`` back as ``before``."""
    return _page(posts.feed(request.user), query)


@router.get("/posts/mine", response=PostPageOut)
@for_self
def my_posts(request: HttpRequest, query: Query[PageQuery]):
    """My own posts (taken-down ones too, with the reason)."""
    return _page(posts.mine(request.user), query)


@router.post("/posts", response={201: PostOut})
@for_self
@idempotent
def publish(request: HttpRequest, data: PublishIn):
    """Publish a need, idea or offer to my community. Refusals: ``no_home_community``,
    ``sensitive_words``, ``throttled``."""
    post = posts.publish(actor=request.user, text=data.text, kind=data.kind)
    return Status(201, post_out(posts.visible_post(request.user, post.pk)))


@router.get("/posts/{post_id}", response=PostOut)
@for_self
def post(request: HttpRequest, post_id: int):
    return post_out(posts.visible_post(request.user, post_id))


@router.delete("/posts/{post_id}", response=Ok)
@for_self
def withdraw(request: HttpRequest, post_id: int):
    """Take my own post away."""
    posts.withdraw(actor=request.user, post_id=post_id)
    return {"ok": True}


@router.get("/posts/{post_id}/comments", response=list[PostCommentOut])
@for_self
def post_comments(request: HttpRequest, post_id: int):
    posts.visible_post(request.user, post_id)
    return [comment_out(c) for c in posts.comments(post_id)[:500]]


@router.post("/posts/{post_id}/comments", response={201: PostCommentOut})
@for_self
@idempotent
def add_comment(request: HttpRequest, post_id: int, data: CommentIn):
    row = posts.comment(actor=request.user, post_id=post_id, text=data.text)
    return Status(201, comment_out(posts.comments(post_id).get(pk=row.pk)))


@router.post("/flags", response={201: Ok})
@for_self
@idempotent
def flag(request: HttpRequest, data: FlagIn):
    """Flag a post (``post``), a post comment (``post_comment``) or a topic comment
    (``topic_comment``) for its region's staff; once per item (``already_flagged``)."""
    moderation.flag(actor=request.user, kind=data.kind, target_id=data.target_id,
                    reason=data.reason)
    return Status(201, {"ok": True})


# --- staff ------------------------------------------------------------------------------------------


@router.get("/console/posts", response=PostPageOut)
@scoped(Perm.POST_MODERATE)
def staff_posts(request: HttpRequest, query: Query[StaffPostsQuery]):
    """Posts of my subtree (optionally one region's, or only those not yet answered)."""
    qs = posts.posts_in_scope(access_for(request)).order_by("-id")
    if query.region is not None:
        region = Region.objects.filter(pk=query.region).first()
        qs = qs.filter(subtree_q(region.path, "region")) if region else qs.none()
    if query.unanswered:
        qs = qs.filter(answered_at=None, hidden_at=None)
    return _page(qs, query)


@router.post("/console/posts/{post_id}/answer", response={201: PostCommentOut})
@scoped(Perm.POST_MODERATE)
@idempotent
def answer(request: HttpRequest, post_id: int, data: CommentIn):
    row = posts.answer(actor=request.user, post_id=post_id, text=data.text, request=request)
    return Status(201, comment_out(posts.comments(post_id).get(pk=row.pk)))


class ToReportIn(In):
    category: str = Field(..., max_length=16)


@router.post("/console/posts/{post_id}/report", response={201: ReportDetailOut})
@scoped(Perm.POST_MODERATE)
@idempotent
def to_report(request: HttpRequest, post_id: int, data: ToReportIn):
    """Turn the post into a report of its community, its author as the reporter (needs
    REPORT_HANDLE there too); ``post_already_turned`` for a post turned before."""
    from sportsman.governance import reports

    made = reports.from_post(actor=request.user, post_id=post_id, category=data.category,
                             request=request)
    return Status(201, report_detail(made.pk))


@router.post("/console/posts/{post_id}/topic", response={201: TopicOut})
@scoped(Perm.POST_MODERATE)
@idempotent
def to_topic(request: HttpRequest, post_id: int, data: ToTopicIn):
    """Turn the post into a deliberation topic of its community (needs DELIBERATION_MANAGE
    there too); ``post_already_turned`` for a post turned before."""
    topic = posts.turn_into_topic(actor=request.user, post_id=post_id, request=request,
                                  **data.model_dump())
    from sportsman.governance.deliberation import get_topic

    return Status(201, topic_out(get_topic(topic.pk)))


@router.get("/console/flags", response=list[QueueItemOut])
@scoped(Perm.POST_MODERATE)
def queue(request: HttpRequest, query: Query[QueueQuery]):
    """Flagged governance content of my subtree awaiting a decision, oldest first."""
    region = Region.objects.filter(pk=query.region).first() if query.region else None
    return [{"id": f"{i.kind}:{i.target_id}", "kind": i.kind, "target_id": i.target_id,
             "region_id": i.region.pk if i.region else None,
             "region": i.region.name if i.region else "", "text": i.text,
             "author_id": i.author_id, "flags": i.flags, "reasons": i.reasons,
             "first_at": i.first_at, "hidden": i.hidden}
            for i in moderation.queue(request.user, region=region, limit=query.limit)]


@router.post("/console/moderation/{kind}/{target_id}/take-down", response=Ok)
@scoped(Perm.POST_MODERATE)
def take_down(request: HttpRequest, kind: str, target_id: int, data: TakeDownIn):
    """Hide the item from residents, with a reason (audited); its flags are resolved."""
    moderation.take_down(actor=request.user, kind=kind, target_id=target_id,
                         reason=data.reason, request=request)
    return {"ok": True}


@router.post("/console/moderation/{kind}/{target_id}/restore", response=Ok)
@scoped(Perm.POST_MODERATE)
def restore(request: HttpRequest, kind: str, target_id: int):
    moderation.restore(actor=request.user, kind=kind, target_id=target_id, request=request)
    return {"ok": True}


@router.post("/console/moderation/{kind}/{target_id}/dismiss", response=Ok)
@scoped(Perm.POST_MODERATE)
def dismiss(request: HttpRequest, kind: str, target_id: int):
    """The flags were unfounded: resolve them and leave the item up."""
    moderation.dismiss(actor=request.user, kind=kind, target_id=target_id, request=request)
    return {"ok": True}
