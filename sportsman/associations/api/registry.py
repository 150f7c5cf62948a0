"""The registry of associations: the public directory and profiles; an association's managers
edit its profile, members, officers and certificates; staff manage the associations of their
subtree (create, suspend, reinstate, dissolve)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.associations import registry
from sportsman.associations.models import Association, AssociationCertificate, AssociationMember
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions.access import Perm, access_for, for_self, public, scoped

router = Router(tags=["associations"])


class AssociationOut(Schema):
    id: int
    name: str
    legal_status: str
    legal_status_name: str
    kind: str
    kind_name: str
    status: str
    status_name: str
    region_id: int
    region: str
    level: str
    sport: str
    members: int
    grade: str


class OfficerOut(Schema):
    name: str
    office: str
    office_name: str


class CertificateOut(Schema):
    id: int
    kind: str
    number: str
    issued_on: dt.date | None
    valid_until: dt.date | None


class ProfileOut(AssociationOut):
    credit_code: str
    founded_on: dt.date | None
    address: str
    contact_name: str
    contact_phone: str
    description: str
    officers: list[OfficerOut]
    certificates: list[CertificateOut]
    can_manage: bool


class DirectoryOut(Schema):
    items: list[AssociationOut]
    total: int
    page: int
    pages: int


class DirectoryQuery(Schema):
    region_id: int | None = Field(None, ge=1, lt=2**63)
    kind: str = Field("", max_length=12)
    legal_status: str = Field("", max_length=12)
    sport_id: int | None = Field(None, ge=1, lt=2**63)
    q: str = Field("", max_length=40)
    page: int = Field(1, ge=1, le=10_000)
    limit: int = Field(20, ge=1, le=100)


class ProfileIn(In):
    description: str | None = Field(None, max_length=4000)
    address: str | None = Field(None, max_length=120)
    contact_name: str | None = Field(None, max_length=30)
    contact_phone: str | None = Field(None, max_length=20)
    sport_id: int | None = Field(None, ge=1, lt=2**63)
    founded_on: dt.date | None = None


class MemberOut(Schema):
    id: int
    name: str
    kind: str
    office: str
    manages: bool
    user_id: int | None
    joined_on: dt.date | None


class MemberIn(In):
    name: str = Field(..., max_length=60)
    office: str = Field("", max_length=20)
    kind: str = Field("individual", max_length=12)
    user_id: int | None = Field(None, ge=1, lt=2**63)
    manages: bool = False


class MemberChangeIn(In):
    office: str | None = Field(None, max_length=20)
    manages: bool | None = None
    leave: bool = False


class CreateIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., max_length=80)
    kind: str = Field(..., max_length=12)
    legal_status: str = Field("grassroots", max_length=12)
    status: str = Field("active", max_length=12)
    sport_id: int | None = Field(None, ge=1, lt=2**63)
    credit_code: str = Field("", max_length=32)
    manager_user_id: int | None = Field(None, ge=1, lt=2**63)


class StatusIn(In):
    status: str = Field(..., max_length=12)
    reason: str = Field("", max_length=500)


class StaffQuery(Schema):
    status: str = Field("", max_length=12)
    q: str = Field("", max_length=40)
    page: int = Field(1, ge=1, le=10_000)
    limit: int = Field(50, ge=1, le=200)


def association_out(a: Association) -> dict:
    return {"id": a.pk, "name": a.name, "legal_status": a.legal_status,
            "legal_status_name": a.get_legal_status_display(), "kind": a.kind,
            "kind_name": a.get_kind_display(), "status": a.status,
            "status_name": a.get_status_display(), "region_id": a.region_id,
            "region": a.region.name, "level": a.region.level,
            "sport": a.sport.name if a.sport is not None else "", "members": a.members,
            "grade": a.grade}


def profile_out(a: Association, user) -> dict:
    from sportsman.associations.selectors import manages

    return {**association_out(a), "credit_code": a.credit_code, "founded_on": a.founded_on,
            "address": a.address, "contact_name": a.contact_name,
            "contact_phone": a.contact_phone, "description": a.description,
            "officers": [{"name": m.name, "office": m.office,
                          "office_name": m.get_office_display()}
                         for m in registry.officers(a)],
            "certificates": [certificate_out(c) for c in a.certificates.order_by("-id")],
            "can_manage": bool(user and user.is_authenticated and manages(user, a.pk))}


def certificate_out(c: AssociationCertificate) -> dict:
    return {"id": c.pk, "kind": c.kind, "number": c.number, "issued_on": c.issued_on,
            "valid_until": c.valid_until}


def member_out(m: AssociationMember) -> dict:
    return {"id": m.pk, "name": m.name, "kind": m.kind, "office": m.office,
            "manages": m.manages, "user_id": m.user_id, "joined_on": m.joined_on}


def paged(qs, page: int, limit: int) -> dict:
    total = qs.count()
    rows = list(qs[(page - 1) * limit:page * limit])
    return {"items": [association_out(a) for a in rows], "total": total, "page": page,
            "pages": max(1, -(-total // limit))}


@router.get("/associations", auth=None, response=DirectoryOut)
@public
def directory(request: HttpRequest, query: Query[DirectoryQuery]):
    """The directory: associations not dissolved, by region (its subtree), kind, legal status,
    sport and name, by name; paged."""
    qs = registry.directory(region_id=query.region_id, kind=query.kind,
                            legal_status=query.legal_status, sport_id=query.sport_id,
                            q=query.q)
    return paged(qs, query.page, query.limit)


@router.get("/associations/mine", response=list[AssociationOut])
@for_self
def mine(request: HttpRequest):
    """The associations I manage."""
    from sportsman.associations.selectors import managed_by

    return [association_out(a) for a in managed_by(request.user)
            .select_related("region", "sport").order_by("name")]


@router.get("/associations/{association_id}", auth=None, response=ProfileOut)
@public
def profile(request: HttpRequest, association_id: int):
    """An association's public profile: officers (names and offices), certificates."""
    from sportsman.accounts.auth import optional_user

    return profile_out(registry.public_association(association_id), optional_user(request))


@router.patch("/associations/{association_id}", response=ProfileOut)
@for_self
def update_profile(request: HttpRequest, association_id: int, data: ProfileIn):
    """Edit the profile of an association I manage (its name and legal status change by an
    approved change of registration)."""
    changes = data.model_dump(exclude_unset=True)
    registry.update_profile(actor=request.user, association_id=association_id, **changes)
    return profile_out(registry.managed(request.user, association_id), request.user)


@router.get("/associations/{association_id}/members", response=list[MemberOut])
@for_self
def members(request: HttpRequest, association_id: int):
    """The members of an association I manage."""
    association = registry.managed(request.user, association_id)
    return [member_out(m) for m in registry.members_of(association)]


@router.post("/associations/{association_id}/members", response={201: MemberOut})
@for_self
@idempotent
def add_member(request: HttpRequest, association_id: int, data: MemberIn):
    """Add a member (a resident or a unit), possibly an officer or a manager."""
    member = registry.add_member(actor=request.user, association_id=association_id,
                                 **data.model_dump())
    return Status(201, member_out(member))


@router.patch("/associations/{association_id}/members/{member_id}", response=MemberOut)
@for_self
def update_member(request: HttpRequest, association_id: int, member_id: int,
                  data: MemberChangeIn):
    """Change a member's office or management right, or record that they left
    (``last_manager``: someone else must manage first)."""
    member = registry.update_member(actor=request.user, association_id=association_id,
                                    member_id=member_id, **data.model_dump())
    return member_out(member)


@router.post("/associations/{association_id}/certificates", response={201: CertificateOut})
@for_self
@idempotent
def add_certificate(request: HttpRequest, association_id: int, kind: Form[str],
                    file: File[UploadedFile], number: Form[str] = "",
                    issued_on: Form[dt.date | None] = None,
                    valid_until: Form[dt.date | None] = None):
    """Upload a certificate: a PDF (≤ 10 MB) or an image (≤ 5 MB); ``file_type``,
    ``file_too_large``."""
    cert = registry.add_certificate(actor=request.user, association_id=association_id,
                                    kind=kind, content=file.read(registry.DOCUMENT_MAX_BYTES
                                                                 + 1),
                                    number=number, issued_on=issued_on,
                                    valid_until=valid_until)
    return Status(201, certificate_out(cert))


@router.get("/console/associations", response=DirectoryOut)
@scoped(Perm.ASSOCIATION_MANAGE)
def staff_list(request: HttpRequest, query: Query[StaffQuery]):
    """The associations of my subtree, dissolved ones included, by region and name."""
    qs = registry.staff_associations(access_for(request), status=query.status, q=query.q)
    return paged(qs, query.page, query.limit)


@router.post("/console/associations", response={201: AssociationOut})
@scoped(Perm.ASSOCIATION_MANAGE)
@idempotent
def create(request: HttpRequest, data: CreateIn):
    """Put an association of my subtree on the registry (``association_name_taken``)."""
    made = registry.create_association(actor=request.user, **data.model_dump())
    return Status(201, association_out(
        Association.objects.select_related("region", "sport").get(pk=made.pk)))


@router.post("/console/associations/{association_id}/status", response=AssociationOut)
@scoped(Perm.ASSOCIATION_MANAGE)
def set_status(request: HttpRequest, association_id: int, data: StatusIn):
    """Suspend, reinstate or dissolve an association of my subtree (a reason to suspend or
    dissolve; ``association_status_not_allowed``)."""
    registry.set_status(actor=request.user, association_id=association_id, status=data.status,
                        reason=data.reason)
    return association_out(registry.staff_association(access_for(request), association_id))
