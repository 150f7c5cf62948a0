"""Groups and their members: creating a group (approved by its region's staff where the region's
rule says so), joining by the group's policy, roles, muting, leaving, and the member list as
each member chose to be shown.

Every refusal is a DomainError with a stable code and writes nothing. The member count moves by
one conditional UPDATE (``members < max_members``), so a full group can never be overfilled.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core.audit import record
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.core.models import Sport
from sportsman.core.uploads import clean_photo
from sportsman.core.wording import check_text
from sportsman.groups.models import (
    CreationRule,
    Group,
    GroupStatus,
    JoinPolicy,
    MemberRole,
    Membership,
    MemberStatus,
    Visibility,
)
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region

MANAGERS = (MemberRole.LEADER, MemberRole.ADMIN)
MAX_GROUPS_LED = 5  # groups one resident may lead (pending ones included)


class GroupNotFound(NotFound):
    code = "group_not_found"
    default_message = gettext_lazy("No such group.")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = gettext_lazy("You are already in this group.")


class AlreadyAsked(Conflict):
    code = "already_asked"
    default_message = gettext_lazy("You have already asked to join; the leader will decide.")


class GroupFull(Conflict):
    code = "group_full"
    default_message = gettext_lazy("This group has no room for new members.")


class InvitationNeeded(Forbidden):
    code = "invitation_needed"
    default_message = gettext_lazy("This group takes new members by invitation link only.")


class NotMember(Forbidden):
    code = "not_member"
    default_message = gettext_lazy("Only members of the group may do this.")


class NotGroupManager(Forbidden):
    code = "not_group_manager"
    default_message = gettext_lazy("Only the group's leader and administrators may do this.")


class GroupNotActive(Conflict):
    code = "group_not_active"
    default_message = gettext_lazy("This group is not open (it awaits approval or is closed).")


class Muted(Forbidden):
    code = "muted"
    default_message = gettext_lazy("You are muted in this group for now.")


# --- reading ------------------------------------------------------------------------------------


def get_group(group_id: int, *, lock: bool = False) -> Group:
    qs = Group.objects.select_related("sport", "region")
    if lock:
        qs = qs.select_for_update()
    group = qs.filter(pk=group_id).first()
    if group is None:
        raise GroupNotFound()
    return group


def membership_of(user: Any, group_id: int) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(group_id=group_id, user_id=user.pk).first()


def visible_group(user: Any, group_id: int) -> tuple[Group, Membership | None]:
    """A group a resident may see: active ones for everyone; a pending or rejected one only for
    its creator (and its staff, through the console)."""
    group = get_group(group_id)
    mine = membership_of(user, group_id)
    if group.status != GroupStatus.ACTIVE and not (
            mine is not None and mine.role == MemberRole.LEADER):
        raise GroupNotFound()
    return group, mine


def require_member(user: Any, group_id: int, *, manager: bool = False) -> Membership:
    mine = membership_of(user, group_id)
    if mine is None or mine.status != MemberStatus.ACTIVE:
        raise NotMember()
    if manager and mine.role not in MANAGERS:
        raise NotGroupManager()
    return mine


def is_muted(membership: Membership, now: dt.datetime | None = None) -> bool:
    return membership.muted_until is not None and membership.muted_until > (now or timezone.now())


def my_groups(user: Any) -> QuerySet[Group]:
    return (Group.objects.filter(memberships__user_id=user.pk,
                                 memberships__status=MemberStatus.ACTIVE)
            .exclude(status__in=[GroupStatus.CLOSED, GroupStatus.REJECTED])
            .select_related("sport", "region").order_by(F("last_active_at").desc(nulls_last=True),
                                                       "-id"))


def discover(*, sport: str | None = None, region: Region | None = None, q: str = "",
             near: tuple[float, float] | None = None, radius_m: int = 5000,
             order: str = "active") -> QuerySet[Group]:
    """Active groups: by sport (slug), inside a region's subtree, by name, near a point (a box of
    ``radius_m``), ordered by most recently active, most members or newest."""
    from sportsman.regions.models import subtree_q

    qs = Group.objects.filter(status=GroupStatus.ACTIVE).select_related("sport", "region")
    if sport:
        qs = qs.filter(sport__slug=sport)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    if q:
        qs = qs.filter(name__icontains=q)
    if near is not None:
        lat, lng = near
        from sportsman.facilities.geo import bounding_box

        lat_lo, lat_hi, lng_lo, lng_hi = bounding_box(lat, lng, radius_m)
        qs = qs.filter(lat__gte=lat_lo, lat__lte=lat_hi, lng__gte=lng_lo, lng__lte=lng_hi)
    ordering: dict[str, list[Any]] = {
        "active": [F("last_active_at").desc(nulls_last=True), "-id"],
        "members": ["-members", "-id"], "new": ["-id"]}
    return qs.order_by(*ordering.get(order, ordering["active"]))


def member_list(viewer: Any, group: Group) -> QuerySet[Membership]:
    """The active members ``viewer`` may see: everyone who chose "anyone"; members also see
    those who chose "members"; the leader and administrators see all."""
    mine = membership_of(viewer, group.pk)
    qs = (Membership.objects.filter(group=group, status=MemberStatus.ACTIVE)
          .select_related("user").order_by("role", "joined_at", "id"))
    if mine is not None and mine.status == MemberStatus.ACTIVE:
        if mine.role in MANAGERS:
            return qs
        return qs.filter(Q(visibility__in=[Visibility.PUBLIC, Visibility.MEMBERS])
                         | Q(user_id=viewer.pk) | Q(role__in=MANAGERS))
    return qs.filter(Q(visibility=Visibility.PUBLIC) | Q(role=MemberRole.LEADER))


# --- creating and reviewing ---------------------------------------------------------------------


def needs_approval(region: Region) -> bool:
    """The nearest creation rule at or above ``region`` (none: no approval)."""
    from sportsman.regions.selectors import nearest_rule

    rule = nearest_rule(CreationRule.objects.all(), region)
    return rule is not None and rule.needs_approval


def _clean_fields(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = check_text(data["name"], field="name", max_length=40)
    if "description" in data:
        out["description"] = check_text(data["description"], field="description",
                                        max_length=2000, required=False)
    if "sport" in data:
        sport = Sport.objects.filter(slug=data["sport"]).first()
        if sport is None:
            raise InvalidInput(_("Choose a sport from the list."),
                               fields={"sport": [_("Choose a sport from the list.")]})
        out["sport"] = sport
    if "join_policy" in data:
        out["join_policy"] = data["join_policy"]
    for key in ("lat", "lng"):
        if key in data:
            out[key] = data[key]
    return out


def _notify(user_ids: list[int], *, title: Any, body: Any = "", link: str = "",
            dedupe_key: str) -> None:
    from sportsman.notifications.services import notify

    notify(users=get_user_model().objects.filter(pk__in=user_ids), category="group",
           title=str(title), body=str(body), link=link, dedupe_key=dedupe_key)


def notify_on_commit(user_ids: list[int], **kwargs: Any) -> None:
    if user_ids:
        transaction.on_commit(partial(_notify, list(user_ids), **kwargs))


def group_link(group_id: int) -> str:
    return reverse("groups:detail", args=[group_id])


def create_group(*, actor: Any, name: str, sport: str, region_id: int | None = None,
                 description: str = "", join_policy: str = JoinPolicy.OPEN,
                 lat: float | None = None, lng: float | None = None) -> Group:
    """A resident starts a group in their home community (or ``region_id``, a region their home
    lies in) and leads it. Where the region's rule asks for approval, the group waits for its
    staff (``pending``) and the community's administrators are told."""
    fields = _clean_fields({"name": name, "sport": sport, "description": description,
                            "join_policy": join_policy, "lat": lat, "lng": lng})
    home = actor.home_community
    if home is None:
        raise InvalidInput(_("Set your home community in your profile first."),
                           code="no_home_community")
    region = home
    if region_id is not None and region_id != home.pk:
        region = Region.objects.filter(pk=region_id).first()  # type: ignore[assignment]
        if region is None or not region.contains(home):
            raise InvalidInput(_("A group belongs to your community or a region it lies in."),
                               fields={"region_id": [_("Not a region you live in.")]})
    led = Membership.objects.filter(user_id=actor.pk, role=MemberRole.LEADER,
                                    group__status__in=[GroupStatus.ACTIVE, GroupStatus.PENDING])
    if led.count() >= MAX_GROUPS_LED:
        raise InvalidInput(_("You lead as many groups as one person may."),
                           code="too_many_groups")
    pending = needs_approval(region)
    now = timezone.now()
    try:
        with transaction.atomic():
            group = Group.objects.create(
                region=region, status=GroupStatus.PENDING if pending else GroupStatus.ACTIVE,
                invite_code=secrets.token_urlsafe(12), created_by=actor, members=1,
                last_active_at=now, **fields)
            Membership.objects.create(group=group, user=actor, role=MemberRole.LEADER,
                                      status=MemberStatus.ACTIVE, joined_at=now,
                                      visibility=Visibility.PUBLIC)
    except IntegrityError:
        raise Conflict(_("A group of that name already exists here."), code="name_taken",
                       fields={"name": [_("This name is taken in this region.")]}) from None
    if pending:
        from sportsman.regions.access import holders

        staff = list(holders(Perm.GROUP_MANAGE, region).values_list("pk", flat=True))
        notify_on_commit(staff, title=_("A new group awaits approval: %(name)s")
                         % {"name": group.name}, link=reverse("groups:console"),
                         dedupe_key=f"group-pending:{group.pk}")
    return group


def update_group(*, actor: Any, group_id: int, changes: dict[str, Any]) -> Group:
    fields = _clean_fields(changes)
    with transaction.atomic():
        group = get_group(group_id, lock=True)
        require_member(actor, group_id, manager=True)
        for key, value in fields.items():
            setattr(group, key, value)
        try:
            with transaction.atomic():
                group.save()
        except IntegrityError:
            raise Conflict(_("A group of that name already exists here."), code="name_taken",
                           fields={"name": [_("This name is taken in this region.")]}) from None
    return group


def set_cover(*, actor: Any, group_id: int, content: bytes) -> Group:
    """A new cover photo: sniffed, re-encoded as JPEG, EXIF stripped (``clean_photo``)."""
    require_member(actor, group_id, manager=True)
    jpeg = clean_photo(content, field="cover")
    with transaction.atomic():
        group = get_group(group_id, lock=True)
        old = group.cover.name if group.cover else ""
        group.cover.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=False)
        group.save(update_fields=["cover", "updated_at"])
    if old:
        transaction.on_commit(partial(group.cover.storage.delete, old))
    return group


def groups_in_scope(access: Access) -> QuerySet[Group]:
    return access.scope(Group.objects.select_related("sport", "region"), Perm.GROUP_MANAGE)


def review_group(*, actor: Any, group_id: int, approve: bool, note: str = "",
                 request: Any = None) -> Group:
    """The staff of the group's region approve or reject a pending group (audited); its leader
    is told."""
    access = access_for_user(actor)
    with transaction.atomic():
        group = groups_in_scope(access).select_for_update().filter(pk=group_id).first()
        if group is None:
            raise GroupNotFound()
        if group.status != GroupStatus.PENDING:
            raise Conflict(_("This group is not awaiting approval."), code="not_pending")
        group.status = GroupStatus.ACTIVE if approve else GroupStatus.REJECTED
        group.reviewed_by, group.reviewed_at = actor, timezone.now()
        group.review_note = note[:200]
        group.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note",
                                  "updated_at"])
        record(actor=actor, action="group.approve" if approve else "group.reject", obj=group,
               region=group.region, request=request, data={"note": note[:200]})
        title = (_("Your group %(name)s is approved") if approve
                 else _("Your group %(name)s was not approved")) % {"name": group.name}
        notify_on_commit([group.created_by_id] if group.created_by_id else [], title=title,
                         body=note, link=group_link(group.pk),
                         dedupe_key=f"group-review:{group.pk}")
    return group


def close_group(*, actor: Any, group_id: int, request: Any = None) -> Group:
    """The leader closes their group, or its region's staff close it (audited)."""
    access = access_for_user(actor)
    with transaction.atomic():
        group = get_group(group_id, lock=True)
        mine = membership_of(actor, group_id)
        is_leader = mine is not None and mine.role == MemberRole.LEADER \
            and mine.status == MemberStatus.ACTIVE
        if not is_leader:
            if not access.can(Perm.GROUP_MANAGE, group.region):
                raise NotGroupManager()
            record(actor=actor, action="group.close", obj=group, region=group.region,
                   request=request)
        group.status = GroupStatus.CLOSED
        group.save(update_fields=["status", "updated_at"])
    return group


def set_rule(*, actor: Any, region_id: int, needs_approval: bool, request: Any = None
             ) -> CreationRule:
    access = access_for_user(actor)
    region = Region.objects.filter(pk=region_id).first()
    access.require(Perm.GROUP_MANAGE, region)
    with transaction.atomic():
        rule, _created = CreationRule.objects.update_or_create(
            region=region, defaults={"needs_approval": needs_approval})
        record(actor=actor, action="group.rule", obj=rule, region=region, request=request,
               data={"needs_approval": needs_approval})
    return rule


# --- joining and leaving ----------------------------------------------------------------------


def _take_seat(group_id: int) -> bool:
    return bool(Group.objects.filter(pk=group_id, members__lt=F("max_members"))
                .update(members=F("members") + 1, last_active_at=timezone.now()))


def _free_seat(group_id: int) -> None:
    Group.objects.filter(pk=group_id, members__gt=0).update(members=F("members") - 1)


def join(*, actor: Any, group_id: int, invite_code: str = "") -> Membership:
    """Join a group: at once if it is open (or the invitation code is right), else a request the
    leader decides. Refusals: ``group_not_found``, ``group_not_active``, ``already_member``,
    ``already_asked``, ``invitation_needed``, ``group_full``."""
    group = get_group(group_id)
    if group.status != GroupStatus.ACTIVE:
        raise GroupNotActive()
    invited = bool(invite_code) and secrets.compare_digest(invite_code, group.invite_code)
    if group.join_policy == JoinPolicy.INVITATION and not invited:
        raise InvitationNeeded()
    direct = invited or group.join_policy == JoinPolicy.OPEN
    now = timezone.now()
    with transaction.atomic():
        mine = Membership.objects.select_for_update().filter(group=group, user_id=actor.pk).first()
        if mine is not None and mine.status == MemberStatus.ACTIVE:
            raise AlreadyMember()
        if mine is not None and mine.status == MemberStatus.PENDING and not direct:
            raise AlreadyAsked()
        if mine is not None and mine.status == MemberStatus.REMOVED and not invited:
            raise Forbidden(_("You were removed from this group; ask its leader for a link."),
                            code="removed")
        if direct and not _take_seat(group.pk):
            raise GroupFull()
        if mine is None:
            mine = Membership(group=group, user_id=actor.pk)
        mine.role = MemberRole.MEMBER
        mine.status = MemberStatus.ACTIVE if direct else MemberStatus.PENDING
        mine.joined_at = now if direct else None
        mine.requested_at = now
        try:
            with transaction.atomic():
                mine.save()
        except IntegrityError:  # a concurrent join of the same person won
            raise AlreadyMember() from None
        if not direct:
            leaders = list(Membership.objects.filter(group=group, status=MemberStatus.ACTIVE,
                                                     role__in=MANAGERS)
                           .values_list("user_id", flat=True))
            notify_on_commit(leaders, title=_("%(who)s asks to join %(name)s")
                             % {"who": actor.nickname or _("A resident"), "name": group.name},
                             link=group_link(group.pk),
                             dedupe_key=f"group-ask:{group.pk}:{actor.pk}:{now:%Y%m%d}")
    return mine


def decide_request(*, actor: Any, group_id: int, user_id: int, accept: bool) -> Membership:
    with transaction.atomic():
        require_member(actor, group_id, manager=True)
        mine = (Membership.objects.select_for_update()
                .filter(group_id=group_id, user_id=user_id, status=MemberStatus.PENDING).first())
        if mine is None:
            raise NotFound(_("No such request to join."), code="request_not_found")
        if accept:
            if not _take_seat(group_id):
                raise GroupFull()
            mine.status, mine.joined_at = MemberStatus.ACTIVE, timezone.now()
        else:
            mine.status = MemberStatus.REFUSED
        mine.save(update_fields=["status", "joined_at"])
        group = get_group(group_id)
        title = (_("You are now a member of %(name)s") if accept
                 else _("Your request to join %(name)s was declined")) % {"name": group.name}
        notify_on_commit([user_id], title=title, link=group_link(group_id),
                         dedupe_key=f"group-decide:{mine.pk}:{mine.requested_at:%s}")
    return mine


def leave(*, actor: Any, group_id: int) -> None:
    """Leave a group (the leader hands the group over first, or closes it)."""
    with transaction.atomic():
        mine = require_member(actor, group_id)
        if mine.role == MemberRole.LEADER:
            raise Conflict(_("Hand the group to another member before you leave."),
                           code="leader_cannot_leave")
        Membership.objects.filter(pk=mine.pk).update(status=MemberStatus.LEFT,
                                                     role=MemberRole.MEMBER)
        _free_seat(group_id)


def remove_member(*, actor: Any, group_id: int, user_id: int) -> None:
    with transaction.atomic():
        me = require_member(actor, group_id, manager=True)
        target = _active_member(group_id, user_id)
        if target.role == MemberRole.LEADER or (target.role == MemberRole.ADMIN
                                                and me.role != MemberRole.LEADER):
            raise NotGroupManager()
        Membership.objects.filter(pk=target.pk).update(status=MemberStatus.REMOVED,
                                                       role=MemberRole.MEMBER)
        _free_seat(group_id)


def _active_member(group_id: int, user_id: int) -> Membership:
    target = (Membership.objects.select_for_update()
              .filter(group_id=group_id, user_id=user_id, status=MemberStatus.ACTIVE).first())
    if target is None:
        raise NotFound(_("No such member."), code="member_not_found")
    return target


def set_role(*, actor: Any, group_id: int, user_id: int, role: str) -> Membership:
    """The leader makes a member an administrator (or back), or hands the group over
    (``role="leader"``: they become an administrator)."""
    if role not in MemberRole.values:
        raise InvalidInput(fields={"role": [_("Choose leader, admin or member.")]})
    with transaction.atomic():
        me = require_member(actor, group_id, manager=True)
        if me.role != MemberRole.LEADER:
            raise NotGroupManager(_("Only the leader may change roles."))
        target = _active_member(group_id, user_id)
        if target.pk == me.pk:
            raise InvalidInput(_("Choose another member."), code="own_role")
        if role == MemberRole.LEADER:
            Membership.objects.filter(pk=me.pk).update(role=MemberRole.ADMIN)
        target.role = role
        target.save(update_fields=["role"])
    return target


def mute(*, actor: Any, group_id: int, user_id: int, minutes: int) -> Membership:
    """Mute a member for ``minutes`` (0 lifts it): they may read but not post, comment or chat."""
    if not 0 <= minutes <= 60 * 24 * 30:
        raise InvalidInput(fields={"minutes": [_("Between 0 and 43,200 minutes.")]})
    with transaction.atomic():
        me = require_member(actor, group_id, manager=True)
        target = _active_member(group_id, user_id)
        if target.role == MemberRole.LEADER or (target.role == MemberRole.ADMIN
                                                and me.role != MemberRole.LEADER):
            raise NotGroupManager()
        target.muted_until = timezone.now() + dt.timedelta(minutes=minutes) if minutes else None
        target.save(update_fields=["muted_until"])
    return target


def set_visibility(*, actor: Any, group_id: int, visibility: str) -> Membership:
    if visibility not in Visibility.values:
        raise InvalidInput(fields={"visibility": [_("Choose public, members or hidden.")]})
    mine = require_member(actor, group_id)
    Membership.objects.filter(pk=mine.pk).update(visibility=visibility)
    mine.visibility = visibility
    return mine


def new_invite_code(*, actor: Any, group_id: int) -> str:
    require_member(actor, group_id, manager=True)
    code = secrets.token_urlsafe(12)
    Group.objects.filter(pk=group_id).update(invite_code=code)
    return code


def touch(group_id: int) -> None:
    """The group was active now (a post, a message, an activity)."""
    Group.objects.filter(pk=group_id).update(last_active_at=timezone.now())
