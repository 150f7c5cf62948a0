"""Points, the rewards catalogue, merchants and sports-consumption vouchers.

Scarce things are guarded by the database: a balance moves only by a conditional UPDATE that
never takes it below zero (check constraint too); ledger entries are append-only with a unique
idempotency key and corrections are reversal entries; reward stock and a campaign's issued
budget move by conditional UPDATEs; a voucher is redeemed by one conditional UPDATE on its
status. See docs/rewards.md.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel


def new_code() -> str:
    """A one-time code shown as a QR code and typed in at a counter when it cannot be scanned:
    12 characters from an alphabet without look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


# --- points ----------------------------------------------------------------------------------

class RuleKind(models.TextChoices):
    PER_30_MINUTES = "per_30_minutes", _("per 30 verified minutes")
    PER_EVENT = "per_event", _("per event taken part in")
    PER_VOLUNTEER_HOUR = "per_volunteer_hour", _("per volunteer hour")


class PointRule(TimeStampedModel):
    """How residents of a region's subtree earn points (set by city staff)."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE,
                               related_name="point_rules")
    kind = models.CharField(_("kind"), max_length=24, choices=RuleKind.choices)
    points = models.PositiveIntegerField(_("points"))
    daily_cap = models.PositiveIntegerField(_("at most per day"), null=True, blank=True)
    yearly_cap = models.PositiveIntegerField(_("at most per year"), null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "kind"],
                                               name="point_rule_once_per_region")]

    def __str__(self) -> str:
        return f"{self.kind}@{self.region_id}"


class PointBalance(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="point_balance", primary_key=True)
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0),
                                              name="point_balance_never_negative")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class PointEntry(models.Model):
    """One change of a balance. Append-only: a correction is a new entry that reverses one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="point_entries")
    amount = models.IntegerField()  # + earned, − spent or reversed
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=32)  # activity / event / volunteer / order / staff …
    idempotency_key = models.CharField(max_length=128, unique=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    balance_after = models.IntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [models.CheckConstraint(condition=~Q(amount=0),
                                              name="point_entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.amount:+d} {self.reason}"


# --- merchants -------------------------------------------------------------------------------

class MerchantStatus(models.TextChoices):
    PENDING = "pending", _("waiting for review")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    SUSPENDED = "suspended", _("suspended")


class Merchant(TimeStampedModel):
    """A business that fulfils reward orders and redeems vouchers (registered, then reviewed by
    staff of its region). Its staff hold the merchant role on the merchant's region."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="merchants", verbose_name=_("region"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="merchants")
    address = models.CharField(_("address"), max_length=200)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    licence_no = models.CharField(_("business licence number"), max_length=32, blank=True)
    sports = models.ManyToManyField("core.Sport", blank=True, related_name="merchants")
    # The venues it operates (inside its region): where a venue-scoped voucher may be spent.
    facilities = models.ManyToManyField("facilities.Facility", blank=True,
                                        related_name="merchants", verbose_name=_("venues"))
    status = models.CharField(max_length=10, choices=MerchantStatus.choices,
                              default=MerchantStatus.PENDING)
    review_note = models.CharField(max_length=200, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self) -> str:
        return self.name


# --- the catalogue ---------------------------------------------------------------------------

class RewardKind(models.TextChoices):
    GOODS = "goods", _("goods")
    SERVICE = "service", _("service")
    ENTRY = "entry", _("entry or ticket")


class Reward(TimeStampedModel):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="rewards")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="rewards")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=RewardKind.choices)
    description = models.TextField(_("description"), blank=True)
    points_cost = models.PositiveIntegerField(_("points"))
    stock = models.PositiveIntegerField(_("stock"), default=0)
    per_person_limit = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["points_cost", "id"]
        constraints = [models.CheckConstraint(condition=Q(points_cost__gte=1),
                                              name="reward_costs_points")]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be collected")
    FULFILLED = "fulfilled", _("collected")
    CANCELLED = "cancelled", _("cancelled")


class RewardOrder(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="reward_orders")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="orders")
    points = models.PositiveIntegerField()
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    status = models.CharField(max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.PENDING)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"order {self.pk} {self.status}"


# --- sports-consumption vouchers ---------------------------------------------------------------

class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    ACTIVE = "active", _("active")
    CLOSED = "closed", _("closed")


class ClaimMode(models.TextChoices):
    FIRST_COME = "first_come", _("first come, first served")
    LOTTERY = "lottery", _("lottery")


class VoucherCampaign(TimeStampedModel):
    """Vouchers a city or district hands out: a budget of face value, who may claim, when,
    how many, where they can be spent."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="voucher_campaigns")
    name = models.CharField(_("name"), max_length=100)
    budget_cents = models.PositiveBigIntegerField(_("budget (fen)"))
    issued_cents = models.PositiveBigIntegerField(default=0)  # face value handed out so far
    face_value_cents = models.PositiveIntegerField(_("face value (fen)"))
    min_spend_cents = models.PositiveIntegerField(_("minimum spend (fen)"), default=0)
    sports = models.ManyToManyField("core.Sport", blank=True, related_name="+")
    merchants = models.ManyToManyField(Merchant, blank=True, related_name="campaigns")
    # Venues (inside the campaign's region): when any are named, only a merchant operating one
    # of them redeems the campaign's vouchers.
    facilities = models.ManyToManyField("facilities.Facility", blank=True, related_name="+",
                                        verbose_name=_("venues"))
    # Eligibility: {"min_verified_minutes_last_month": 300, "age_min": 60, "age_max": null}
    eligibility = models.JSONField(default=dict, blank=True)
    per_day_limit = models.PositiveSmallIntegerField(null=True, blank=True)
    per_week_limit = models.PositiveSmallIntegerField(null=True, blank=True)
    per_campaign_limit = models.PositiveSmallIntegerField(default=1)
    claim_opens_at = models.DateTimeField()
    claim_closes_at = models.DateTimeField()
    mode = models.CharField(max_length=12, choices=ClaimMode.choices,
                            default=ClaimMode.FIRST_COME)
    draw_at = models.DateTimeField(null=True, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    lottery_seed = models.CharField(max_length=64, blank=True)
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), default=7)
    status = models.CharField(max_length=8, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-claim_opens_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(issued_cents__lte=F("budget_cents")),
                                   name="campaign_never_over_budget"),
            models.CheckConstraint(condition=Q(claim_closes_at__gt=F("claim_opens_at")),
                                   name="campaign_window_order"),
            models.CheckConstraint(condition=Q(face_value_cents__gte=1),
                                   name="campaign_face_value_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("ready to use")
    REDEEMED = "redeemed", _("used")
    EXPIRED = "expired", _("expired")


class Voucher(models.Model):
    campaign = models.ForeignKey(VoucherCampaign, on_delete=models.PROTECT,
                                 related_name="vouchers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="vouchers")
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    face_value_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VoucherStatus.choices,
                              default=VoucherStatus.ISSUED)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="redeemed_vouchers")
    spend_cents = models.PositiveIntegerField(null=True, blank=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["user", "campaign", "issued_at"]),
                   models.Index(fields=["merchant", "redeemed_at"])]

    def __str__(self) -> str:
        return f"voucher {self.pk} {self.status}"


class VoucherEntry(models.Model):
    """An entry to a lottery campaign's draw: one per person."""

    campaign = models.ForeignKey(VoucherCampaign, on_delete=models.CASCADE,
                                 related_name="entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    is_winner = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"],
                                               name="voucher_entry_once")]

    def __str__(self) -> str:
        return f"entry {self.campaign_id}:{self.user_id}"
