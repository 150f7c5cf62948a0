"""Deliberation API: topics of my region, proposing and backing one, the discussion, voting
(and changing one's vote until it closes); staff raising, opening, closing, deciding, following
up and withdrawing topics, and a region's rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.accounts.auth import optional_user
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.governance import deliberation
from sportsman.governance.models import FollowUp, Topic, TopicComment, TopicStatus
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Region, subtree_q

router = Router(tags=["deliberation"])

STATUSES = "^(" + "|".join(TopicStatus.values) + ")$"


class ResultOut(Schema):
    support: int
    oppose: int
    abstain: int


class TopicOut(Schema):
    id: int
    region_id: int
    region: str
    title: str
    status: str
    supporters: int
    support_threshold: int
    by_staff: bool
    created_at: dt.datetime
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    vote_closes_at: dt.datetime | None


class FollowUpOut(Schema):
    id: int
    text: str
    created_at: dt.datetime


class TopicDetailOut(TopicOut):
    body: str
    show_results_live: bool
    result: ResultOut | None
    eligible: int | None
    decision: str
    decided_at: dt.datetime | None
    withdraw_reason: str
    follow_ups: list[FollowUpOut]
    my_vote: str | None
    i_support: bool
    may_take_part: bool


class TopicPageOut(Schema):
    items: list[TopicOut]
    next_before: int | None


class CommentOut(Schema):
    id: int
    topic_id: int
    author_id: int
    author: str
    is_staff: bool
    text: str
    created_at: dt.datetime


class VoteOut(Schema):
    topic_id: int
    user_id: int
    choice: str
    acted_by_id: int | None
    updated_at: dt.datetime


class TopicsQuery(Schema):
    status: str | None = Field(None, pattern=STATUSES)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=50)


class StaffTopicsQuery(TopicsQuery):
    region: int | None = Field(None, ge=1, lt=2**63)


class ProposeIn(In):
    title: str = Field(..., max_length=80)
    body: str = Field(..., max_length=4000)
    region_id: int | None = Field(None, ge=1, lt=2**63)


class VoteIn(In):
    choice: str = Field(..., max_length=8)
    for_user_id: int | None = Field(None, ge=1, lt=2**63)


class CommentIn(In):
    text: str = Field(..., max_length=1000)


class RaiseIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    title: str = Field(..., max_length=80)
    body: str = Field(..., max_length=4000)
    open_now: bool = True
    vote_closes_at: dt.datetime | None = None


class OpenIn(In):
    vote_closes_at: dt.datetime | None = None


class DecisionIn(In):
    decision: str = Field(..., max_length=4000)


class FollowUpIn(In):
    text: str = Field(..., max_length=2000)


class WithdrawIn(In):
    reason: str = Field(..., max_length=200)


class RuleIn(In):
    support_threshold: int = Field(..., ge=1, le=deliberation.MAX_THRESHOLD)
    show_results_live: bool = False


class RuleOut(Schema):
    region_id: int
    support_threshold: int
    show_results_live: bool


def topic_out(t: Topic) -> dict[str, Any]:
    return {"id": t.pk, "region_id": t.region_id, "region": t.region.name, "title": t.title,
            "status": t.status, "supporters": t.supporters,
            "support_threshold": t.support_threshold, "by_staff": t.raised_by_id is not None,
            "created_at": t.created_at, "opened_at": t.opened_at, "closed_at": t.closed_at,
            "vote_closes_at": t.vote_closes_at}


def detail_out(request: HttpRequest, t: Topic, *, staff: bool = False) -> dict[str, Any]:
    user = request.user
    vote = deliberation.my_vote(user, t.pk)
    frozen = t.status in (TopicStatus.CLOSED, TopicStatus.DECIDED)
    return {**topic_out(t), "body": t.body, "show_results_live": t.show_results_live,
            "result": deliberation.result_of(t, staff=staff),
            "eligible": t.eligible if frozen else None, "decision": t.decision,
            "decided_at": t.decided_at, "withdraw_reason": t.withdraw_reason,
            "follow_ups": [follow_up_out(f) for f in t.follow_ups.all()],
            "my_vote": vote.choice if vote else None,
            "i_support": deliberation.has_supported(user, t.pk),
            "may_take_part": deliberation.is_eligible(user, t.region)}


def follow_up_out(f: FollowUp) -> dict[str, Any]:
    return {"id": f.pk, "text": f.text, "created_at": f.created_at}


def comment_out(c: TopicComment) -> dict[str, Any]:
    return {"id": c.pk, "topic_id": c.topic_id, "author_id": c.author_id,
            "author": c.author.nickname or "", "is_staff": c.is_staff, "text": c.text,
            "created_at": c.created_at}


def _page(qs: Any, query: TopicsQuery) -> dict[str, Any]:
    if query.status:
        qs = qs.filter(status=query.status)
    if query.before is not None:
        qs = qs.filter(id__lt=query.before)
    rows = list(qs[:query.limit + 1])
    page = rows[:query.limit]
    return {"items": [topic_out(t) for t in page],
            "next_before": page[-1].pk if len(rows) > query.limit else None}


# --- residents ------------------------------------------------------------------------------------


@router.get("/topics", response=TopicPageOut)
@for_self
def topics(request: HttpRequest, query: Query[TopicsQuery]):
    """Topics of my community and the regions above it, newest first; pass ``next_before``
    back as ``before``."""
    return _page(deliberation.topics_for(request.user), query)


@router.post("/topics", response={201: TopicDetailOut})
@for_self
@idempotent
def propose(request: HttpRequest, data: ProposeIn):
    """Propose a topic for my community (or ``region_id``, a region above it). Refusals:
    ``not_eligible``, ``sensitive_words``, ``throttled``."""
    topic = deliberation.propose_topic(actor=request.user, **data.model_dump())
    return Status(201, detail_out(request, deliberation.get_topic(topic.pk)))


@router.get("/topics/{topic_id}", auth=None, response=TopicDetailOut)
@public
def topic(request: HttpRequest, topic_id: int):
    """A topic (public): its result once closed (or live where the region shows it), the
    decision and follow-ups; for a signed-in resident, their vote and support."""
    optional_user(request)
    return detail_out(request, deliberation.visible_topic(topic_id))


@router.get("/topics/{topic_id}/comments", auth=None, response=list[CommentOut])
@public
def topic_comments(request: HttpRequest, topic_id: int):
    deliberation.visible_topic(topic_id)
    return [comment_out(c) for c in deliberation.comments(topic_id)[:500]]


@router.post("/topics/{topic_id}/comments", response={201: CommentOut})
@for_self
@idempotent
def add_comment(request: HttpRequest, topic_id: int, data: CommentIn):
    """Join the discussion (eligible residents and the region's staff; proposed or open
    topics). Refusals: ``not_eligible``, ``discussion_closed``, ``sensitive_words``,
    ``throttled``."""
    row = deliberation.comment(actor=request.user, topic_id=topic_id, text=data.text)
    return Status(201, comment_out(deliberation.comments(topic_id).get(pk=row.pk)))


@router.post("/topics/{topic_id}/support", response={201: TopicOut})
@for_self
@idempotent
def support(request: HttpRequest, topic_id: int):
    """Back a proposal (once: ``already_supported``)."""
    deliberation.support(actor=request.user, topic_id=topic_id)
    return Status(201, topic_out(deliberation.get_topic(topic_id)))


@router.put("/topics/{topic_id}/vote", response=VoteOut)
@for_self
@idempotent
def vote(request: HttpRequest, topic_id: int, data: VoteIn):
    """Vote ``support`` / ``oppose`` / ``abstain``, or change my vote, until the vote closes.
    ``for_user_id``: for a resident I act for, where the region allows proxy votes. Refusals:
    ``vote_closed``, ``not_eligible``, ``invalid_choice``, ``proxy_vote_not_allowed``,
    ``proxy_not_authorised``."""
    row = deliberation.vote(actor=request.user, topic_id=topic_id, choice=data.choice,
                            for_user_id=data.for_user_id)
    return {"topic_id": row.topic_id, "user_id": row.user_id, "choice": row.choice,
            "acted_by_id": row.acted_by_id, "updated_at": row.updated_at}


# --- staff ------------------------------------------------------------------------------------------


@router.get("/console/topics", response=TopicPageOut)
@scoped(Perm.DELIBERATION_MANAGE)
def staff_topics(request: HttpRequest, query: Query[StaffTopicsQuery]):
    """Topics of my subtree (optionally one region's), newest first."""
    qs = deliberation.topics_in_scope(access_for(request)).order_by("-id")
    if query.region is not None:
        region = Region.objects.filter(pk=query.region).first()
        qs = qs.filter(subtree_q(region.path, "region")) if region else qs.none()
    return _page(qs, query)


def _staff_detail(request: HttpRequest, topic_id: int) -> dict[str, Any]:
    return detail_out(request, deliberation.staff_topic(request.user, topic_id), staff=True)


@router.post("/console/topics", response={201: TopicDetailOut})
@scoped(Perm.DELIBERATION_MANAGE)
@idempotent
def raise_topic(request: HttpRequest, data: RaiseIn):
    """Raise a topic for a region of my subtree, opened at once (``open_now``) or kept."""
    topic = deliberation.raise_topic(actor=request.user, request=request, **data.model_dump())
    return Status(201, _staff_detail(request, topic.pk))


@router.post("/console/topics/{topic_id}/open", response=TopicDetailOut)
@scoped(Perm.DELIBERATION_MANAGE)
@idempotent
def open_topic(request: HttpRequest, topic_id: int, data: OpenIn):
    """Open for discussion and vote (a resident's proposal once it has its supporters:
    ``support_threshold_not_reached``); the region's residents are told."""
    deliberation.open_topic(actor=request.user, topic_id=topic_id,
                            vote_closes_at=data.vote_closes_at, request=request)
    return _staff_detail(request, topic_id)


@router.post("/console/topics/{topic_id}/close", response=TopicDetailOut)
@scoped(Perm.DELIBERATION_MANAGE)
@idempotent
def close_topic(request: HttpRequest, topic_id: int):
    """Close the vote: the result is frozen."""
    deliberation.close_topic(actor=request.user, topic_id=topic_id, request=request)
    return _staff_detail(request, topic_id)


@router.post("/console/topics/{topic_id}/decision", response=TopicDetailOut)
@scoped(Perm.DELIBERATION_MANAGE)
@idempotent
def decide(request: HttpRequest, topic_id: int, data: DecisionIn):
    deliberation.decide(actor=request.user, topic_id=topic_id, decision=data.decision,
                        request=request)
    return _staff_detail(request, topic_id)


@router.post("/console/topics/{topic_id}/follow-ups", response={201: TopicDetailOut})
@scoped(Perm.DELIBERATION_MANAGE)
@idempotent
def follow_up(request: HttpRequest, topic_id: int, data: FollowUpIn):
    deliberation.add_follow_up(actor=request.user, topic_id=topic_id, text=data.text,
                               request=request)
    return Status(201, _staff_detail(request, topic_id))


@router.post("/console/topics/{topic_id}/withdraw", response=TopicDetailOut)
@scoped(Perm.DELIBERATION_MANAGE)
@idempotent
def withdraw(request: HttpRequest, topic_id: int, data: WithdrawIn):
    deliberation.withdraw(actor=request.user, topic_id=topic_id, reason=data.reason,
                          request=request)
    return _staff_detail(request, topic_id)


@router.put("/console/regions/{region_id}/deliberation-rule", response=RuleOut)
@scoped(Perm.DELIBERATION_MANAGE)
def set_rule(request: HttpRequest, region_id: int, data: RuleIn):
    """Supporters a resident's proposal needs in this region's subtree, and whether running
    counts are shown while a vote is open."""
    rule = deliberation.set_rule(actor=request.user, region_id=region_id, request=request,
                                 **data.model_dump())
    return {"region_id": rule.region_id, "support_threshold": rule.support_threshold,
            "show_results_live": rule.show_results_live}
