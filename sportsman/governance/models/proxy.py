"""Acting for others (代办, 适老化): an elderly resident authorises a family member or a grid
worker (网格员) to report, sign up and answer surveys for them. Every record made that way keeps
both: the resident it is for (its usual user field) and who acted (``acted_by``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel


class Relation(models.TextChoices):
    FAMILY = "family", _("family member")
    GRID_WORKER = "grid_worker", _("grid worker")


class ProxyGrant(TimeStampedModel):
    """``agent`` may act for ``principal`` until revoked. Recorded by the principal themself, or
    by community staff for a resident who came in person (``recorded_by``)."""

    principal = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="proxy_grants_given")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="proxy_grants_held")
    relation = models.CharField(max_length=12, choices=Relation.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "agent"], condition=Q(revoked_at=None),
                                    name="proxy_grant_one_active"),
            models.CheckConstraint(condition=~Q(principal=models.F("agent")),
                                   name="proxy_grant_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} for {self.principal_id}"


class ProxyVoteRule(models.Model):
    """Whether residents of a region's subtree may vote in deliberations through someone acting
    for them. The nearest rule up the tree decides; without one, proxy votes are not allowed."""

    region = models.OneToOneField("regions.Region", on_delete=models.CASCADE, related_name="+")
    allow_proxy_votes = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.region_id}: {self.allow_proxy_votes}"
