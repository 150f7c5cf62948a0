"""My posts (我的发布): a resident publishes a need, an idea or an offer to their community's
feed; residents of that community comment; staff with POST_MODERATE over it answer (an answer
is a comment marked as such, and stamps the post answered). Staff may turn a post into a
deliberation topic (here) or into a report (the reports area creates the report and calls
:func:`mark_turned_into_report`).

Everything residents write passes ``moderation.clean_text`` and the rate limits; staff take
posts and comments down through ``moderation``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.governance import deliberation, moderation
from sportsman.governance.models import CommunityPost, PostComment, PostKind, Topic
from sportsman.regions.access import Access, Perm, access_for_user


class PostNotFound(NotFound):
    code = "post_not_found"
    default_message = gettext_lazy("No such post.")


class NoCommunity(Forbidden):
    code = "no_home_community"
    default_message = gettext_lazy("Choose your home community in your profile first.")


class AlreadyTurned(Conflict):
    code = "post_already_turned"
    default_message = gettext_lazy("This post has already been turned into a topic or report.")


# --- reading --------------------------------------------------------------------------------------


def _live() -> QuerySet[CommunityPost]:
    return (CommunityPost.objects.filter(hidden_at=None, deleted_at=None)
            .select_related("author", "region"))


def feed(user: Any) -> QuerySet[CommunityPost]:
    """The live posts of my home community, newest first (none without one)."""
    home_id = getattr(user, "home_community_id", None)
    if home_id is None:
        return CommunityPost.objects.none()
    return _live().filter(region_id=home_id).order_by("-id")


def mine(user: Any) -> QuerySet[CommunityPost]:
    """My posts, newest first, taken-down ones included (I see why)."""
    return (CommunityPost.objects.filter(author_id=user.pk, deleted_at=None)
            .select_related("author", "region").order_by("-id"))


def visible_post(user: Any, post_id: int) -> CommunityPost:
    """A post I may read: a live one of my community, or one of mine."""
    post = (CommunityPost.objects.select_related("author", "region")
            .filter(pk=post_id, deleted_at=None).first())
    if post is None:
        raise PostNotFound()
    if post.author_id == getattr(user, "pk", None):
        return post
    if post.hidden_at is not None or post.region_id != getattr(user, "home_community_id", None):
        raise PostNotFound()
    return post


def comments(post_id: int) -> QuerySet[PostComment]:
    return (PostComment.objects.filter(post_id=post_id, hidden_at=None)
            .select_related("author").order_by("id"))


def posts_in_scope(access: Access) -> QuerySet[CommunityPost]:
    return access.scope(CommunityPost.objects.filter(deleted_at=None)
                        .select_related("author", "region"), Perm.POST_MODERATE)


def staff_post(actor: Any, post_id: int, *, lock: bool = False) -> CommunityPost:
    qs = posts_in_scope(access_for_user(actor))
    if lock:
        qs = qs.select_for_update(of=("self",))
    post = qs.filter(pk=post_id).first()
    if post is None:
        raise PostNotFound()
    return post


# --- residents --------------------------------------------------------------------------------------


def publish(*, actor: Any, text: str, kind: str = PostKind.NEED) -> CommunityPost:
    """Publish to my home community's feed. Refusals: ``no_home_community``, ``invalid``,
    ``sensitive_words``, ``throttled``."""
    if getattr(actor, "home_community_id", None) is None:
        raise NoCommunity()
    if kind not in PostKind.values:
        raise InvalidInput(code="invalid_kind", fields={"kind": [_("Need, idea or offer.")]})
    text = moderation.clean_text(text, field="text", max_length=1000)
    with transaction.atomic():
        moderation.refuse_too_fast(CommunityPost.objects.filter(author_id=actor.pk),
                                   moderation.POST_LIMITS)
        return CommunityPost.objects.create(region_id=actor.home_community_id, author=actor,
                                            kind=kind, text=text)


def withdraw(*, actor: Any, post_id: int) -> None:
    """The author takes their own post away (kept, no longer shown)."""
    with transaction.atomic():
        post = (CommunityPost.objects.select_for_update()
                .filter(pk=post_id, author_id=actor.pk, deleted_at=None).first())
        if post is None:
            raise PostNotFound()
        CommunityPost.objects.filter(pk=post.pk).update(deleted_at=timezone.now())


def _add_comment(actor: Any, post: CommunityPost, text: str, *, answer: bool) -> PostComment:
    text = moderation.clean_text(text, field="text", max_length=500)
    with transaction.atomic():
        moderation.refuse_too_fast(PostComment.objects.filter(author_id=actor.pk),
                                   moderation.COMMENT_LIMITS)
        row = PostComment.objects.create(post=post, author=actor, text=text, is_answer=answer)
        changes: dict[str, Any] = {"comments": F("comments") + 1, "updated_at": timezone.now()}
        if answer:
            changes["answered_at"] = row.created_at
        CommunityPost.objects.filter(pk=post.pk).update(**changes)
    return row


def comment(*, actor: Any, post_id: int, text: str) -> PostComment:
    """A resident of the post's community (or its author) comments."""
    post = visible_post(actor, post_id)
    if post.hidden_at is not None:
        raise PostNotFound()
    return _add_comment(actor, post, text, answer=False)


# --- staff ------------------------------------------------------------------------------------------


def answer(*, actor: Any, post_id: int, text: str, request: Any = None) -> PostComment:
    """Staff over the post's community answer it (a comment marked as the answer). Audited."""
    with transaction.atomic():
        post = staff_post(actor, post_id)
        if post.hidden_at is not None:
            raise PostNotFound()
        row = _add_comment(actor, post, text, answer=True)
        audit.record(actor=actor, action="governance.post.answer", obj=row, region=post.region,
                     request=request, data={"post": post.pk})
        transaction.on_commit(partial(_tell_author, post.pk, row.pk))
    return row


def _tell_author(post_id: int, comment_id: int) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from sportsman.notifications.services import notify

    post = CommunityPost.objects.filter(pk=post_id).first()
    if post is None:
        return
    notify(users=get_user_model().objects.filter(pk=post.author_id), category="governance",
           title=_("The staff answered your post"), body=post.text[:100],
           link=reverse("governance:post", args=[post.pk]),
           dedupe_key=f"post-answer:{comment_id}", data={"post_id": post.pk})


def turn_into_topic(*, actor: Any, post_id: int, title: str, body: str = "",
                    open_now: bool = False, request: Any = None) -> Topic:
    """Staff turn a post into a deliberation topic of the post's community (they need
    DELIBERATION_MANAGE there too). The post links to the topic; a post is turned once.
    Audited (the topic's raise and the post's turn)."""
    with transaction.atomic():
        post = staff_post(actor, post_id, lock=True)
        if post.topic_id is not None or post.report_id is not None:
            raise AlreadyTurned()
        topic = deliberation.raise_topic(actor=actor, region_id=post.region_id, title=title,
                                         body=body or post.text, open_now=open_now,
                                         request=request)
        now = timezone.now()
        CommunityPost.objects.filter(pk=post.pk).update(topic=topic, turned_at=now,
                                                        updated_at=now)
        audit.record(actor=actor, action="governance.post.to_topic", obj=post,
                     region=post.region, request=request, data={"topic": topic.pk})
    return topic


def mark_turned_into_report(*, post: CommunityPost, report_id: int) -> CommunityPost:
    """Called by the reports area, inside its own transaction, after it created report
    ``report_id`` from ``post`` (its service checked the actor and writes the audit entry).
    Refuses a post already turned (``post_already_turned``) by one conditional UPDATE."""
    now = timezone.now()
    done = CommunityPost.objects.filter(pk=post.pk, report_id=None, topic=None).update(
        report_id=report_id, turned_at=now, updated_at=now)
    if not done:
        raise AlreadyTurned()
    post.report_id, post.turned_at = report_id, now
    return post
