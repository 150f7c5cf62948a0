"""Staff campaigns: compose with an audience, preview its size, schedule or send, cancel; the
sending job; clicks; figures.

The sending job materialises the audience one chunk of residents at a time (by user id), each
chunk in one transaction that holds the **campaign lock**: it reads the chunk, leaves out who
opted out of the category and who already had ``CAP`` campaign messages in the last
``CAP_WINDOW``, tells the rest through ``services.notify`` (quiet hours defer their external
deliveries there), writes one ``CampaignRecipient`` per resident and moves the campaign's cursor
past the chunk. The lock (a PostgreSQL transaction-level advisory lock; SQLite's write
transactions run one at a time already) makes the cap count and the inserts one step for every
campaign at once, so concurrent campaigns to the same residents cannot both slip under the cap.
A crash loses at most the chunk in flight, which was rolled back: the next run continues after
the cursor, and the unique (campaign, user) keeps anyone from being told twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.notifications import audience
from sportsman.notifications.categories import CATEGORY_SPECS, spec_for
from sportsman.notifications.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Notification,
    RecipientOutcome,
)
from sportsman.notifications.services import enabled_channels, notify
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region

CHUNK = 1000  # residents per materialising transaction
SAMPLE = 5  # residents shown with the preview count
MAX_PAGE = 100
LOCK_KEY = 0x53504341  # pg_advisory_xact_lock key of the campaign lock ("SPCA")

TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SCHEDULED, CampaignStatus.SENDING,
                                     CampaignStatus.CANCELLED}),
    CampaignStatus.SCHEDULED: frozenset({CampaignStatus.SENDING, CampaignStatus.CANCELLED}),
    CampaignStatus.SENDING: frozenset({CampaignStatus.SENT, CampaignStatus.CANCELLED}),
}


def cap() -> int:
    """Campaign messages a resident gets at most in ``cap_window()`` (setting CAMPAIGN_CAP)."""
    return int(getattr(settings, "CAMPAIGN_CAP", 3))


def cap_window() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "CAMPAIGN_CAP_DAYS", 7)))


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    default_message = _("No such campaign in your scope.")


class CampaignState(Conflict):
    code = "campaign_state"
    default_message = _("The campaign cannot go to that state from its current one.")


class CampaignCategory(InvalidInput):
    code = "campaign_category"
    default_message = _("A campaign cannot use this category.")


class CampaignLink(InvalidInput):
    code = "invalid_link"
    default_message = _("A notification link must be a path on this site, starting with /.")


class CampaignSendAt(InvalidInput):
    code = "campaign_send_at"
    default_message = _("A campaign is scheduled for a time ahead, at most 90 days from now.")


# --- reads ------------------------------------------------------------------------------------


def _scoped(access: Access) -> QuerySet[Campaign]:
    return access.scope(Campaign.objects.select_related("region", "created_by"),
                        Perm.CAMPAIGN_SEND)


def campaign_in_scope(access: Access, campaign_id: int) -> Campaign:
    """One campaign of the actor's CAMPAIGN_SEND subtree, else ``campaign_not_found``."""
    access.require_anywhere(Perm.CAMPAIGN_SEND)
    found = _scoped(access).filter(pk=campaign_id).first() if 0 < campaign_id < 2**63 else None
    if found is None:
        raise CampaignNotFound()
    return found


def list_campaigns_for(access: Access, *, region: Region | None = None,
                       status: str | None = None, before: int | None = None,
                       limit: int = 50) -> list[Campaign]:
    """The actor's campaigns, newest first, keyset by id (``before``)."""
    access.require_anywhere(Perm.CAMPAIGN_SEND)
    qs = _scoped(access)
    if region is not None:
        from sportsman.regions.models import subtree_q

        qs = qs.filter(subtree_q(region.path, "region"))
    if status:
        qs = qs.filter(status=status)
    if before:
        qs = qs.filter(id__lt=before)
    return list(qs.order_by("-id")[:max(1, min(limit, MAX_PAGE + 1))])


def _region_in_scope(access: Access, region_id: int) -> Region:
    found = access.regions(Perm.CAMPAIGN_SEND).filter(pk=region_id).first() \
        if 0 < region_id < 2**63 else None
    if found is None:
        raise NotFound(_("No such region in your scope."), code="region_not_found")
    return found


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[dict[str, Any]]


def preview(*, access: Access, region_id: int, spec: Any, request: Any = None) -> Preview:
    """How many residents an audience reaches now (COUNT over the very query the job sends
    to) and a few of them, by nickname and community. The sample is a staff view of residents:
    audited."""
    access.require_anywhere(Perm.CAMPAIGN_SEND)
    region = _region_in_scope(access, region_id)
    users = audience.audience_users(access=access, region=region, spec=audience.clean_spec(spec))
    count = users.count()
    rows = list(users.order_by("pk").values("pk", "nickname", "home_community__name")[:SAMPLE])
    if rows:
        audit.record(actor=access.user, action="campaign.preview", kind="view", region=region,
                     object_type="notifications.campaign", request=request,
                     data={"count": count, "sample": [r["pk"] for r in rows]})
    return Preview(count=count, sample=[
        {"id": r["pk"], "nickname": r["nickname"], "community": r["home_community__name"]}
        for r in rows])


# --- compose, send, cancel ---------------------------------------------------------------------


def _clean_text(title: str, body: str, link: str, category: str) -> tuple[str, str, str]:
    title, body, link = title.strip(), body.strip(), link.strip()
    if not title or len(title) > 200:
        raise InvalidInput(code="invalid_title",
                           fields={"title": [_("A title of 1 to 200 characters is required.")]})
    if len(body) > 2000:
        raise InvalidInput(code="invalid_body", fields={"body": [_("At most 2000 characters.")]})
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link
                 or len(link) > 500):
        raise CampaignLink(fields={"link": [CampaignLink.default_message]})
    if category not in CATEGORY_SPECS or spec_for(category).urgent:
        raise CampaignCategory(fields={"category": [CampaignCategory.default_message]})
    return title, body, link


def create_campaign(*, access: Access, region_id: int, title: str, body: str = "",
                    link: str = "", category: str = "campaign", spec: Any = None,
                    request: Any = None) -> Campaign:
    """A draft campaign on a region of the actor's CAMPAIGN_SEND scope. Its audience is
    checked now (``invalid_audience``) and again, against the sender's scope of the moment,
    when it is sent. Audited."""
    access.require_anywhere(Perm.CAMPAIGN_SEND)
    region = _region_in_scope(access, region_id)
    title, body, link = _clean_text(title, body, link, category)
    cleaned = audience.clean_spec(spec)
    with transaction.atomic():
        campaign = Campaign.objects.create(region=region, title=title, body=body, link=link,
                                           category=category, audience=cleaned,
                                           created_by=access.user)
        audit.record(actor=access.user, action="campaign.create", obj=campaign, region=region,
                     request=request, data={"audience": cleaned})
    return campaign


def _move(campaign: Campaign, to: str, **changes: Any) -> None:
    if to not in TRANSITIONS.get(campaign.status, frozenset()):
        raise CampaignState()
    now = timezone.now()
    done = Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(
        status=to, updated_at=now, **changes)
    if not done:
        raise CampaignState()
    campaign.status = to
    for name, value in changes.items():
        setattr(campaign, name, value)


def send_campaign(*, access: Access, campaign_id: int, send_at: dt.datetime | None = None,
                  request: Any = None) -> Campaign:
    """Send a draft now (``sending``; the job starts after commit) or at ``send_at``
    (``scheduled``; the minute sweep starts it). Only a draft can be sent (``campaign_state``).
    Audited."""
    campaign = campaign_in_scope(access, campaign_id)
    now = timezone.now()
    if send_at is not None and not now < send_at <= now + dt.timedelta(days=90):
        raise CampaignSendAt(fields={"send_at": [CampaignSendAt.default_message]})
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignState()
    with transaction.atomic():
        if send_at is None:
            _move(campaign, CampaignStatus.SENDING, send_at=now, started_at=now)
            transaction.on_commit(partial(_enqueue_run, campaign.pk), robust=True)
        else:
            _move(campaign, CampaignStatus.SCHEDULED, send_at=send_at)
        audit.record(actor=access.user, action="campaign.send", obj=campaign,
                     region=campaign.region, request=request,
                     data={"send_at": campaign.send_at.isoformat() if campaign.send_at else None})
    return campaign


def cancel_campaign(*, access: Access, campaign_id: int, request: Any = None) -> Campaign:
    """Stop a draft, a scheduled or a sending campaign (a sending one stops before its next
    chunk; who was told stays told). Audited."""
    campaign = campaign_in_scope(access, campaign_id)
    with transaction.atomic():
        _move(campaign, CampaignStatus.CANCELLED, cancelled_at=timezone.now())
        audit.record(actor=access.user, action="campaign.cancel", obj=campaign,
                     region=campaign.region, request=request)
    return campaign


def _enqueue_run(campaign_id: int) -> None:
    from sportsman.notifications.tasks import run_campaign_task

    run_campaign_task.enqueue(campaign_id)


# --- the sending job ---------------------------------------------------------------------------


@dataclass
class RunReport:
    chunks: int = 0
    sent: int = 0
    capped: int = 0
    opted_out: int = 0
    status: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"chunks": self.chunks, "sent": self.sent, "capped": self.capped,
                "opted_out": self.opted_out, "status": self.status}


def _lock() -> None:
    """The campaign lock, held to the end of the transaction (see the module docstring)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def click_path(campaign_id: int) -> str:
    return reverse("notifications:campaign_click", args=[campaign_id])


def _capped(user_ids: list[int], now: dt.datetime) -> set[int]:
    if not user_ids:
        return set()
    return set(CampaignRecipient.objects
               .filter(user_id__in=user_ids, outcome=RecipientOutcome.SENT,
                       created_at__gt=now - cap_window())
               .values("user_id").annotate(n=Count("id")).filter(n__gte=cap())
               .values_list("user_id", flat=True))


def _run_chunk(campaign_id: int, report: RunReport, *, link: str,
               stop_after: int | None) -> bool:
    """Materialise the next chunk; False when there is nothing left to do."""
    with transaction.atomic():
        _lock()
        # of=self: created_by is a nullable join, which PostgreSQL refuses to lock.
        campaign = (Campaign.objects.select_for_update(of=("self",))
                    .select_related("region", "created_by")
                    .filter(pk=campaign_id).first())
        if campaign is None or campaign.status != CampaignStatus.SENDING:
            report.status = campaign.status if campaign else ""
            return False
        now = timezone.now()
        sender = campaign.created_by
        access = Access(sender if sender is not None and sender.is_active else None)
        users = audience.audience_users(access=access, region=campaign.region,
                                        spec=campaign.audience)
        rows = list(users.filter(pk__gt=campaign.cursor).order_by("pk")
                    .values_list("pk", "home_community_id")[:CHUNK])
        if not rows:
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT,
                                                           sent_at=now, updated_at=now)
            report.status = CampaignStatus.SENT
            return False
        ids = [uid for uid, _c in rows]
        community = dict(rows)
        channels = enabled_channels(ids, campaign.category)
        opted_out = {uid for uid in ids if not channels[uid]}
        capped = _capped([uid for uid in ids if uid not in opted_out], now)
        to_send = [uid for uid in ids if uid not in opted_out and uid not in capped]
        key = f"campaign:{campaign.pk}"
        if to_send:
            notify(users=get_user_model().objects.filter(pk__in=to_send),
                   category=campaign.category, title=campaign.title, body=campaign.body,
                   link=link if campaign.link else "",
                   data={"campaign": campaign.pk}, dedupe_key=key)
        notes = dict(Notification.objects.filter(user_id__in=to_send, dedupe_key=key)
                     .values_list("user_id", "id"))

        def outcome(uid: int) -> str:
            if uid in opted_out:
                return RecipientOutcome.OPTED_OUT
            return RecipientOutcome.CAPPED if uid in capped else RecipientOutcome.SENT

        CampaignRecipient.objects.bulk_create(
            [CampaignRecipient(campaign_id=campaign.pk, user_id=uid, outcome=outcome(uid),
                               notification_id=notes.get(uid), community_id=community[uid],
                               created_at=now) for uid in ids],
            batch_size=CHUNK, ignore_conflicts=True)
        Campaign.objects.filter(pk=campaign.pk).update(
            cursor=ids[-1], audience_count=F("audience_count") + len(ids),
            sent_count=F("sent_count") + len(to_send), capped_count=F("capped_count") + len(capped),
            opted_out_count=F("opted_out_count") + len(opted_out), updated_at=now)
        report.chunks += 1
        report.sent += len(to_send)
        report.capped += len(capped)
        report.opted_out += len(opted_out)
        return stop_after is None or report.chunks < stop_after


def run_campaign(campaign_id: int, *, stop_after: int | None = None) -> RunReport:
    """Send what is left of a ``sending`` campaign, chunk by chunk, then mark it ``sent``.
    Safe to run any number of times, also at once on several workers (each chunk is taken
    under the campaign lock, after the cursor). ``stop_after`` chunks: for tests of a crash."""
    report = RunReport()
    link = click_path(campaign_id)  # once: reverse() is slow next to a chunk's inserts
    while _run_chunk(campaign_id, report, link=link, stop_after=stop_after):
        pass
    return report


def start_due(now: dt.datetime | None = None) -> list[int]:
    """Scheduled campaigns whose time has come move to ``sending``; returns every campaign
    still sending (new ones and any a crashed job left), for the sweep to run."""
    now = now or timezone.now()
    Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now).update(
        status=CampaignStatus.SENDING, started_at=now, updated_at=now)
    return list(Campaign.objects.filter(status=CampaignStatus.SENDING).order_by("id")
                .values_list("id", flat=True)[:100])


# --- clicks and figures -----------------------------------------------------------------------


def record_click(*, user: Any, campaign_id: int) -> str:
    """A resident opened a campaign's link: stamp the first click, mark the inbox item read,
    and answer where to go — the campaign's link if it is a path on this site (checked again
    here, not only when composed), else the inbox. A user the campaign did not reach gets
    ``not_found``."""
    if not 0 < campaign_id < 2**63:
        raise NotFound()
    row = (CampaignRecipient.objects.select_related("campaign")
           .filter(campaign_id=campaign_id, user_id=user.pk, outcome=RecipientOutcome.SENT)
           .first())
    if row is None:
        raise NotFound()
    now = timezone.now()
    with transaction.atomic():
        CampaignRecipient.objects.filter(pk=row.pk, clicked_at__isnull=True).update(
            clicked_at=now)
        if row.notification_id:
            Notification.objects.filter(pk=row.notification_id, read_at__isnull=True).update(
                read_at=now)
    link = row.campaign.link
    if (link.startswith("/") and not link.startswith("//")
            and url_has_allowed_host_and_scheme(link, allowed_hosts=None)):
        return link
    return reverse("notifications:inbox")


@dataclass(frozen=True)
class Figures:
    audience: int
    sent: int
    capped: int
    opted_out: int
    read: int
    clicked: int


@dataclass
class _Tally:
    read: int = 0
    clicked: int = 0


def figures_of(campaigns: list[Campaign]) -> dict[int, Figures]:
    """Per campaign: who was in the audience, sent, capped, opted out (the job's counts), read
    and clicked (from the recipients and their inbox rows) — one query for the whole list."""
    tallies: dict[int, _Tally] = {c.pk: _Tally() for c in campaigns}
    rows = (CampaignRecipient.objects.filter(campaign_id__in=list(tallies),
                                             outcome=RecipientOutcome.SENT)
            .values("campaign_id")
            .annotate(read=Count("id", filter=Q(notification__read_at__isnull=False)),
                      clicked=Count("id", filter=Q(clicked_at__isnull=False))))
    for r in rows:
        tallies[r["campaign_id"]] = _Tally(read=r["read"], clicked=r["clicked"])
    return {c.pk: Figures(audience=c.audience_count, sent=c.sent_count, capped=c.capped_count,
                          opted_out=c.opted_out_count, read=tallies[c.pk].read,
                          clicked=tallies[c.pk].clicked) for c in campaigns}


def recipients_sent(campaign: Campaign) -> Iterator[int]:
    """User ids the campaign was sent to (tests, support)."""
    yield from (CampaignRecipient.objects.filter(campaign=campaign,
                                                 outcome=RecipientOutcome.SENT)
                .order_by("user_id").values_list("user_id", flat=True))


__all__ = [
    "TRANSITIONS",
    "Figures",
    "Preview",
    "RunReport",
    "campaign_in_scope",
    "cancel_campaign",
    "cap",
    "cap_window",
    "click_path",
    "create_campaign",
    "figures_of",
    "list_campaigns_for",
    "preview",
    "recipients_sent",
    "record_click",
    "run_campaign",
    "send_campaign",
    "start_due",
]
