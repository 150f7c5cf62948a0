"""Sports-consumption vouchers (体育消费券): campaigns, eligibility, claims, lottery draws and
redemption at a merchant's counter.

Two scarce things are guarded by the database, never by a read-modify-write:

- a campaign's budget: every voucher is issued after ONE conditional UPDATE
  ``issued_cents = issued_cents + face WHERE issued_cents + face <= budget_cents AND
  status = 'active'`` (and a check constraint), so a campaign never hands out more than its
  budget, however many people claim at once;
- a voucher's use: redemption is ONE conditional UPDATE ``status issued → redeemed``, so a voucher
  is redeemed at most once, however many counters scan it at once.

A person's limits (per day, per week, per campaign) are counted under a lock on the person's user
row (``select_for_update``; on SQLite every write transaction is ``BEGIN IMMEDIATE``, which
serialises writers), so one person's concurrent claims never exceed them.

An expired voucher does NOT return its face value to the budget: the budget counts what was handed
out, and a closed or exhausted campaign does not reopen because vouchers lapsed.

Eligibility (``VoucherCampaign.eligibility``, every key optional):

- always: the person's home community lies in the campaign region's subtree;
- ``min_verified_minutes_last_month``: at least this many verified minutes in the previous local
  calendar month (sum of ``activity.UserDay.verified_minutes``);
- ``age_min`` / ``age_max``: age this year (local year − birth year) inside the band; a person
  without a birth year is not eligible for a campaign with an age band.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit, lottery
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region, subtree_q
from sportsman.rewards.models import (
    CampaignStatus,
    ClaimMode,
    Merchant,
    MerchantStatus,
    Voucher,
    VoucherCampaign,
    VoucherEntry,
    VoucherStatus,
)

ELIGIBILITY_KEYS = ("min_verified_minutes_last_month", "age_min", "age_max")
CAMPAIGN_LEVELS = ("city", "district")
MAX_BUDGET_CENTS = 10**12  # ¥10 billion: far above any real campaign, far below the column
MAX_FACE_CENTS = 100_000_00
MAX_SPEND_CENTS = 1_000_000_00  # one counter transaction at most ¥1,000,000


# --- errors ------------------------------------------------------------------------------------


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    default_message = _("This voucher campaign does not exist.")


class CampaignExhausted(Conflict):
    code = "campaign_exhausted"
    default_message = _("All vouchers of this campaign have been handed out.")


class OverLimit(Conflict):
    code = "over_limit"
    default_message = _("You have already claimed as many vouchers as this campaign allows.")


class NotEligible(Forbidden):
    code = "not_eligible"
    default_message = _("You are not eligible for this campaign.")


class OutsideWindow(InvalidInput):
    code = "outside_window"
    default_message = _("Vouchers of this campaign cannot be claimed now.")


class CampaignClosed(Conflict):
    code = "campaign_closed"
    default_message = _("This campaign has closed.")


class WrongMode(InvalidInput):
    code = "wrong_mode"


class AlreadyEntered(Conflict):
    code = "already_entered"
    default_message = _("You have already entered this draw.")


class CampaignState(Conflict):
    code = "campaign_state"
    default_message = _("The campaign cannot do this in its current state.")


class UnknownCode(NotFound):
    code = "unknown_code"
    default_message = _("No voucher has this code.")


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"
    default_message = _("This voucher has already been used.")


class VoucherExpired(Conflict):
    code = "voucher_expired"
    default_message = _("This voucher has expired.")


class BelowMinSpend(InvalidInput):
    code = "below_min_spend"


class WrongMerchant(Forbidden):
    code = "wrong_merchant"
    default_message = _("This voucher cannot be used at this merchant.")


class VenueNotCovered(Forbidden):
    code = "venue_not_covered"
    default_message = _("This voucher can only be used by merchants at the campaign's venues.")


class SportNotCovered(Forbidden):
    code = "sport_not_covered"
    default_message = _("This voucher does not cover the sports this merchant offers.")


class ChooseMerchant(InvalidInput):
    code = "choose_merchant"
    default_message = _("Please choose the merchant you are redeeming for.")


# --- helpers -----------------------------------------------------------------------------------


def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def _field_error(name: str, message: Any, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, fields={name: [message]})


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def last_month_bounds(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """First and last day of the local calendar month before ``now``'s."""
    first_this = _local(now).date().replace(day=1)
    last_prev = first_this - dt.timedelta(days=1)
    return last_prev.replace(day=1), last_prev


def yuan(cents: int) -> str:
    """Fen as a yuan amount for people: 5000 → "50", 12345 → "123.45"."""
    whole, part = divmod(int(cents), 100)
    return f"{whole}" if not part else f"{whole}.{part:02d}"


def remaining_cents(campaign: VoucherCampaign) -> int:
    return max(0, campaign.budget_cents - campaign.issued_cents)


# --- staff: campaigns --------------------------------------------------------------------------


CAMPAIGN_FIELDS = ("name", "budget_cents", "face_value_cents", "min_spend_cents", "eligibility",
                   "per_day_limit", "per_week_limit", "per_campaign_limit", "claim_opens_at",
                   "claim_closes_at", "mode", "draw_at", "valid_days")
# What may still change once a campaign is active: people may already hold its vouchers, so the
# terms they claimed under (face value, minimum spend, eligibility, limits, validity, mode) stay.
ACTIVE_EDITABLE = frozenset({"name", "budget_cents", "claim_closes_at", "draw_at", "merchants",
                             "facilities"})
ACTIVE_EDITABLE_MESSAGE = _("An active campaign can change only its name, budget, closing time, "
                            "draw time, merchants and venues.")


def _validate_eligibility(value: Any) -> dict[str, int | None]:
    if not isinstance(value, dict):
        raise _field_error("eligibility", _("Eligibility must be an object."))
    unknown = sorted(set(value) - set(ELIGIBILITY_KEYS))
    if unknown:
        raise _field_error("eligibility", gettext("Unknown eligibility rule: %(keys)s.")
                           % {"keys": ", ".join(unknown)})
    out: dict[str, int | None] = {}
    for key in ELIGIBILITY_KEYS:
        v = value.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100_000:
            raise _field_error("eligibility", gettext("%(key)s must be a whole number from 0 to "
                                                      "100000.") % {"key": key})
        out[key] = v
    if out.get("age_min") is not None and out.get("age_max") is not None \
            and out["age_min"] > out["age_max"]:  # type: ignore[operator]
        raise _field_error("eligibility", _("The lowest age is above the highest age."))
    return out


def _validate(values: dict[str, Any]) -> None:
    """The rules a whole campaign must satisfy (after an update, on the merged values)."""
    name = (values.get("name") or "").strip()
    if not name:
        raise _field_error("name", _("Please give the campaign a name."))
    values["name"] = name[:100]
    face, budget = values["face_value_cents"], values["budget_cents"]
    if not 1 <= face <= MAX_FACE_CENTS:
        raise _field_error("face_value_cents", _("The face value must be between ¥0.01 and "
                                                 "¥100,000."))
    if not face <= budget <= MAX_BUDGET_CENTS:
        raise _field_error("budget_cents", _("The budget must cover at least one voucher."))
    if not 0 <= values["min_spend_cents"] <= MAX_SPEND_CENTS:
        raise _field_error("min_spend_cents", _("The minimum spend is out of range."))
    for key in ("per_day_limit", "per_week_limit"):
        if values.get(key) is not None and not 1 <= values[key] <= 1000:
            raise _field_error(key, _("A limit must be at least 1."))
    if not 1 <= values["per_campaign_limit"] <= 1000:
        raise _field_error("per_campaign_limit", _("A limit must be at least 1."))
    if not 1 <= values["valid_days"] <= 366:
        raise _field_error("valid_days", _("Vouchers must be valid for 1 to 366 days."))
    opens, closes = values["claim_opens_at"], values["claim_closes_at"]
    if opens is None or closes is None or closes <= opens:
        raise _field_error("claim_closes_at", _("The claim window must close after it opens."))
    if values["mode"] not in ClaimMode.values:
        raise _field_error("mode", _("Unknown claim mode."))
    if values["mode"] == ClaimMode.LOTTERY:
        if values.get("draw_at") is None or values["draw_at"] < closes:
            raise _field_error("draw_at", _("A lottery is drawn at or after the window "
                                            "closes."))
    else:
        values["draw_at"] = None
    values["eligibility"] = _validate_eligibility(values.get("eligibility") or {})


@dataclass(frozen=True)
class Scope:
    """Where a campaign's vouchers may be spent: ids of sports, merchants and venues (facilities);
    None leaves that part as it is, [] means "any"."""

    sports: list[int] | None = None
    merchants: list[int] | None = None
    facilities: list[int] | None = None


def _scope_ids(region: Region, scope: Scope) -> Scope:
    from sportsman.core.models import Sport
    from sportsman.rewards.merchants import venue_ids

    sports, merchants = scope.sports, scope.merchants

    if sports is not None:
        sports = sorted(set(sports))
        if Sport.objects.filter(pk__in=sports).count() != len(sports):
            raise _field_error("sports", _("Unknown sport."))
    if merchants is not None:
        merchants = sorted(set(merchants))
        found = (Merchant.objects.filter(subtree_q(region.path, "region"), pk__in=merchants,
                                         status=MerchantStatus.APPROVED).count())
        if found != len(merchants):
            raise _field_error("merchants", _("Every merchant must be approved and inside the "
                                              "campaign's region."))
    facilities = venue_ids(region, scope.facilities,
                           _("Every venue must lie inside the campaign's region."))
    return Scope(sports=sports, merchants=merchants, facilities=facilities)


def _set_scope(campaign: VoucherCampaign, scope: Scope) -> None:
    if scope.sports is not None:
        campaign.sports.set(scope.sports)
    if scope.merchants is not None:
        campaign.merchants.set(scope.merchants)
    if scope.facilities is not None:
        campaign.facilities.set(scope.facilities)


def get_staff_campaign(access: Access, campaign_id: int, *, lock: bool = False) -> VoucherCampaign:
    """A campaign in the actor's VOUCHER_MANAGE scope; any other looks missing."""
    if not 0 < campaign_id < 2**63:
        raise CampaignNotFound()
    qs = access.scope(VoucherCampaign.objects.select_related("region"), Perm.VOUCHER_MANAGE)
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(pk=campaign_id).first()
    if found is None:
        raise CampaignNotFound()
    return found


def create_campaign(*, actor: Any, region_id: int, values: dict[str, Any],
                    scope: Scope | None = None, request: Any = None) -> VoucherCampaign:
    """Create a draft campaign in a city or district. Requires ``VOUCHER_MANAGE`` over the
    region (else ``forbidden``; an unknown region is ``invalid``). ``values`` holds the fields of
    ``CAMPAIGN_FIELDS`` (money in fen); refuses a budget below one face value, a window that
    closes before it opens, limits below 1, a lottery without a draw time at or after the window,
    unknown eligibility rules, sports that do not exist, merchants that are not approved or lie
    outside the region and venues outside the region. ``scope`` names the sports, merchants and
    venues it is limited to (none: anywhere in the region). Audited
    (``voucher_campaign.create``)."""
    access = _access(actor)
    access.require_anywhere(Perm.VOUCHER_MANAGE)
    region = Region.objects.filter(pk=region_id).first() if 0 < region_id < 2**63 else None
    if region is None:
        raise _field_error("region_id", _("No such region."))
    access.require(Perm.VOUCHER_MANAGE, region)
    if region.level not in CAMPAIGN_LEVELS:
        raise _field_error("region_id", _("A campaign belongs to a city or a district."))
    merged = {"min_spend_cents": 0, "per_campaign_limit": 1, "valid_days": 7,
              "mode": ClaimMode.FIRST_COME, "eligibility": {}, **values}
    missing = [k for k in ("name", "budget_cents", "face_value_cents", "claim_opens_at",
                           "claim_closes_at") if merged.get(k) is None]
    if missing:
        raise InvalidInput(fields={k: [gettext("This field is required.")] for k in missing})
    _validate(merged)
    checked = _scope_ids(region, scope or Scope())
    with transaction.atomic():
        campaign = VoucherCampaign.objects.create(
            region=region, created_by=access.user,
            **{k: merged.get(k) for k in CAMPAIGN_FIELDS})
        _set_scope(campaign, checked)
        audit.record(actor=access.user, action="voucher_campaign.create", obj=campaign,
                     region=region, request=request,
                     data={"budget_cents": campaign.budget_cents,
                           "face_value_cents": campaign.face_value_cents})
    return campaign


def update_campaign(*, actor: Any, campaign_id: int, values: dict[str, Any],
                    scope: Scope | None = None, request: Any = None) -> VoucherCampaign:
    """Change a campaign (only the keys given, and the parts of ``scope`` that are not None). A
    draft may change anything; an active campaign only its name, budget (never below what is
    already issued), closing time, draw time, merchants and venues (``campaign_state``
    otherwise) — people hold vouchers claimed under its terms; a
    closed campaign changes no more. Requires ``VOUCHER_MANAGE`` over its region (else
    ``campaign_not_found``). The row is locked while it changes, so a claim racing a budget cut
    either lands before it (and the cut is checked against it) or sees the new budget. Audited
    (``voucher_campaign.update``) with the changed keys."""
    access = _access(actor)
    access.require_anywhere(Perm.VOUCHER_MANAGE)
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise InvalidInput(fields={k: [gettext("Unknown field.")] for k in sorted(unknown)})
    with transaction.atomic():
        campaign = get_staff_campaign(access, campaign_id, lock=True)
        scope = scope or Scope()
        changing = {k for k, v in values.items() if getattr(campaign, k) != v}
        changing |= {k for k in ("sports", "merchants", "facilities")
                     if getattr(scope, k) is not None}
        if campaign.status == CampaignStatus.CLOSED:
            raise CampaignState(_("A closed campaign cannot be changed."))
        if campaign.status == CampaignStatus.ACTIVE and changing - ACTIVE_EDITABLE:
            raise CampaignState(ACTIVE_EDITABLE_MESSAGE)
        merged = {k: getattr(campaign, k) for k in CAMPAIGN_FIELDS} | values
        _validate(merged)
        if merged["budget_cents"] < campaign.issued_cents:
            raise _field_error("budget_cents", gettext("The budget cannot go below what is "
                                                       "already issued (¥%(issued)s).")
                               % {"issued": yuan(campaign.issued_cents)})
        checked = _scope_ids(campaign.region, scope)
        for key in CAMPAIGN_FIELDS:
            setattr(campaign, key, merged[key])
        campaign.save()
        _set_scope(campaign, checked)
        audit.record(actor=access.user, action="voucher_campaign.update", obj=campaign,
                     region=campaign.region, request=request,
                     data={"changed": sorted(changing)})
    return campaign


def _transition(*, actor: Any, campaign_id: int, to: str, allowed_from: tuple[str, ...],
                request: Any) -> VoucherCampaign:
    access = _access(actor)
    access.require_anywhere(Perm.VOUCHER_MANAGE)
    campaign = get_staff_campaign(access, campaign_id)
    with transaction.atomic():
        moved = (VoucherCampaign.objects.filter(pk=campaign.pk, status__in=allowed_from)
                 .update(status=to, updated_at=timezone.now()))
        if not moved:
            raise CampaignState()
        audit.record(actor=access.user, action=f"voucher_campaign.{to}", obj=campaign,
                     region=campaign.region, request=request)
    campaign.refresh_from_db()
    return campaign


def activate_campaign(*, actor: Any, campaign_id: int, request: Any = None) -> VoucherCampaign:
    """Publish a draft: residents see it and may claim (or enter) inside its window. Requires
    ``VOUCHER_MANAGE`` over its region; only a draft (``campaign_state`` otherwise). Audited."""
    return _transition(actor=actor, campaign_id=campaign_id, to=CampaignStatus.ACTIVE,
                       allowed_from=(CampaignStatus.DRAFT,), request=request)


def close_campaign(*, actor: Any, campaign_id: int, request: Any = None) -> VoucherCampaign:
    """Stop a campaign for good: no more claims, entries or draws. Vouchers already issued stay
    usable until they expire. Requires ``VOUCHER_MANAGE`` over its region; a draft or active
    campaign (``campaign_state`` otherwise). Audited."""
    return _transition(actor=actor, campaign_id=campaign_id, to=CampaignStatus.CLOSED,
                       allowed_from=(CampaignStatus.DRAFT, CampaignStatus.ACTIVE),
                       request=request)


def list_campaigns_for(access: Access) -> QuerySet[VoucherCampaign]:
    """Campaigns in the actor's VOUCHER_MANAGE scope, newest window first."""
    return access.scope(VoucherCampaign.objects.select_related("region"), Perm.VOUCHER_MANAGE)


# --- residents: reading ------------------------------------------------------------------------


def public_campaigns(*, region_id: int | None = None) -> QuerySet[VoucherCampaign]:
    """Active campaigns (anyone may see them); with ``region_id``, those whose region contains
    that region or lies inside it (a district's residents see the city's campaigns too)."""
    qs = (VoucherCampaign.objects.filter(status=CampaignStatus.ACTIVE)
          .select_related("region").order_by("claim_closes_at", "id"))
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first() if 0 < region_id < 2**63 else None
        if region is None:
            return qs.none()
        qs = qs.filter(subtree_q(region.path, "region")
                       | Q(region_id__in=[*region.ancestor_ids, region.pk]))
    return qs


def get_public_campaign(campaign_id: int) -> VoucherCampaign:
    """An active or closed campaign (a draft is staff-only and looks missing)."""
    if not 0 < campaign_id < 2**63:
        raise CampaignNotFound()
    found = (VoucherCampaign.objects.select_related("region")
             .exclude(status=CampaignStatus.DRAFT).filter(pk=campaign_id).first())
    if found is None:
        raise CampaignNotFound()
    return found


@dataclass
class Eligibility:
    ok: bool
    reasons: list[dict[str, str]] = field(default_factory=list)  # [{"code", "message"}]
    minutes_last_month: int | None = None


def _reason(code: str, message: Any) -> dict[str, str]:
    return {"code": code, "message": str(message)}


def verified_minutes(user_id: int, first: dt.date, last: dt.date) -> int:
    from sportsman.activity.models import UserDay

    total = (UserDay.objects.filter(user_id=user_id, day__gte=first, day__lte=last)
             .aggregate(total=Sum("verified_minutes"))["total"])
    return int(total or 0)


def check_eligibility(campaign: VoucherCampaign, user: Any, now: dt.datetime) -> Eligibility:
    """Whether ``user`` meets the campaign's rules at ``now`` (see the module docstring), with
    every reason why not. Does not look at the window, the budget or the person's limits."""
    reasons: list[dict[str, str]] = []
    rules = campaign.eligibility or {}
    home = user.home_community if getattr(user, "home_community_id", None) else None
    if home is None:
        reasons.append(_reason("no_home_community",
                               _("Set your home community in your profile first.")))
    elif not home.path.startswith(campaign.region.path):
        reasons.append(_reason("outside_region", gettext("This campaign is for residents of "
                                                         "%(region)s.")
                               % {"region": campaign.region.name}))
    if rules.get("age_min") is not None or rules.get("age_max") is not None:
        if not user.birth_year:
            reasons.append(_reason("age_unknown",
                                   _("Set your birth year in your profile first.")))
        else:
            age = _local(now).year - user.birth_year
            low, high = rules.get("age_min"), rules.get("age_max")
            if (low is not None and age < low) or (high is not None and age > high):
                reasons.append(_reason("age_band", _age_band_text(low, high)))
    minutes = None
    need = rules.get("min_verified_minutes_last_month")
    if need:
        first, last = last_month_bounds(now)
        minutes = verified_minutes(user.pk, first, last)
        if minutes < need:
            reasons.append(_reason("not_enough_exercise", gettext(
                "You need %(need)s verified minutes of exercise last month; you had "
                "%(had)s.") % {"need": need, "had": minutes}))
    return Eligibility(ok=not reasons, reasons=reasons, minutes_last_month=minutes)


def _age_band_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return gettext("This campaign is for people aged %(low)s to %(high)s.") % {
            "low": low, "high": high}
    if low is not None:
        return gettext("This campaign is for people aged %(low)s or over.") % {"low": low}
    return gettext("This campaign is for people aged %(high)s or under.") % {"high": high}


def eligible(campaign: VoucherCampaign, user: Any,
             now: dt.datetime | None = None) -> tuple[bool, list[dict[str, str]]]:
    """``(ok, reasons)``: the short form of :func:`check_eligibility`."""
    found = check_eligibility(campaign, user, now or timezone.now())
    return found.ok, found.reasons


def my_vouchers(user: Any) -> QuerySet[Voucher]:
    return (Voucher.objects.filter(user_id=user.pk)
            .select_related("campaign", "campaign__region", "merchant"))


def get_own_voucher(user: Any, voucher_id: int) -> Voucher:
    if not 0 < voucher_id < 2**63:
        raise NotFound(code="voucher_not_found")
    found = my_vouchers(user).filter(pk=voucher_id).first()
    if found is None:
        raise NotFound(_("This voucher does not exist."), code="voucher_not_found")
    return found


def voucher_qr_svg(code: str, *, scale: int = 8) -> str:
    """The voucher as an SVG QR code of ``SPV:<code>`` (what the merchant counter scans)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(f"SPV:{code}", error="m").save(out, kind="svg", scale=scale, border=2,
                                              xmldecl=False, svgns=True)
    return out.getvalue().decode()


# --- residents: claiming -----------------------------------------------------------------------


def _claimable(campaign_id: int) -> VoucherCampaign:
    if not 0 < campaign_id < 2**63:
        raise CampaignNotFound()
    campaign = (VoucherCampaign.objects.select_related("region")
                .filter(pk=campaign_id).exclude(status=CampaignStatus.DRAFT).first())
    if campaign is None:
        raise CampaignNotFound()
    if campaign.status == CampaignStatus.CLOSED:
        raise CampaignClosed()
    return campaign


def _check_window(campaign: VoucherCampaign, now: dt.datetime) -> None:
    if now < campaign.claim_opens_at:
        raise OutsideWindow(gettext("Claiming opens at %(when)s.")
                            % {"when": f"{_local(campaign.claim_opens_at):%Y-%m-%d %H:%M}"})
    if now >= campaign.claim_closes_at:
        raise OutsideWindow(_("Claiming for this campaign has ended."))


def _check_eligible(campaign: VoucherCampaign, user: Any, now: dt.datetime) -> None:
    found = check_eligibility(campaign, user, now)
    if not found.ok:
        raise NotEligible(found.reasons[0]["message"],
                          fields={"reasons": [r["code"] for r in found.reasons]})


def _lock_person(user_id: int) -> None:
    """The one lock of a claim: the claimant's user row. Counting their vouchers and inserting
    the new one happen under it, so their concurrent claims queue and each sees the last."""
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk").first()


def _check_limits(campaign: VoucherCampaign, user_id: int, now: dt.datetime) -> None:
    mine = Voucher.objects.filter(campaign_id=campaign.pk, user_id=user_id)
    if mine.count() >= campaign.per_campaign_limit:
        raise OverLimit()
    today = _local(now).date()
    if campaign.per_week_limit is not None:
        monday = today - dt.timedelta(days=today.weekday())
        if mine.filter(issued_at__gte=_local_midnight(monday)).count() \
                >= campaign.per_week_limit:
            raise OverLimit(_("You have claimed as many vouchers of this campaign as allowed "
                              "this week."))
    if campaign.per_day_limit is not None \
            and mine.filter(issued_at__gte=_local_midnight(today)).count() \
            >= campaign.per_day_limit:
        raise OverLimit(_("You have claimed as many vouchers of this campaign as allowed "
                          "today."))


def _take_budget(campaign_id: int, face: int) -> bool:
    """The budget check: one conditional UPDATE, atomic in the database."""
    return bool(VoucherCampaign.objects
                .filter(pk=campaign_id, status=CampaignStatus.ACTIVE,
                        issued_cents__lte=F("budget_cents") - face)
                .update(issued_cents=F("issued_cents") + face))


def _issue(campaign: VoucherCampaign, user_id: int, now: dt.datetime) -> Voucher:
    return Voucher.objects.create(campaign=campaign, user_id=user_id,
                                  face_value_cents=campaign.face_value_cents, issued_at=now,
                                  expires_at=now + dt.timedelta(days=campaign.valid_days))


def claim(*, actor: Any, campaign_id: int, now: dt.datetime | None = None) -> Voucher:
    """Claim one voucher of a first-come campaign for myself. In order: the campaign must be
    active (``campaign_not_found`` for a draft, ``campaign_closed``), first-come (``wrong_mode``),
    inside its window (``outside_window``), the person eligible (``not_eligible``, with every
    reason's code in ``fields.reasons``), under their limits per day / week / campaign
    (``over_limit``, counted under a lock on their user row), and the budget must still hold a
    face value (``campaign_exhausted``: one conditional UPDATE). Returns the issued voucher,
    valid ``valid_days`` from now, with its one-time code. Nothing is written on a refusal.
    The resident's own write: no audit entry."""
    access = _access(actor)
    access.require_login()
    user = access.user
    now = now or timezone.now()
    campaign = _claimable(campaign_id)
    if campaign.mode != ClaimMode.FIRST_COME:
        raise WrongMode(_("This campaign is a lottery: enter the draw instead."))
    _check_window(campaign, now)
    _check_eligible(campaign, user, now)
    with transaction.atomic():
        _lock_person(user.pk)
        _check_limits(campaign, user.pk, now)
        if not _take_budget(campaign.pk, campaign.face_value_cents):
            if VoucherCampaign.objects.filter(pk=campaign.pk,
                                              status=CampaignStatus.CLOSED).exists():
                raise CampaignClosed()
            raise CampaignExhausted()
        return _issue(campaign, user.pk, now)


def enter_draw(*, actor: Any, campaign_id: int, now: dt.datetime | None = None) -> VoucherEntry:
    """Enter a lottery campaign's draw (once per person: ``already_entered``). The campaign must
    be active, a lottery (``wrong_mode``), inside its window and not yet drawn
    (``outside_window``), and the person eligible (``not_eligible``). The resident's own write."""
    access = _access(actor)
    access.require_login()
    now = now or timezone.now()
    campaign = _claimable(campaign_id)
    if campaign.mode != ClaimMode.LOTTERY:
        raise WrongMode(_("This campaign is first come, first served: claim a voucher "
                          "instead."))
    _check_window(campaign, now)
    if campaign.drawn_at is not None:
        raise OutsideWindow(_("This draw has already taken place."))
    _check_eligible(campaign, access.user, now)
    try:
        with transaction.atomic():
            return VoucherEntry.objects.create(campaign=campaign, user_id=access.user.pk)
    except IntegrityError:
        raise AlreadyEntered() from None


def has_entered(user: Any, campaign_id: int) -> bool:
    return VoucherEntry.objects.filter(campaign_id=campaign_id, user_id=user.pk).exists()


def due_draw_ids(now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(VoucherCampaign.objects
                .filter(mode=ClaimMode.LOTTERY, status=CampaignStatus.ACTIVE,
                        drawn_at__isnull=True, draw_at__lte=now)
                .order_by("draw_at", "id").values_list("pk", flat=True)[:100])


def draw(*, campaign_id: int, now: dt.datetime | None = None, seed: str | None = None) -> bool:
    """Draw a lottery campaign whose ``draw_at`` has come, exactly once: a conditional UPDATE on
    ``drawn_at`` (still empty, campaign active) claims the draw and records the seed. Entrants'
    user ids, ascending, are shuffled by :func:`sportsman.core.lottery.shuffled`; in that order each takes a voucher
    while the budget lasts (the same conditional UPDATE as a claim) and is marked a winner; the
    rest are marked not winning. Winners are notified (category "reward") after commit. Returns
    False when nothing was due. Run by the scheduler (system actor: no audit entry)."""
    now = now or timezone.now()
    seed = seed or secrets.token_hex(16)
    with transaction.atomic():
        claimed = (VoucherCampaign.objects
                   .filter(pk=campaign_id, mode=ClaimMode.LOTTERY, status=CampaignStatus.ACTIVE,
                           drawn_at__isnull=True, draw_at__lte=now)
                   .update(drawn_at=now, lottery_seed=seed, updated_at=now))
        if not claimed:
            return False
        campaign = VoucherCampaign.objects.get(pk=campaign_id)
        entrants = list(VoucherEntry.objects.filter(campaign_id=campaign_id)
                        .order_by("user_id").values_list("user_id", flat=True))
        winners: list[int] = []
        for user_id in lottery.shuffled(seed, entrants):
            if not _take_budget(campaign_id, campaign.face_value_cents):
                break
            _issue(campaign, user_id, now)
            winners.append(user_id)
        VoucherEntry.objects.filter(campaign_id=campaign_id, user_id__in=winners
                                    ).update(is_winner=True)
        VoucherEntry.objects.filter(campaign_id=campaign_id, is_winner__isnull=True
                                    ).update(is_winner=False)
        if winners:
            transaction.on_commit(partial(_notify_winners, campaign.pk, campaign.name, winners))
    return True


def _notify_winners(campaign_id: int, name: str, user_ids: list[int]) -> None:
    from sportsman.notifications.services import notify

    notify(users=get_user_model().objects.filter(pk__in=user_ids), category="reward",
           title=gettext("You won a sports voucher: %(name)s") % {"name": name},
           body=gettext("Your voucher is in My vouchers; show its code at the counter."),
           link="/rewards/vouchers/mine/", data={"campaign_id": campaign_id},
           dedupe_key=f"voucher-draw:{campaign_id}")


def draw_record(campaign: VoucherCampaign) -> dict[str, Any]:
    """What anyone needs to check a draw: the seed, the entrants in the order given to
    :func:`sportsman.core.lottery.shuffled`, and the winners."""
    entrants = list(VoucherEntry.objects.filter(campaign_id=campaign.pk)
                    .order_by("user_id").values_list("user_id", "is_winner"))
    return {"drawn_at": campaign.drawn_at, "seed": campaign.lottery_seed,
            "entrants": [uid for uid, _w in entrants],
            "winners": [uid for uid, won in entrants if won]}


def expire_vouchers(now: dt.datetime | None = None) -> int:
    """Issued vouchers past their expiry become expired (one UPDATE). The face value is not
    returned to the budget (see the module docstring). Run by the scheduler."""
    now = now or timezone.now()
    return Voucher.objects.filter(status=VoucherStatus.ISSUED, expires_at__lte=now
                                  ).update(status=VoucherStatus.EXPIRED)


# --- merchants: redeeming ----------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """What the counter typed or scanned, as stored: the ``SPV:`` prefix of the QR code and
    spaces dropped, upper case."""
    code = (code or "").strip().upper().replace(" ", "").replace("-", "")
    return code.removeprefix("SPV:")


def _counter_merchant(access: Access, merchant_id: int | None) -> Merchant:
    from sportsman.rewards.merchants import operable_merchants, require_merchant

    if merchant_id is not None:
        return require_merchant(actor=access, merchant_id=merchant_id)
    mine = operable_merchants(access)
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise Forbidden()
    raise ChooseMerchant()


def merchant_accepts(campaign: VoucherCampaign, merchant: Merchant) -> bool:
    """A campaign's vouchers are spent at its named merchants or, when it names none, at any
    approved merchant inside its region."""
    named = set(campaign.merchants.values_list("pk", flat=True))
    if named:
        return merchant.pk in named
    return merchant.region.path.startswith(campaign.region.path)


def venue_covered(campaign: VoucherCampaign, merchant: Merchant) -> bool:
    """A campaign naming venues is spent only at a merchant operating one of them."""
    named = campaign.facilities.values_list("pk", flat=True)
    return not named.exists() or merchant.facilities.filter(pk__in=named).exists()


def sport_covered(campaign: VoucherCampaign, merchant: Merchant) -> bool:
    campaign_sports = set(campaign.sports.values_list("pk", flat=True))
    merchant_sports = set(merchant.sports.values_list("pk", flat=True))
    return not campaign_sports or not merchant_sports or bool(campaign_sports & merchant_sports)


def redeem(*, actor: Any, code: str, amount_cents: int, merchant_id: int | None = None,
           now: dt.datetime | None = None, request: Any = None) -> Voucher:
    """Redeem a voucher at a merchant's counter against a purchase of ``amount_cents``. The
    actor works the counter of the merchant (``require_merchant``: approved, owned,
    ``MERCHANT_OPERATE`` over its region; without ``merchant_id`` the actor's only merchant, else
    ``choose_merchant``). Refuses an unknown code (``unknown_code``), a used voucher
    (``already_redeemed``), an expired one (``voucher_expired``), a spend below the campaign's
    minimum (``below_min_spend``), a merchant the campaign does not cover (``wrong_merchant``),
    one operating none of the campaign's venues when it names some (``venue_not_covered``) or
    whose sports it does not cover (``sport_not_covered``). The voucher moves issued →
    redeemed by ONE conditional UPDATE: under any concurrency it is redeemed once. Audited
    (``voucher.redeem``)."""
    access = _access(actor)
    access.require_login()
    now = now or timezone.now()
    merchant = _counter_merchant(access, merchant_id)
    if not 0 < amount_cents <= MAX_SPEND_CENTS:
        raise _field_error("amount", _("The amount must be more than zero."))
    normal = normalise_code(code)
    voucher = (Voucher.objects.select_related("campaign", "campaign__region")
               .filter(code=normal).first()) if 0 < len(normal) <= 16 else None
    if voucher is None:
        raise UnknownCode()
    _check_redeemable(voucher, merchant, amount_cents, now)
    with transaction.atomic():
        moved = (Voucher.objects
                 .filter(pk=voucher.pk, status=VoucherStatus.ISSUED, expires_at__gt=now)
                 .update(status=VoucherStatus.REDEEMED, redeemed_at=now, merchant=merchant,
                         spend_cents=amount_cents, redeemed_by=access.user))
        if not moved:
            raise AlreadyRedeemed()
        audit.record(actor=access.user, action="voucher.redeem", obj=voucher,
                     region=merchant.region, request=request,
                     data={"merchant_id": merchant.pk, "campaign_id": voucher.campaign_id,
                           "spend_cents": amount_cents})
        publish("rewards.voucher_redeemed", {
            "voucher_id": voucher.pk, "campaign_id": voucher.campaign_id,
            "merchant_id": merchant.pk, "spend_cents": amount_cents})
    voucher.refresh_from_db()
    return voucher


def _check_redeemable(voucher: Voucher, merchant: Merchant, amount_cents: int,
                      now: dt.datetime) -> None:
    if voucher.status == VoucherStatus.REDEEMED:
        raise AlreadyRedeemed()
    if voucher.status == VoucherStatus.EXPIRED or voucher.expires_at <= now:
        raise VoucherExpired()
    campaign = voucher.campaign
    if not merchant_accepts(campaign, merchant):
        raise WrongMerchant()
    if not venue_covered(campaign, merchant):
        raise VenueNotCovered()
    if not sport_covered(campaign, merchant):
        raise SportNotCovered()
    if amount_cents < campaign.min_spend_cents:
        message = gettext("This voucher needs a spend of at least ¥%(min)s.") % {
            "min": yuan(campaign.min_spend_cents)}
        raise BelowMinSpend(message, fields={"amount": [message]})



# --- reading for pages and the API -------------------------------------------------------------


_YUAN = re.compile(r"^\d{1,10}(\.\d{1,2})?$")


def parse_yuan(value: Any, field_name: str) -> int:
    """A yuan amount typed by a person ("150", "99.5", "128.80") as fen. Amounts are decimal
    strings, never floats: at most two decimals, no sign, no exponent."""
    text = str(value).strip() if isinstance(value, str) else ""
    if not _YUAN.match(text):
        message = gettext("Give an amount in yuan with at most two decimals, e.g. 128.50.")
        raise InvalidInput(message, fields={field_name: [message]})
    whole, _sep, part = text.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


@dataclass
class ClaimStatus:
    """What a person may do with a campaign now, and why not."""

    action: str  # "claim" (first come) or "enter" (lottery)
    window: str  # "not_open" / "open" / "closed"
    eligible: bool
    reasons: list[dict[str, str]]
    claimed: int
    entered: bool
    can_act: bool
    minutes_last_month: int | None


def claim_status(campaign: VoucherCampaign, user: Any, now: dt.datetime | None = None
                 ) -> ClaimStatus:
    """Whether ``user`` can claim (or enter) now: the window, eligibility with its reasons, how
    many they hold, whether they entered, and the budget — the same checks as :func:`claim` and
    :func:`enter_draw`, without writing."""
    now = now or timezone.now()
    found = check_eligibility(campaign, user, now)
    reasons = list(found.reasons)
    window = ("not_open" if now < campaign.claim_opens_at
              else "closed" if now >= campaign.claim_closes_at
              or campaign.status != CampaignStatus.ACTIVE else "open")
    claimed = Voucher.objects.filter(campaign_id=campaign.pk, user_id=user.pk).count()
    lottery = campaign.mode == ClaimMode.LOTTERY
    entered = lottery and has_entered(user, campaign.pk)
    if window == "not_open":
        reasons.append(_reason("outside_window", _("Claiming has not opened yet.")))
    elif window == "closed" or (lottery and campaign.drawn_at is not None):
        reasons.append(_reason("outside_window", _("Claiming has ended.")))
    if lottery and entered:
        reasons.append(_reason("already_entered", AlreadyEntered.default_message))
    if not lottery and claimed >= campaign.per_campaign_limit:
        reasons.append(_reason("over_limit", OverLimit.default_message))
    if not lottery and remaining_cents(campaign) < campaign.face_value_cents:
        reasons.append(_reason("campaign_exhausted", CampaignExhausted.default_message))
    return ClaimStatus(action="enter" if lottery else "claim", window=window, eligible=found.ok,
                       reasons=reasons, claimed=claimed, entered=entered, can_act=not reasons,
                       minutes_last_month=found.minutes_last_month)
