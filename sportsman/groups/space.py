"""The group space: posts with up to nine photos, comments, likes, pinned notices, and its
moderation — the leader and administrators delete and mute, members report to the staff of the
group's region, who uphold (the thing is removed) or dismiss.

Members only; a muted member may read but not write. Everything written passes the
sensitive-word list and the rate limits (counted from the rows already written).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core.audit import record
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.core.throttle import Limit, refuse_over
from sportsman.core.uploads import clean_photo
from sportsman.core.wording import check_text
from sportsman.groups import services
from sportsman.groups.models import (
    ChatMessage,
    Comment,
    Like,
    MemberRole,
    Post,
    PostPhoto,
    Report,
    ReportStatus,
)
from sportsman.regions.access import Perm, access_for_user

MAX_PHOTOS = 9
POST_LIMITS = (Limit(5, timedelta(minutes=1)), Limit(50, timedelta(days=1)))
COMMENT_LIMITS = (Limit(10, timedelta(minutes=1)), Limit(300, timedelta(days=1)))
REPORT_LIMITS = (Limit(20, timedelta(days=1)),)
SLOW_DOWN = gettext_lazy("You are writing very fast. Please wait a moment.")


class PostNotFound(NotFound):
    code = "post_not_found"
    default_message = gettext_lazy("No such post.")


def _writer(actor: Any, group_id: int):
    mine = services.require_member(actor, group_id)
    if services.is_muted(mine):
        raise services.Muted()
    return mine


def posts(group_id: int) -> QuerySet[Post]:
    """The live posts of a group, notices first, then newest first."""
    return (Post.objects.filter(group_id=group_id, deleted_at=None)
            .select_related("author").prefetch_related("photos")
            .order_by("-pinned", "-id"))


def create_post(*, actor: Any, group_id: int, text: str, photos: list[bytes] | None = None,
                notice: bool = False) -> Post:
    """A post in my group (``notice``: pinned, by the leader and administrators only). Photos
    are checked and re-encoded before anything is written; a bad one refuses the whole post."""
    photos = photos or []
    mine = _writer(actor, group_id)
    if notice and mine.role not in services.MANAGERS:
        raise services.NotGroupManager()
    text = check_text(text, field="text", max_length=2000)
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("At most nine photos a post."), code="too_many_photos",
                           fields={"photos": [_("At most nine photos a post.")]})
    jpegs = [clean_photo(p, field="photos") for p in photos]
    now = timezone.now()
    with transaction.atomic():
        refuse_over(Post.objects.filter(author_id=actor.pk), "created_at", POST_LIMITS, now,
                    SLOW_DOWN)
        post = Post.objects.create(group_id=group_id, author=actor, text=text, pinned=notice)
        for i, jpeg in enumerate(jpegs):
            photo = PostPhoto(post=post, position=i)
            photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=False)
            photo.save()
        services.touch(group_id)
    return post


def _live_post(group_id: int, post_id: int, *, lock: bool = False) -> Post:
    qs = Post.objects.filter(pk=post_id, group_id=group_id, deleted_at=None)
    post = (qs.select_for_update() if lock else qs).first()
    if post is None:
        raise PostNotFound()
    return post


def pin(*, actor: Any, group_id: int, post_id: int, pinned: bool) -> Post:
    services.require_member(actor, group_id, manager=True)
    post = _live_post(group_id, post_id)
    Post.objects.filter(pk=post.pk).update(pinned=pinned)
    post.pinned = pinned
    return post


def delete_post(*, actor: Any, group_id: int, post_id: int) -> None:
    """Its author, or the group's leader and administrators, delete a post (kept, hidden)."""
    mine = services.require_member(actor, group_id)
    with transaction.atomic():
        post = _live_post(group_id, post_id, lock=True)
        if post.author_id != actor.pk and mine.role not in services.MANAGERS:
            raise services.NotGroupManager()
        post.deleted_at, post.deleted_by = timezone.now(), actor
        post.save(update_fields=["deleted_at", "deleted_by", "updated_at"])


def comment(*, actor: Any, group_id: int, post_id: int, text: str) -> Comment:
    _writer(actor, group_id)
    text = check_text(text, field="text", max_length=500)
    now = timezone.now()
    with transaction.atomic():
        refuse_over(Comment.objects.filter(author_id=actor.pk), "created_at", COMMENT_LIMITS,
                    now, SLOW_DOWN)
        post = _live_post(group_id, post_id)
        row = Comment.objects.create(post=post, author=actor, text=text)
        Post.objects.filter(pk=post.pk).update(comments=F("comments") + 1)
    return row


def comments(group_id: int, post_id: int) -> QuerySet[Comment]:
    _live_post(group_id, post_id)
    return (Comment.objects.filter(post_id=post_id, deleted_at=None).select_related("author")
            .order_by("id"))


def delete_comment(*, actor: Any, group_id: int, comment_id: int) -> None:
    mine = services.require_member(actor, group_id)
    with transaction.atomic():
        row = (Comment.objects.select_for_update()
               .filter(pk=comment_id, post__group_id=group_id, deleted_at=None).first())
        if row is None:
            raise NotFound(_("No such comment."), code="comment_not_found")
        if row.author_id != actor.pk and mine.role not in services.MANAGERS:
            raise services.NotGroupManager()
        row.deleted_at = timezone.now()
        row.save(update_fields=["deleted_at", "updated_at"])
        Post.objects.filter(pk=row.post_id, comments__gt=0).update(comments=F("comments") - 1)


def like(*, actor: Any, group_id: int, post_id: int, on: bool = True) -> int:
    """Like (or unlike) a post; liking twice counts once. Returns the post's likes."""
    services.require_member(actor, group_id)
    with transaction.atomic():
        post = _live_post(group_id, post_id)
        if on:
            try:
                with transaction.atomic():
                    Like.objects.create(post=post, user=actor)
                Post.objects.filter(pk=post.pk).update(likes=F("likes") + 1)
            except IntegrityError:
                pass  # already liked
        elif Like.objects.filter(post=post, user=actor).delete()[0]:
            Post.objects.filter(pk=post.pk, likes__gt=0).update(likes=F("likes") - 1)
    return Post.objects.filter(pk=post_id).values_list("likes", flat=True).get()


# --- reports to staff ---------------------------------------------------------------------------


def report(*, actor: Any, group_id: int, reason: str, post_id: int | None = None,
           comment_id: int | None = None, message_id: int | None = None) -> Report:
    """A member reports a post, comment or chat message of the group to its region's staff."""
    services.require_member(actor, group_id)
    reason = check_text(reason, field="reason", max_length=200)
    targets = [t for t in (post_id, comment_id, message_id) if t is not None]
    if len(targets) != 1:
        raise InvalidInput(_("Report one post, comment or message."), code="one_target")
    target: dict[str, Any] = {}
    if post_id is not None:
        target["post"] = _live_post(group_id, post_id)
    elif comment_id is not None:
        target["comment"] = Comment.objects.filter(pk=comment_id, post__group_id=group_id,
                                                   deleted_at=None).first()
    elif message_id is not None:
        target["message"] = ChatMessage.objects.filter(pk=message_id, group_id=group_id,
                                                       deleted_at=None).first()
    if None in target.values():
        raise NotFound(_("Nothing to report there."), code="report_target_not_found")
    now = timezone.now()
    with transaction.atomic():
        refuse_over(Report.objects.filter(reporter_id=actor.pk), "created_at", REPORT_LIMITS,
                    now, SLOW_DOWN)
        if Report.objects.filter(reporter=actor, status=ReportStatus.OPEN, **target).exists():
            raise Conflict(_("You have already reported this."), code="already_reported")
        return Report.objects.create(group_id=group_id, reporter=actor, reason=reason, **target)


def reports_in_scope(actor: Any) -> QuerySet[Report]:
    access = access_for_user(actor)
    return access.scope(Report.objects.select_related("group", "post", "comment", "message"),
                        Perm.GROUP_MANAGE, field="group__region")


def handle_report(*, actor: Any, report_id: int, uphold: bool, mute_minutes: int = 0,
                  request: Any = None) -> Report:
    """Staff of the group's region uphold a report (the thing is removed; the author may be
    muted in the group) or dismiss it (audited)."""
    with transaction.atomic():
        row = reports_in_scope(actor).select_for_update(of=("self",)).filter(
            pk=report_id).first()
        if row is None:
            raise NotFound(_("No such report in your scope."), code="report_not_found")
        if row.status != ReportStatus.OPEN:
            raise Conflict(_("This report is already handled."), code="report_handled")
        now = timezone.now()
        author_id = None
        if uphold:
            for thing in (row.post, row.comment, row.message):
                if thing is not None and thing.deleted_at is None:
                    type(thing).objects.filter(pk=thing.pk).update(deleted_at=now)
                    author_id = (thing.sender_id if isinstance(thing, ChatMessage)
                                 else thing.author_id)
            if row.comment is not None and row.comment.deleted_at is None:
                Post.objects.filter(pk=row.comment.post_id, comments__gt=0).update(
                    comments=F("comments") - 1)
            if author_id and mute_minutes:
                from sportsman.groups.models import Membership

                Membership.objects.filter(group_id=row.group_id, user_id=author_id).exclude(
                    role=MemberRole.LEADER).update(muted_until=now + timedelta(minutes=mute_minutes))
        row.status = ReportStatus.UPHELD if uphold else ReportStatus.DISMISSED
        row.handled_by, row.handled_at = actor, now
        row.save(update_fields=["status", "handled_by", "handled_at", "updated_at"])
        record(actor=actor, action="group.report." + ("uphold" if uphold else "dismiss"),
               obj=row, region=row.group.region, request=request,
               data={"group": row.group_id, "mute_minutes": mute_minutes})
    return row
