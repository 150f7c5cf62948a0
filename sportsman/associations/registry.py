"""The registry of associations: the public directory and profiles; an association's own
administrators (members who ``manage`` it) edit its profile, members, officers and
certificates; staff of a region's subtree create, suspend, reinstate and dissolve the
associations of their subtree (ASSOCIATION_MANAGE). Every write is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.associations.models import (
    Association,
    AssociationCertificate,
    AssociationKind,
    AssociationMember,
    AssociationStatus,
    CertificateKind,
    LegalStatus,
    MemberKind,
    Office,
)
from sportsman.associations.selectors import managed_by
from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound, bad_field
from sportsman.core.uploads import PHOTO_MAX_BYTES, clean_pdf, clean_photo, is_image, too_large
from sportsman.regions.access import Perm, access_for_user
from sportsman.regions.models import Region, subtree_q

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024  # a PDF; an image is at most PHOTO_MAX_BYTES
PUBLIC_STATUSES = (AssociationStatus.PREPARING, AssociationStatus.ACTIVE,
                   AssociationStatus.SUSPENDED)
PROFILE_FIELDS = ("description", "address", "contact_name", "contact_phone", "sport_id",
                  "founded_on")


class AssociationNotFound(NotFound):
    code = "association_not_found"
    default_message = gettext_lazy("There is no such association.")


class NameTaken(Conflict):
    code = "association_name_taken"
    default_message = gettext_lazy("An association of this name already exists in the region.")


class StatusNotAllowed(Conflict):
    code = "association_status_not_allowed"
    default_message = gettext_lazy("The association cannot move to this status from its "
                                   "current one.")


# --- documents (certificates, application documents) -------------------------------------------

def clean_document(content: bytes, *, field: str = "file") -> tuple[bytes, str]:
    """A PDF (kept as it is, ≤ 10 MB) or an image (re-encoded JPEG, ≤ 5 MB), decided by the
    bytes: ``file_type`` for anything else, ``file_too_large`` over the cap."""
    if is_image(content):
        if len(content) > PHOTO_MAX_BYTES:
            raise too_large(PHOTO_MAX_BYTES, field)
        return clean_photo(content, field=field), "jpg"
    if len(content) > DOCUMENT_MAX_BYTES:
        raise too_large(DOCUMENT_MAX_BYTES, field)
    if not content.startswith(b"%PDF-"):
        message = _("Send a PDF or an image (JPEG, PNG, WebP).")
        raise InvalidInput(message, code="file_type", fields={field: [message]})
    return clean_pdf(content, max_bytes=DOCUMENT_MAX_BYTES, field=field), "pdf"


# --- reading -----------------------------------------------------------------------------------

def directory(*, region_id: int | None = None, kind: str = "", legal_status: str = "",
              sport_id: int | None = None, q: str = "") -> QuerySet[Association]:
    """The public directory: associations not dissolved, filtered, by name."""
    qs = (Association.objects.filter(status__in=PUBLIC_STATUSES)
          .select_related("region", "sport"))
    if region_id:
        region = Region.objects.filter(pk=region_id).first()
        qs = qs.filter(subtree_q(region.path, "region")) if region else qs.none()
    if kind:
        qs = qs.filter(kind=kind)
    if legal_status:
        qs = qs.filter(legal_status=legal_status)
    if sport_id:
        qs = qs.filter(sport_id=sport_id)
    if q:
        qs = qs.filter(name__icontains=q.strip()[:40])
    return qs.order_by("name", "id")


def public_association(association_id: int) -> Association:
    found = (Association.objects.select_related("region", "sport")
             .filter(pk=association_id, status__in=PUBLIC_STATUSES).first())
    if found is None:
        raise AssociationNotFound()
    return found


def officers(association: Association) -> list[AssociationMember]:
    return list(association.memberships.filter(left_on__isnull=True).exclude(office="")
                .order_by("office", "id"))


def members_of(association: Association) -> QuerySet[AssociationMember]:
    return (association.memberships.filter(left_on__isnull=True)
            .select_related("user").order_by("-manages", "office", "id"))


def managed(actor: Any, association_id: int, *, lock: bool = False) -> Association:
    """An association ``actor`` manages (``association_not_found`` otherwise: whether it exists
    is not told to others)."""
    qs = Association.objects.filter(pk__in=managed_by(actor).values("pk"))
    qs = qs.select_for_update() if lock else qs
    found = qs.select_related("region").filter(pk=association_id).first()
    if found is None:
        raise AssociationNotFound()
    return found


def staff_associations(access: Any, *, region: Region | None = None, status: str = "",
                       q: str = "") -> QuerySet[Association]:
    qs = access.scope(Association.objects.select_related("region", "sport"),
                      Perm.ASSOCIATION_MANAGE)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__icontains=q.strip()[:40])
    return qs.order_by("region__path", "name", "id")


def staff_association(access: Any, association_id: int, *, lock: bool = False) -> Association:
    qs = staff_associations(access).filter(pk=association_id)
    found = (qs.select_for_update(of=("self",)) if lock else qs).first()
    if found is None:
        raise AssociationNotFound()
    return found


# --- the association's own administrators -----------------------------------------------------

def update_profile(*, actor: Any, association_id: int, **changes: Any) -> Association:
    """Edit the profile (description, address, contact, sport, founding date) of an association
    the actor manages. The name, legal status and region change only by an approved change of
    registration (the one window). Audited."""
    clean = _clean_profile(changes)
    with transaction.atomic():
        association = managed(actor, association_id, lock=True)
        return _save_profile(actor, association, clean, "associations.profile.update")


def staff_update_profile(*, actor: Any, association_id: int, **changes: Any) -> Association:
    """The same profile fields edited by staff over the association's region
    (ASSOCIATION_MANAGE; another region's association is ``association_not_found``), e.g. by a
    bulk import (docs/exchange.md). Audited as ``associations.profile.staff_update``."""
    clean = _clean_profile(changes)
    with transaction.atomic():
        association = staff_association(access_for_user(actor), association_id, lock=True)
        return _save_profile(actor, association, clean, "associations.profile.staff_update")


def _save_profile(actor: Any, association: Association, clean: dict[str, Any],
                  action: str) -> Association:
    for name, value in clean.items():
        setattr(association, name, value)
    association.save(update_fields=[*clean, "updated_at"])
    audit.record(actor=actor, action=action, obj=association, region=association.region,
                 data={k: str(v) for k, v in clean.items()})
    return association


def _clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    from sportsman.core.models import Sport
    from sportsman.core.wording import check_text

    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise bad_field(sorted(unknown)[0], _("This field cannot be changed here."), "not_editable")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name == "description":
            clean[name] = check_text(value, field=name, max_length=4000, required=False)
        elif name in ("address", "contact_name"):
            clean[name] = check_text(value, field=name, max_length=120 if name == "address"
                                     else 30, required=False)
        elif name == "contact_phone":
            text = str(value).strip()
            if text and not (7 <= len(text) <= 20 and text.replace("-", "").isdigit()):
                raise bad_field(name, _("Enter a phone number."), "invalid_phone")
            clean[name] = text
        elif name == "sport_id":
            if value and not Sport.objects.filter(pk=value).exists():
                raise bad_field(name, _("Unknown sport."), "invalid_sport")
            clean[name] = value or None
        elif name == "founded_on":
            if value > timezone.localdate():
                raise bad_field(name, _("A date in the future."), "invalid_date")
            clean[name] = value
    return clean


def _member_fields(name: str, office: str, kind: str) -> tuple[str, str, str]:
    from sportsman.core.wording import check_text

    name = check_text(name, field="name", max_length=60)
    if office not in Office.values:
        raise bad_field("office", _("Unknown office."), "invalid_office")
    if kind not in MemberKind.values:
        raise bad_field("kind", _("Unknown kind of member."), "invalid_member_kind")
    return name, office, kind


def add_member(*, actor: Any, association_id: int, name: str, office: str = "",
               kind: str = MemberKind.INDIVIDUAL, user_id: int | None = None,
               manages: bool = False) -> AssociationMember:
    """Add a member (a resident by account, or a unit by name), possibly an officer or one who
    manages the association too; the members counter moves by one UPDATE. Audited."""
    from django.contrib.auth import get_user_model

    name, office, kind = _member_fields(name, office, kind)
    if user_id is not None and not get_user_model().objects.filter(pk=user_id,
                                                                  is_active=True).exists():
        raise bad_field("user_id", _("There is no such resident."), "user_not_found")
    with transaction.atomic():
        association = managed(actor, association_id, lock=True)
        try:
            with transaction.atomic():
                member = AssociationMember.objects.create(
                    association=association, user_id=user_id, kind=kind, name=name,
                    office=office, manages=manages and user_id is not None,
                    joined_on=timezone.localdate())
        except IntegrityError:
            raise Conflict(_("This resident is already a member."),
                           code="already_member") from None
        Association.objects.filter(pk=association.pk).update(members=F("members") + 1)
        audit.record(actor=actor, action="associations.member.add", obj=member,
                     region=association.region, data={"office": office, "manages": manages})
    return member


def update_member(*, actor: Any, association_id: int, member_id: int,
                  office: str | None = None, manages: bool | None = None,
                  leave: bool = False) -> AssociationMember:
    """Change a member's office or management right, or record that they left (the counter
    moves down by one UPDATE). The last manager cannot stop managing or leave
    (``last_manager``). Audited."""
    if office is not None and office not in Office.values:
        raise bad_field("office", _("Unknown office."), "invalid_office")
    with transaction.atomic():
        association = managed(actor, association_id, lock=True)
        member = (AssociationMember.objects.select_for_update()
                  .filter(pk=member_id, association=association, left_on__isnull=True).first())
        if member is None:
            raise NotFound(_("There is no such member."), code="member_not_found")
        stops_managing = member.manages and (leave or manages is False)
        if stops_managing and not association.memberships.filter(
                manages=True, left_on__isnull=True).exclude(pk=member.pk).exists():
            raise Conflict(_("Someone else must manage the association first."),
                           code="last_manager")
        fields = []
        if office is not None:
            member.office = office
            fields.append("office")
        if manages is not None:
            member.manages = manages and member.user_id is not None
            fields.append("manages")
        if leave:
            member.left_on = timezone.localdate()
            member.manages = False
            fields += ["left_on", "manages"]
            Association.objects.filter(pk=association.pk, members__gt=0).update(
                members=F("members") - 1)
        if fields:
            member.save(update_fields=[*set(fields), "updated_at"])
        audit.record(actor=actor, action="associations.member.update", obj=member,
                     region=association.region,
                     data={"office": office, "manages": manages, "leave": leave})
    return member


def add_certificate(*, actor: Any, association_id: int, kind: str, content: bytes,
                    number: str = "", issued_on: dt.date | None = None,
                    valid_until: dt.date | None = None) -> AssociationCertificate:
    """Upload a certificate (a PDF or an image, checked by ``clean_document``). Audited."""
    if kind not in CertificateKind.values:
        raise bad_field("kind", _("Unknown kind of certificate."), "invalid_certificate_kind")
    clean, ext = clean_document(content)
    if issued_on and valid_until and valid_until < issued_on:
        raise bad_field("valid_until", _("It ends before it was issued."), "invalid_date")
    with transaction.atomic():
        association = managed(actor, association_id, lock=True)
        cert = AssociationCertificate(association=association, kind=kind,
                                      number=(number or "").strip()[:40], issued_on=issued_on,
                                      valid_until=valid_until)
        cert.file.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(clean), save=False)
        cert.save()
        audit.record(actor=actor, action="associations.certificate.add", obj=cert,
                     region=association.region, data={"kind": kind})
    return cert


# --- staff of the subtree ----------------------------------------------------------------------

STATUS_MOVES: dict[str, frozenset[str]] = {
    AssociationStatus.PREPARING: frozenset({AssociationStatus.ACTIVE,
                                            AssociationStatus.DISSOLVED}),
    AssociationStatus.ACTIVE: frozenset({AssociationStatus.SUSPENDED,
                                         AssociationStatus.DISSOLVED}),
    AssociationStatus.SUSPENDED: frozenset({AssociationStatus.ACTIVE,
                                            AssociationStatus.DISSOLVED}),
    AssociationStatus.DISSOLVED: frozenset(),
}


def create_association(*, actor: Any, region_id: int, name: str, kind: str,
                       legal_status: str = LegalStatus.GRASSROOTS,
                       status: str = AssociationStatus.ACTIVE, sport_id: int | None = None,
                       credit_code: str = "", manager_user_id: int | None = None,
                       manager_name: str = "") -> Association:
    """Staff put an association of their subtree on the registry (ASSOCIATION_MANAGE over the
    region), optionally with the resident who manages it. Audited."""
    from sportsman.core.wording import check_text

    access = access_for_user(actor)
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access.can(Perm.ASSOCIATION_MANAGE, region):
        access.require_anywhere(Perm.ASSOCIATION_MANAGE)
        raise NotFound(_("There is no such region in your scope."), code="region_not_found")
    name = check_text(name, field="name", max_length=80)
    if any(word in name for word in ("中国", "全国", "中华")) and region.level != "province":
        raise bad_field("name", _("A local association may not be named 中国, 全国 or 中华."),
                   "invalid_name")
    if kind not in AssociationKind.values:
        raise bad_field("kind", _("Unknown kind."), "invalid_kind")
    if legal_status not in LegalStatus.values:
        raise bad_field("legal_status", _("Unknown legal status."), "invalid_legal_status")
    if status not in (AssociationStatus.ACTIVE, AssociationStatus.PREPARING):
        raise bad_field("status", _("Unknown status."), "invalid_status")
    with transaction.atomic():
        try:
            with transaction.atomic():
                association = Association.objects.create(
                    name=name, kind=kind, legal_status=legal_status, status=status,
                    region=region, sport_id=sport_id, credit_code=(credit_code or "").strip(),
                    created_by=actor)
        except IntegrityError:
            raise NameTaken() from None
        if manager_user_id is not None:
            AssociationMember.objects.create(
                association=association, user_id=manager_user_id,
                name=(manager_name or "").strip()[:60] or name[:60], manages=True,
                joined_on=timezone.localdate())
            Association.objects.filter(pk=association.pk).update(members=1)
        audit.record(actor=actor, action="associations.create", obj=association, region=region,
                     data={"kind": kind, "legal_status": legal_status})
    return association


def set_status(*, actor: Any, association_id: int, status: str,
               reason: str = "") -> Association:
    """Suspend, reinstate or dissolve an association of the actor's subtree (one conditional
    UPDATE along ``STATUS_MOVES``; a reason is required to suspend or dissolve). Its managers
    are told. Audited."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.ASSOCIATION_MANAGE)
    if status not in AssociationStatus.values:
        raise bad_field("status", _("Unknown status."), "invalid_status")
    reason = (reason or "").strip()[:500]
    if status in (AssociationStatus.SUSPENDED, AssociationStatus.DISSOLVED) and not reason:
        raise bad_field("reason", _("Say why."), "reason_required")
    now = timezone.now()
    with transaction.atomic():
        association = staff_association(access, association_id, lock=True)
        current = association.status
        if status not in STATUS_MOVES.get(current, frozenset()):
            raise StatusNotAllowed()
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if status == AssociationStatus.DISSOLVED:
            changes["dissolved_at"] = now
        if not Association.objects.filter(pk=association.pk, status=current).update(**changes):
            raise StatusNotAllowed()
        for name, value in changes.items():
            setattr(association, name, value)
        audit.record(actor=actor, action="associations.status", obj=association,
                     region=association.region,
                     data={"from": current, "to": status, "reason": reason})
        tell_managers([association.pk], _("%(name)s is now %(status)s") % {
            "name": association.name, "status": AssociationStatus(status).label},
            body=reason, key=f"associations.status:{association.pk}:{status}:{now.isoformat()}",
            link=f"/associations/{association.pk}/manage/")
    return association


def manager_ids(association_ids: list[int]) -> list[int]:
    return list(AssociationMember.objects.filter(
        association_id__in=association_ids, manages=True, left_on__isnull=True,
        user__isnull=False).values_list("user_id", flat=True).distinct().order_by("user_id"))


def tell_managers(association_ids: list[int], title: str, *, key: str, body: str = "",
                  link: str = "", data: dict | None = None) -> int:
    """Tell the managers of these associations (one batched notification)."""
    from django.contrib.auth import get_user_model

    from sportsman.notifications.categories import Category as Topic
    from sportsman.notifications.services import notify

    users = get_user_model().objects.filter(
        pk__in=AssociationMember.objects.filter(
            association_id__in=association_ids, manages=True, left_on__isnull=True)
        .values("user_id"))
    return notify(users=users, category=Topic.ASSOCIATION, title=title[:200], body=body[:500],
                  link=link, data=data or {}, dedupe_key=key)


def visible_q() -> Q:
    return Q(status__in=PUBLIC_STATUSES)
