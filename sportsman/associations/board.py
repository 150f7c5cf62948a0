"""信息发布: staff's notices to the associations of their subtree — venue rental, purchasing,
training, policy — and their acknowledgement.

Who may do what: staff holding ``BOARD_PUBLISH`` over a region publish a notice to the active
associations of its subtree (all of them, or those of some kinds), see who has acknowledged and
who has not, remind those who have not, and withdraw a notice; an association's managers read
the notices addressed to it and acknowledge each once for the association.

Publication writes one ``NoticeRecipient`` per targeted association (bulk) and, after commit,
tells their managers in one batched ``notify()`` (deduplicated per notice). Acknowledgement is
one conditional UPDATE (``acknowledged_at IS NULL``): a repeat, a retried request or two
managers at once acknowledge once, and only the winner moves the notice's counter (F() + 1).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.associations.evaluation import FILE_MAX_BYTES, Upload, manager_ids
from sportsman.associations.models import (
    Association,
    AssociationKind,
    AssociationStatus,
    Notice,
    NoticeKind,
    NoticeRecipient,
    NoticeStatus,
)
from sportsman.associations.selectors import managed_by
from sportsman.core import audit
from sportsman.core.errors import Conflict, NotAuthenticated, NotFound, bad_field
from sportsman.core.uploads import clean_pdf, clean_photo, is_image
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region, subtree_q

REMIND_EVERY_MINUTES = 60


class NoticeNotFound(NotFound):
    code = "notice_not_found"
    default_message = gettext_lazy("No such notice.")


class NoticeWithdrawn(Conflict):
    code = "notice_withdrawn"
    default_message = gettext_lazy("This notice was withdrawn.")


class RemindedRecently(Conflict):
    code = "notice_reminded_recently"
    default_message = gettext_lazy("A reminder went out less than an hour ago.")


def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def _user(actor: Any) -> Any:
    return actor.user if isinstance(actor, Access) else actor


def notices_in_scope(actor: Any) -> QuerySet[Notice]:
    return _access(actor).scope(Notice.objects.select_related("region"), Perm.BOARD_PUBLISH)


def get_notice(actor: Any, notice_id: int) -> Notice:
    found = notices_in_scope(actor).filter(pk=notice_id).first()
    if found is None:
        raise NoticeNotFound()
    return found


def targeted(region: Region, kinds: Sequence[str]) -> QuerySet[Association]:
    """The active associations of ``region``'s subtree, of ``kinds`` (none given: every kind)."""
    qs = Association.objects.filter(subtree_q(region.path, "region"),
                                    status=AssociationStatus.ACTIVE)
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    return qs


def _clean_attachment(upload: Upload) -> tuple[bytes, str]:
    if is_image(upload.content):
        return clean_photo(upload.content, field="attachment"), "jpg"
    return clean_pdf(upload.content, max_bytes=FILE_MAX_BYTES, field="attachment"), "pdf"


def publish_notice(*, actor: Any, region_id: int, kind: str, title: str, body: str,
                   target_kinds: Sequence[str] = (), attachment: Upload | None = None,
                   request: Any = None) -> Notice:
    """Publish a notice to the associations of ``region_id``'s subtree (``BOARD_PUBLISH`` over
    it), optionally only those of ``target_kinds``; an attachment is a PDF or a photo (checked
    by the upload rules). Their managers are told after commit."""
    access = _access(actor)
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise NotFound()
    access.require(Perm.BOARD_PUBLISH, region)
    if kind not in NoticeKind.values:
        raise bad_field("kind", _("Choose what the notice is about."), "invalid_kind")
    kinds = sorted(set(target_kinds))
    if any(k not in AssociationKind.values for k in kinds):
        raise bad_field("target_kinds", _("Unknown association kind."), "invalid_target")
    title, body = (title or "").strip()[:80], (body or "").strip()[:4000]
    if not title:
        raise bad_field("title", _("Give the notice a title."))
    if not body:
        raise bad_field("body", _("Write the notice."))
    cleaned = _clean_attachment(attachment) if attachment is not None else None
    with transaction.atomic():
        now = timezone.now()
        notice = Notice.objects.create(region=region, kind=kind, title=title, body=body,
                                       target_kinds=kinds, published_at=now,
                                       published_by=_user(actor),
                                       attachment_name=(attachment.name[:120]
                                                        if attachment else ""))
        if cleaned is not None:
            notice.attachment.save(f"{uuid.uuid4().hex}.{cleaned[1]}", ContentFile(cleaned[0]),
                                   save=True)
        ids = list(targeted(region, kinds).values_list("pk", flat=True).order_by("pk"))
        NoticeRecipient.objects.bulk_create(
            [NoticeRecipient(notice=notice, association_id=a) for a in ids], batch_size=1000)
        Notice.objects.filter(pk=notice.pk).update(recipients=len(ids))
        notice.recipients = len(ids)
        audit.record(actor=_user(actor), action="associations.notice.publish", obj=notice,
                     region=region, request=request,
                     data={"kind": kind, "recipients": len(ids), "target_kinds": kinds})
        _tell(ids, notice, key=f"associations.notice:{notice.pk}")
    return notice


def withdraw_notice(*, actor: Any, notice_id: int, request: Any = None) -> Notice:
    notice = get_notice(actor, notice_id)
    with transaction.atomic():
        if not Notice.objects.filter(pk=notice.pk, status=NoticeStatus.PUBLISHED).update(
                status=NoticeStatus.WITHDRAWN, updated_at=timezone.now()):
            raise NoticeWithdrawn()
        notice.status = NoticeStatus.WITHDRAWN
        audit.record(actor=_user(actor), action="associations.notice.withdraw", obj=notice,
                     region=notice.region, request=request)
    return notice


def recipients(notice: Notice, *, acknowledged: bool | None = None
               ) -> QuerySet[NoticeRecipient]:
    qs = notice.deliveries.select_related("association__region", "acknowledged_by")
    if acknowledged is not None:
        qs = qs.filter(acknowledged_at__isnull=not acknowledged)
    return qs.order_by("association__region__code", "association__name", "id")


def remind(*, actor: Any, notice_id: int, request: Any = None) -> int:
    """Remind the managers of the associations that have not acknowledged (at most once an
    hour, claimed by one conditional UPDATE). Returns how many associations were reminded."""
    notice = get_notice(actor, notice_id)
    if notice.status != NoticeStatus.PUBLISHED:
        raise NoticeWithdrawn()
    with transaction.atomic():
        now = timezone.now()
        pending = notice.deliveries.filter(acknowledged_at=None)
        recent = now - dt.timedelta(minutes=REMIND_EVERY_MINUTES)
        if notice.deliveries.filter(reminded_at__gt=recent).exists():
            raise RemindedRecently()
        ids = list(pending.values_list("association_id", flat=True))
        pending.update(reminded_at=now)
        Notice.objects.filter(pk=notice.pk).update(reminders=F("reminders") + 1)
        notice.refresh_from_db(fields=["reminders"])
        audit.record(actor=_user(actor), action="associations.notice.remind", obj=notice,
                     region=notice.region, request=request, data={"associations": len(ids)})
        _tell(ids, notice, key=f"associations.notice:{notice.pk}:remind:{notice.reminders}",
              reminder=True)
    return len(ids)


# --- the associations' side ---------------------------------------------------------------------

def inbox_for(user: Any) -> QuerySet[NoticeRecipient]:
    """Notices addressed to the associations ``user`` manages, newest first."""
    if user is None or not user.is_authenticated:
        return NoticeRecipient.objects.none()
    return (NoticeRecipient.objects.select_related("notice", "association")
            .filter(association__in=managed_by(user), notice__status=NoticeStatus.PUBLISHED)
            .order_by("-notice__published_at", "-id"))


def acknowledge(*, actor: Any, recipient_id: int, request: Any = None
                ) -> tuple[NoticeRecipient, bool]:
    """A manager acknowledges a notice for their association. Idempotent: the first call
    stamps it and moves the notice's counter; later ones return it unchanged. Returns the row
    and whether this call acknowledged it."""
    user = _user(actor)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    found = inbox_for(user).filter(pk=recipient_id).first()
    if found is None:
        raise NoticeNotFound()
    with transaction.atomic():
        now = timezone.now()
        won = NoticeRecipient.objects.filter(pk=found.pk, acknowledged_at=None).update(
            acknowledged_at=now, acknowledged_by=user)
        if won:
            Notice.objects.filter(pk=found.notice_id).update(acknowledged=F("acknowledged") + 1)
    found.refresh_from_db(fields=["acknowledged_at", "acknowledged_by"])
    return found, bool(won)


# --- notifications ------------------------------------------------------------------------------

def _tell(association_ids: list[int], notice: Notice, *, key: str,
          reminder: bool = False) -> None:
    if not association_ids:
        return
    from django.urls import reverse

    from sportsman.notifications.categories import Category
    from sportsman.notifications.services import notify

    kind = NoticeKind(notice.kind).label
    title = (_("Reminder: please acknowledge %(title)s") if reminder
             else _("[%(kind)s] %(title)s")) % {"title": notice.title, "kind": kind}
    link = reverse("associations:notices")
    ids = list(association_ids)

    def send() -> None:
        from django.contrib.auth import get_user_model

        users = manager_ids(ids)
        notify(users=get_user_model().objects.filter(pk__in=users).order_by("pk"),
               category=Category.ASSOCIATION, title=str(title)[:120], link=link,
               dedupe_key=key[:100])

    transaction.on_commit(send)
