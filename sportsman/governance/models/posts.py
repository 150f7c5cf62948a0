"""My posts (我的发布): residents publish needs, ideas and offers to their community; others
comment, staff answer; staff may turn a post into a report or a deliberation topic. The
moderation tables live beside (they serve every governance area)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.governance.models.moderation import ContentFlag, FlagStatus, Moderated

__all__ = ["CommunityPost", "ContentFlag", "FlagStatus", "PostComment", "PostKind"]


class PostKind(models.TextChoices):
    NEED = "need", _("need")
    IDEA = "idea", _("idea")
    OFFER = "offer", _("offer")


class CommunityPost(Moderated):
    # the author's home community when posted: whose feed it is in, whose staff answer it
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="governance_posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="governance_posts")
    kind = models.CharField(max_length=8, choices=PostKind.choices, default=PostKind.NEED)
    text = models.TextField(max_length=1000)
    comments = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    # set by the reports area when staff turn the post into a report (no FK: another area)
    report_id = models.PositiveBigIntegerField(null=True, blank=True)
    topic = models.ForeignKey("governance.Topic", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="source_posts")
    turned_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # withdrawn by its author
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["region", "-id"], name="gov_post_feed",
                                condition=Q(hidden_at=None, deleted_at=None)),
                   models.Index(fields=["author", "-id"], name="gov_post_author")]

    def __str__(self) -> str:
        return f"post {self.pk}"


class PostComment(Moderated):
    post = models.ForeignKey(CommunityPost, on_delete=models.CASCADE, related_name="comment_rows")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    text = models.TextField(max_length=500)
    is_answer = models.BooleanField(default=False)  # staff's answer
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["post", "id"], name="gov_post_comment_order")]

    def __str__(self) -> str:
        return f"post comment {self.pk}"
