"""Reads of core records, already narrowed to what the actor may see.

The audit log's scope rule (docs/audit.md): an actor holding ``Perm.AUDIT_VIEW`` (city
administrators) sees the entries whose region lies in a subtree they hold it on. Entries with no
region (sign-ins, account deletions, platform jobs) belong to the whole platform: they are shown
only to an actor whose grants cover every top-level region of the tree — in a one-city
deployment, that city's administrators; with several cities side by side, nobody below a grant on
all of them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import AuditEntry
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region, subtree_q


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str | None = None  # exact, or a prefix when it ends with "*" ("view.*")
    kind: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    region_id: int | None = None  # this region and its subtree
    date_from: date | None = None  # inclusive, local (Asia/Shanghai) calendar days
    date_to: date | None = None  # inclusive

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in (None, "")}


def audit_scope_q(access: Access) -> Q | None:
    """The rows of the audit log ``access`` may read; None when it may read none."""
    roots = access.roots(Perm.AUDIT_VIEW)
    if not roots:
        return None
    q = access.region_q(Perm.AUDIT_VIEW, "region")
    top = set(Region.objects.filter(parent__isnull=True).values_list("path", flat=True))
    if top and top <= {g.path for g in roots}:
        q |= Q(region__isnull=True)
    return q


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def list_audit_entries_for(access: Access, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Audit entries visible to ``access`` matching ``filters``, newest first.

    A region filter naming a region outside the actor's scope (or none at all) is NotFound, so
    an empty answer always means "no such entries", never "not yours"."""
    scope = audit_scope_q(access)
    if scope is None:
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.filter(scope)
    if filters.region_id is not None:
        region = Region.objects.filter(pk=filters.region_id).first()
        if region is None or not access.can(Perm.AUDIT_VIEW, region):
            raise NotFound(_("No such region in your scope."))
        qs = qs.filter(subtree_q(region.path, "region"))
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.action:
        if filters.action.endswith("*"):
            qs = qs.filter(action__startswith=filters.action[:-1])
        else:
            qs = qs.filter(action=filters.action)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput(_("The start date is after the end date."),
                           fields={"date_from": [_("The start date is after the end date.")]})
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return qs.select_related("actor", "region").order_by("-at", "-id")


# --- keyset pagination over (at, id), newest first ---------------------------------------------

def encode_cursor(entry: AuditEntry) -> str:
    raw = f"{entry.at.isoformat()}|{entry.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_raw, id_raw = raw.split("|")
        at = datetime.fromisoformat(at_raw)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, int(id_raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(_("The cursor is not valid."), code="invalid_cursor",
                           fields={"cursor": [_("The cursor is not valid.")]}) from exc


def page_of(qs: QuerySet[AuditEntry], *, cursor: str | None,
            limit: int) -> tuple[list[AuditEntry], str | None]:
    """One page after ``cursor`` and the cursor of the next page (None on the last)."""
    if cursor:
        at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
    rows = list(qs[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1])
    return rows, None
