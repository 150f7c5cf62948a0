"""Deliberation (在线议事): a topic raised for a region by its staff, or proposed by a resident
and carried by enough supporters; pushed to the region's residents, discussed, voted on (one
vote per eligible resident, changeable until the vote closes), closed with its result frozen,
decided, and followed up — all of it public."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.governance.models.moderation import Moderated

__all__ = ["Choice", "DeliberationRule", "FollowUp", "Topic", "TopicComment", "TopicStatus",
           "TopicSupport", "Vote"]

DEFAULT_SUPPORT_THRESHOLD = 20


class TopicStatus(models.TextChoices):
    PROPOSED = "proposed", _("gathering support")
    OPEN = "open", _("open for discussion and vote")
    CLOSED = "closed", _("vote closed")
    DECIDED = "decided", _("decided")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Choice(models.TextChoices):
    SUPPORT = "support", _("support")
    OPPOSE = "oppose", _("oppose")
    ABSTAIN = "abstain", _("abstain")


class DeliberationRule(models.Model):
    """A region's rule for its subtree: supporters a resident's proposal needs before staff may
    open it, and whether the vote's running count is shown while it is open. The nearest rule
    up the tree applies; without one, the defaults."""

    region = models.OneToOneField("regions.Region", on_delete=models.CASCADE, related_name="+")
    support_threshold = models.PositiveIntegerField(default=DEFAULT_SUPPORT_THRESHOLD)
    show_results_live = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.region_id}: {self.support_threshold}"


class Topic(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="governance_topics")
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("description"), max_length=4000)
    status = models.CharField(max_length=12, choices=TopicStatus.choices,
                              default=TopicStatus.PROPOSED, db_index=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    # supporters a proposal needs, fixed when it is proposed (a later rule change does not move it)
    support_threshold = models.PositiveIntegerField(default=DEFAULT_SUPPORT_THRESHOLD)
    supporters = models.PositiveIntegerField(default=0)
    threshold_reached_at = models.DateTimeField(null=True, blank=True)
    show_results_live = models.BooleanField(default=False)
    vote_closes_at = models.DateTimeField(null=True, blank=True)  # announced; staff close it
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.CharField(max_length=200, blank=True)
    # residents eligible when it opened, and the result frozen when the vote closed
    eligible_at_open = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    votes_support = models.PositiveIntegerField(default=0)
    votes_oppose = models.PositiveIntegerField(default=0)
    votes_abstain = models.PositiveIntegerField(default=0)
    decision = models.TextField(_("decision"), max_length=4000, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["region", "status", "-id"], name="gov_topic_region_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def votes_total(self) -> int:
        return self.votes_support + self.votes_oppose + self.votes_abstain


class TopicSupport(models.Model):
    """One eligible resident backs a proposal (once)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user"],
                                               name="gov_topic_support_once")]

    def __str__(self) -> str:
        return f"{self.user_id} backs {self.topic_id}"


class Vote(models.Model):
    """One row per resident and topic: changing one's mind UPDATEs it (until the vote closes).
    ``acted_by``: who cast it for the resident (where the region allows proxy votes)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="governance_votes")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="gov_vote_once")]
        indexes = [models.Index(fields=["topic", "choice"], name="gov_vote_topic_choice")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.choice} {self.topic_id}"


class TopicComment(Moderated):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    text = models.TextField(max_length=1000)
    is_staff = models.BooleanField(default=False)  # written by staff of the region
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["topic", "id"], name="gov_topic_comment_order",
                                condition=Q(hidden_at=None))]

    def __str__(self) -> str:
        return f"comment {self.pk}"


class FollowUp(models.Model):
    """What was done after the decision (public), in the order it was recorded."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="follow_ups")
    text = models.TextField(max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"follow-up {self.pk}"
