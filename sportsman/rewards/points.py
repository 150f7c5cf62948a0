"""Points: one service moves every balance.

The ledger (``PointEntry``) is append-only: every change is one entry with a reason, a source and a
unique idempotency key, and a correction is a new entry that ``reverses`` one (at most once). The
balance (``PointBalance``) moves only by one conditional UPDATE,
``balance = balance + amount WHERE balance + amount >= 0``, in the same transaction as the entry,
so concurrent spends can never take it below zero and a retried award (same key) changes nothing.
See docs/rewards.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.core.scheduler import LOCAL_TZ
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Level, Region
from sportsman.rewards.models import PointBalance, PointEntry, PointRule, RuleKind


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_message = _("You do not have enough points.")


class AlreadyReversed(Conflict):
    code = "already_reversed"
    default_message = _("This entry has already been reversed.")


class KeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This key was already used for another account's points.")


# Where earned points come from, by rule kind (the ledger's ``source``).
SOURCE_OF_KIND = {RuleKind.PER_30_MINUTES: "activity", RuleKind.PER_EVENT: "event",
                  RuleKind.PER_VOLUNTEER_HOUR: "volunteer"}
SOURCE_LABELS = {"activity": _("verified exercise"), "event": _("event"),
                 "volunteer": _("volunteering"), "order": _("reward order"),
                 "refund": _("order cancelled"), "staff": _("correction by staff"),
                 "reversal": _("correction by staff")}


def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def _user(actor: Any) -> Any:
    if actor is None:
        return None
    return actor.user if isinstance(actor, Access) else actor


def _ensure_balance_row(user_id: int) -> None:
    # Insert-ignore: two first awards racing both "create" it; the loser's insert is a no-op.
    PointBalance.objects.bulk_create([PointBalance(user_id=user_id, balance=0)],
                                     ignore_conflicts=True)


def lock_balance(user_id: int) -> None:
    """Lock ``user_id``'s balance row (made first if missing) until the transaction ends: what
    serialises one person's checks-then-writes (caps, limits, reversals). On SQLite the IMMEDIATE
    transaction already holds the database's write lock."""
    _ensure_balance_row(user_id)
    list(PointBalance.objects.select_for_update().filter(user_id=user_id).values_list("pk"))


def _apply(*, user_id: int, amount: int, reason: str, source: str, idempotency_key: str,
           actor: Any = None, reverses_id: int | None = None) -> tuple[PointEntry, bool]:
    """Move ``user_id``'s balance by ``amount`` and append its entry, once per key. Returns the
    entry and whether it was written now (False: the key existed, nothing changed)."""
    if not idempotency_key or len(idempotency_key) > 128:
        raise InvalidInput(_("An idempotency key of at most 128 characters is required."),
                           fields={"idempotency_key": [_("Required, at most 128 characters.")]})
    if amount == 0:
        raise InvalidInput(_("The amount must not be zero."),
                           fields={"amount": [_("The amount must not be zero.")]})
    existing = PointEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, user_id)
    try:
        with transaction.atomic():
            _ensure_balance_row(user_id)
            # The one conditional UPDATE: it takes the row lock (PostgreSQL) or runs under the
            # IMMEDIATE transaction's write lock (SQLite), so concurrent spends serialise here
            # and a spend that would go below zero matches no row.
            moved = (PointBalance.objects.filter(user_id=user_id, balance__gte=-amount)
                     .update(balance=F("balance") + amount, updated_at=timezone.now()))
            if not moved:
                raise InsufficientPoints()
            after = PointBalance.objects.values_list("balance", flat=True).get(user_id=user_id)
            # A concurrent request with the same key inserts first: this insert then fails on
            # the unique key and the savepoint takes the balance change back with it.
            entry = PointEntry.objects.create(
                user_id=user_id, amount=amount, reason=str(reason)[:200], source=source,
                idempotency_key=idempotency_key, reverses_id=reverses_id, balance_after=after,
                created_by=_user(actor) if _user(actor) is not None
                and _user(actor).is_authenticated else None)
    except IntegrityError:
        existing = PointEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            if reverses_id is not None:
                raise AlreadyReversed() from None
            raise
        return _replayed(existing, user_id)
    return entry, True


def _replayed(existing: PointEntry, user_id: int) -> tuple[PointEntry, bool]:
    if existing.user_id != user_id:
        raise KeyReused()
    return existing, False


def award(*, user_id: int, amount: int, reason: str, source: str, idempotency_key: str,
          actor: Any = None) -> PointEntry:
    """Add ``amount`` (> 0) points to ``user_id``. Retry-safe: a second call with the same
    ``idempotency_key`` returns the first entry and changes nothing (a key used for another user
    is refused, ``idempotency_key_reused``). No permission check: callers are features acting for
    the system (the activity job, events) or staff services that checked already. No side
    effects beyond the ledger and the balance."""
    if amount <= 0:
        raise InvalidInput(_("Points awarded must be a positive number."),
                           fields={"amount": [_("Must be a positive number.")]})
    return _apply(user_id=user_id, amount=amount, reason=reason, source=source,
                  idempotency_key=idempotency_key, actor=actor)[0]


def spend(*, user_id: int, amount: int, reason: str, source: str, idempotency_key: str,
          actor: Any = None) -> PointEntry:
    """Take ``amount`` (> 0) points from ``user_id``: refused with ``insufficient_points`` and
    nothing written when the balance would go below zero, exact under concurrency. Retry-safe by
    ``idempotency_key`` like :func:`award`. No permission check (the caller, e.g. redeeming a
    reward, acts for the user)."""
    if amount <= 0:
        raise InvalidInput(_("Points spent must be a positive number."),
                           fields={"amount": [_("Must be a positive number.")]})
    return _apply(user_id=user_id, amount=-amount, reason=reason, source=source,
                  idempotency_key=idempotency_key, actor=actor)[0]


def reverse(*, entry: PointEntry, reason: str, source: str, actor: Any = None) -> PointEntry:
    """Append the entry that undoes ``entry`` (once: a second reversal is refused,
    ``already_reversed``; a reversal that would take the balance below zero is refused,
    ``insufficient_points``). No permission check: see :func:`reverse_entry` for staff."""
    if entry.reverses_id is not None:
        raise InvalidInput(_("A correction cannot itself be reversed."), code="is_reversal")
    with transaction.atomic():
        # Under the owner's balance lock, a reversal racing another sees it committed and is
        # refused as a repeat (rather than failing on the balance the first one moved).
        lock_balance(entry.user_id)
        if PointEntry.objects.filter(reverses_id=entry.pk).exists():
            raise AlreadyReversed()
        made, created = _apply(user_id=entry.user_id, amount=-entry.amount, reason=reason,
                               source=source, idempotency_key=f"reversal:{entry.pk}",
                               actor=actor, reverses_id=entry.pk)
    if not created:
        raise AlreadyReversed()
    return made


def reverse_entry(*, actor: Any, entry_id: int, reason: str, request: Any = None) -> PointEntry:
    """Staff correct a ledger entry by appending its reversal. Requires ``REWARDS_MANAGE`` over
    the entry's owner's home community (else ``not_found``); a reason is required. Once per entry
    (``already_reversed``); refused if it would take the balance below zero. Audited."""
    access = _access(actor)
    access.require_anywhere(Perm.REWARDS_MANAGE)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give a reason."), fields={"reason": [_("Required.")]})
    entry = PointEntry.objects.select_related("user__home_community").filter(pk=entry_id).first()
    home = entry.user.home_community if entry is not None else None
    if entry is None or not access.can(Perm.REWARDS_MANAGE, home):
        raise NotFound()
    with transaction.atomic():
        made = reverse(entry=entry, reason=reason, source="staff", actor=access.user)
        audit.record(actor=access.user, action="points.reverse", obj=made, region=home,
                     request=request, data={"reverses": entry.pk, "amount": made.amount,
                                            "user_id": entry.user_id, "reason": reason})
    return made


# --- earning rules -----------------------------------------------------------------------------

def set_point_rule(*, actor: Any, region_id: int, kind: str, points: int,
                   daily_cap: int | None = None, yearly_cap: int | None = None,
                   is_active: bool = True, request: Any = None) -> PointRule:
    """Create or change the ``kind`` earning rule of a city. Requires ``REWARDS_MANAGE`` over the
    region (else ``forbidden``/``not_found``); the region must be a city (``not_a_city``); points
    at least 1 and caps, when given, at least the points of one unit. Audited."""
    access = _access(actor)
    access.require_anywhere(Perm.REWARDS_MANAGE)
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access.can(Perm.REWARDS_MANAGE, region):
        raise NotFound()
    if region.level != Level.CITY:
        raise InvalidInput(_("Earning rules are set for a whole city."), code="not_a_city",
                           fields={"region_id": [_("Choose a city.")]})
    if kind not in RuleKind.values:
        raise InvalidInput(_("Unknown kind of rule."), fields={"kind": [_("Unknown kind.")]})
    problems: dict[str, list[Any]] = {}
    if points < 1:
        problems["points"] = [_("Must be at least 1.")]
    for name, cap in (("daily_cap", daily_cap), ("yearly_cap", yearly_cap)):
        if cap is not None and cap < max(points, 1):
            problems[name] = [_("A cap must be at least the points of one unit.")]
    if daily_cap is not None and yearly_cap is not None and yearly_cap < daily_cap:
        problems["yearly_cap"] = [_("The yearly cap must not be below the daily cap.")]
    if problems:
        raise InvalidInput(fields=problems)
    with transaction.atomic():
        rule, created = PointRule.objects.update_or_create(
            region=region, kind=kind,
            defaults={"points": points, "daily_cap": daily_cap, "yearly_cap": yearly_cap,
                      "is_active": is_active})
        audit.record(actor=access.user, action="points.rule.set", obj=rule, region=region,
                     request=request, data={"kind": kind, "points": points,
                                            "daily_cap": daily_cap, "yearly_cap": yearly_cap,
                                            "is_active": is_active, "created": created})
    return rule


def rule_for(*, kind: str, region: Region | None) -> PointRule | None:
    """The active ``kind`` rule that applies in ``region``: the nearest one on the way up to the
    root (rules are set on cities, so that is the region's city)."""
    from sportsman.regions.selectors import nearest_rule

    return nearest_rule(PointRule.objects.filter(kind=kind, is_active=True), region)


def _local_bounds(day: dt.date, *, year: bool = False) -> tuple[dt.datetime, dt.datetime]:
    if year:
        start, end = dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1)
    else:
        start, end = day, day + dt.timedelta(days=1)
    return (dt.datetime.combine(start, dt.time(), LOCAL_TZ),
            dt.datetime.combine(end, dt.time(), LOCAL_TZ))


def _earned(user_id: int, source: str, since: dt.datetime, until: dt.datetime) -> int:
    return PointEntry.objects.filter(
        user_id=user_id, source=source, amount__gt=0, reverses__isnull=True,
        created_at__gte=since, created_at__lt=until).aggregate(s=Sum("amount"))["s"] or 0


@dataclass(frozen=True)
class Capped:
    asked: int
    granted: int


def capped_amount(rule: PointRule, units: int, *, earned_today: int, earned_this_year: int) -> Capped:
    """What ``units`` earn under ``rule``, after its daily and yearly caps."""
    asked = max(units, 0) * rule.points
    granted = asked
    if rule.daily_cap is not None:
        granted = min(granted, max(rule.daily_cap - earned_today, 0))
    if rule.yearly_cap is not None:
        granted = min(granted, max(rule.yearly_cap - earned_this_year, 0))
    return Capped(asked, granted)


def award_for(kind: str, user_id: int, units: int, key: str, *, reason: str = "") -> PointEntry | None:
    """Award ``units`` of ``kind`` (events taken part in, volunteer hours, 30-minute blocks) to
    ``user_id`` under the rule of their home community's city, capped by the rule's daily and
    yearly caps (counted over entries of the same source on today's local day and year).
    Returns the entry, or None when no rule applies, nothing is left under the caps or ``units``
    is not positive. Retry-safe by ``key``. The caps are exact under concurrency: the user's
    balance row is locked before counting. No permission check (features acting for the
    system)."""
    if kind not in RuleKind.values:
        raise InvalidInput(_("Unknown kind of rule."), fields={"kind": [_("Unknown kind.")]})
    if units <= 0:
        return None
    existing = PointEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replayed(existing, user_id)[0]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.select_related("home_community").filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    rule = rule_for(kind=kind, region=user.home_community)
    if rule is None:
        return None
    source = SOURCE_OF_KIND[RuleKind(kind)]
    today = timezone.localtime(timezone.now(), LOCAL_TZ).date()
    with transaction.atomic():
        # Serialise this user's awards so two racing awards cannot both fit under a cap.
        lock_balance(user_id)
        capped = capped_amount(rule, units,
                               earned_today=_earned(user_id, source, *_local_bounds(today)),
                               earned_this_year=_earned(user_id, source,
                                                        *_local_bounds(today, year=True)))
        if capped.granted <= 0:
            return None
        return _apply(user_id=user_id, amount=capped.granted, reason=reason or f"{kind} × {units}",
                      source=source, idempotency_key=key)[0]


# --- reads -------------------------------------------------------------------------------------

def balance_of(user_id: int) -> int:
    return PointBalance.objects.filter(user_id=user_id).values_list("balance", flat=True).first() or 0


def statement(*, user_id: int, before: int | None = None, limit: int = 20) -> list[PointEntry]:
    """``user_id``'s entries newest first, keyset-paginated by id (``before``: the last id seen).
    Ids grow with time, so id order is the order the balance moved in."""
    qs = PointEntry.objects.filter(user_id=user_id).order_by("-id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    return list(qs[:limit])


# --- the daily activity award ------------------------------------------------------------------

def activity_key(user_id: int, day: dt.date) -> str:
    return f"activity:{user_id}:{day.isoformat()}"


def _activity_earned_in_year(user_id: int, year: int) -> int:
    # Counted by the activity day in the key, not by when the job ran: points for 31 December,
    # awarded on 1 January, still count towards the year they were earned in.
    return PointEntry.objects.filter(
        user_id=user_id, source="activity", amount__gt=0,
        idempotency_key__startswith=f"activity:{user_id}:{year:04d}-",
    ).aggregate(s=Sum("amount"))["s"] or 0


def award_activity_day(*, day: dt.date) -> int:
    """Award points for ``day``'s verified minutes (``sportsman.activity`` UserDay rollups, read
    only): per whole 30 verified minutes × the rule's points, under the active per-30-minutes
    rule of the person's city (found from the day's community, else their home community), at
    most the rule's daily cap for the day and what is left of its yearly cap in ``day``'s year.
    Idempotent: the key ``activity:<user>:<day>`` makes a rerun (or a concurrent run) add
    nothing. Returns the number of entries written. No actor (a system job)."""
    from sportsman.activity.models import UserDay

    rules = {r.region_id: r for r in PointRule.objects.filter(kind=RuleKind.PER_30_MINUTES,
                                                             is_active=True)}
    if not rules:
        return 0
    rows = (UserDay.objects.filter(day=day, verified_minutes__gte=30)
            .values_list("user_id", "verified_minutes", "region__path",
                         "user__home_community__path")
            .order_by("user_id"))
    done = set(PointEntry.objects.filter(source="activity", idempotency_key__endswith=
                                         f":{day.isoformat()}")
               .values_list("idempotency_key", flat=True))
    written = 0
    for user_id, minutes, day_path, home_path in rows.iterator(chunk_size=2000):
        key = activity_key(user_id, day)
        if key in done:
            continue
        path = day_path or home_path
        rule = next((rules[int(p)] for p in reversed((path or "").strip("/").split("/"))
                     if p and int(p) in rules), None)
        if rule is None:
            continue
        with transaction.atomic():
            lock_balance(user_id)
            capped = capped_amount(rule, minutes // 30, earned_today=0,
                                   earned_this_year=_activity_earned_in_year(user_id, day.year))
            if capped.granted <= 0:
                continue
            _, created = _apply(user_id=user_id, amount=capped.granted,
                                reason=f"{day.isoformat()}: {minutes} min", source="activity",
                                idempotency_key=key)
        written += created
    return written
