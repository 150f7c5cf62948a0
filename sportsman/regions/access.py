"""The one answer to "may this actor do this here?".

Built once per request, task or socket from the actor's role assignments (one query), expanded to
subtrees by path prefix, and cached on the request. API operations, pages, websockets, tasks and
exports all ask it; nothing else reads ``RoleAssignment``.

Every view and API operation is marked with exactly one of:

- ``@public``: anyone, logged in or not (the guard test lists these);
- ``@for_self``: a logged-in user acting on their own data only;
- ``@scoped(perm)``: staff holding ``perm`` somewhere; the view then narrows every query with
  ``access.scope(...)`` / ``access.require(perm, region)``.

A guard test walks every URL and operation and fails on one that carries no mark.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from sportsman.core.errors import Forbidden, NotAuthenticated
from sportsman.regions.models import Region, Role, RoleAssignment, subtree_q


class Perm(StrEnum):
    CONSOLE = "console.enter"
    REGION_VIEW = "regions.view"
    REGION_MANAGE = "regions.manage"
    ROLE_MANAGE = "roles.manage"
    AUDIT_VIEW = "audit.view"
    RESIDENT_VIEW = "residents.view"
    NOTIFY_PUBLISH = "notifications.publish"
    FACILITY_MANAGE = "facilities.manage"
    BOOKING_RULES = "facilities.booking_rules"
    ACTIVITY_VIEW = "activity.view"
    SUBSIDY_ALLOCATE = "facilities.subsidy"
    REWARDS_MANAGE = "rewards.manage"
    VOUCHER_MANAGE = "rewards.vouchers"
    MERCHANT_REVIEW = "rewards.merchant_review"
    MERCHANT_OPERATE = "rewards.merchant_operate"
    COCKPIT_VIEW = "cockpit.view"
    SUPERVISION = "cockpit.supervision"
    ASSESS = "cockpit.assess"
    INDEX_CONFIG = "cockpit.index"
    EVENT_MANAGE = "events.manage"
    GROUP_MANAGE = "groups.manage"
    WORDS_MANAGE = "core.sensitive_words"
    REPORT_HANDLE = "governance.reports"
    REPORT_RULES = "governance.report_rules"
    DELIBERATION_MANAGE = "governance.deliberation"
    SURVEY_MANAGE = "governance.surveys"
    POST_MODERATE = "governance.posts"
    VOLUNTEER_MANAGE = "governance.volunteers"
    PROXY_MANAGE = "governance.proxies"
    # --- associations: the registry and the one window (一窗受理) -----------------------------
    ASSOCIATION_MANAGE = "associations.manage"
    APPLICATION_REVIEW = "associations.applications"
    # Associations: evaluation (等级评估) and the information board (信息发布).
    EVALUATION_MANAGE = "associations.evaluation"
    EVALUATION_SCORE = "associations.evaluation_score"
    BOARD_PUBLISH = "associations.board"
    # --- instructors (社会体育指导员) ---
    INSTRUCTOR_MANAGE = "instructors.manage"
    # Teaching videos (instructors app, docs/instructor-videos.md).
    VIDEO_MANAGE = "instructors.videos"
    # --- open interfaces (interfaces app, docs/interfaces.md) ---
    WEBHOOK_MANAGE = "interfaces.webhooks"
    # --- physical fitness tests (fitness app, docs/fitness.md) ---
    FITNESS_MANAGE = "fitness.manage"
    # --- health services (体医融合, health app, docs/health.md) ---
    CLINIC_MANAGE = "health.clinics"
    CLINIC_PRACTISE = "health.practise"
    # --- targeted campaigns (notifications app, docs/notifications.md) ---
    CAMPAIGN_SEND = "notifications.campaigns"
    EXCHANGE_MANAGE = "interfaces.exchange"


_ADMINS = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN, Role.COMMUNITY_ADMIN})
_ALL_STAFF = frozenset(Role)

# Which roles carry which permission. A permission held on a region covers its subtree.
PERMISSIONS: dict[Perm, frozenset[Role]] = {
    Perm.CONSOLE: _ALL_STAFF,
    Perm.REGION_VIEW: _ALL_STAFF,
    Perm.REGION_MANAGE: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN}),
    Perm.ROLE_MANAGE: _ADMINS,
    Perm.AUDIT_VIEW: frozenset({Role.CITY_ADMIN}),
    Perm.RESIDENT_VIEW: _ADMINS,
    Perm.NOTIFY_PUBLISH: _ADMINS,
    # Venues: registry, hours, units, today's bookings, scans, devices, tickets, utilisation.
    Perm.FACILITY_MANAGE: _ADMINS | {Role.VENUE_MANAGER},
    # Booking rules for a whole region's subtree (a facility's own rules: FACILITY_MANAGE).
    Perm.BOOKING_RULES: _ADMINS,
    # The facility activity index and the split of a subsidy budget over a region's facilities.
    Perm.SUBSIDY_ALLOCATE: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN}),
    # Exercise records of the residents of a subtree (totals, lists, imports on their behalf).
    Perm.ACTIVITY_VIEW: _ADMINS,
    # Point rules and the rewards catalogue; voucher campaigns (city and district staff).
    Perm.REWARDS_MANAGE: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN}),
    Perm.VOUCHER_MANAGE: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN}),
    Perm.MERCHANT_REVIEW: _ADMINS,
    # A merchant's own counter: fulfil reward orders, redeem vouchers (for merchants they own).
    Perm.MERCHANT_OPERATE: frozenset({Role.MERCHANT}),
    # The cockpit of a region and of everything below it: figures, trends, demand, exports.
    Perm.COCKPIT_VIEW: _ADMINS,
    # Supervision tasks (督办): issued from a region to units strictly below it, answered by the
    # units they were issued to, reviewed and closed by the issuing region.
    Perm.SUPERVISION: _ADMINS,
    # Periodic assessments of a region's subunits (score sheets, manual items, publication).
    Perm.ASSESS: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN}),
    # The composite sports index: its indicators and weights (city staff).
    Perm.INDEX_CONFIG: frozenset({Role.CITY_ADMIN}),
    # Sports groups of a subtree: approving new groups, reports from their spaces, the creation
    # rule of a region, and confirming the year's star groups.
    Perm.GROUP_MANAGE: _ADMINS,
    # The sensitive-word list that residents' writing is checked against (city staff).
    Perm.WORDS_MANAGE: frozenset({Role.CITY_ADMIN}),
    # Events of a subtree: create, file, publish, edit and cancel them; their registrations,
    # check-in scans, results and qualifiers.
    Perm.EVENT_MANAGE: _ADMINS,
    # Residents' reports (报事反馈) routed to a subtree: accept, work, resolve, reject, merge;
    # venue managers handle those about their facilities.
    Perm.REPORT_HANDLE: _ADMINS | {Role.VENUE_MANAGER},
    # Routing rules and service levels of report categories for a region.
    Perm.REPORT_RULES: _ADMINS,
    # Deliberation topics (在线议事) of a subtree: raise, open, close, record the decision.
    Perm.DELIBERATION_MANAGE: _ADMINS,
    # Surveys (问卷调查) of a subtree: build, target, open, close, read results and export.
    Perm.SURVEY_MANAGE: _ADMINS,
    # Residents' posts and comments in a subtree: answer, turn into a report or topic, take down.
    Perm.POST_MODERATE: _ADMINS,
    # Volunteer teams and opportunities of a subtree; a volunteer leader approves hours.
    Perm.VOLUNTEER_MANAGE: _ADMINS | {Role.VOLUNTEER_LEADER},
    # Recording and revoking who may act for an elderly resident (family, grid worker).
    Perm.PROXY_MANAGE: frozenset({Role.COMMUNITY_ADMIN, Role.TOWN_ADMIN}),
    # --- associations: the registry and the one window (一窗受理) -----------------------------
    # The associations of a subtree: create, suspend, reinstate, dissolve; open annual
    # inspection seasons and follow who is overdue.
    Perm.ASSOCIATION_MANAGE: _ADMINS,
    # One-window applications (registration, filing, annual reports, event filings and
    # permits, changes) waiting at a review level the holder's own region is: accept, approve,
    # return for correction, reject. A grant reviews at its own region's level only.
    Perm.APPLICATION_REVIEW: _ADMINS,
    # --- associations: evaluation and the information board ---------------------------------
    # Evaluation seasons of a subtree (city and district staff, the 业务主管单位): the rubric,
    # eligibility checks, assigning evaluators, the final rating, publication, rectification.
    Perm.EVALUATION_MANAGE: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN}),
    # Third-party evaluators score within their grant's subtree, and only the evaluations they
    # are assigned to (associations.evaluation.can_score checks the assignment).
    Perm.EVALUATION_SCORE: frozenset({Role.EVALUATOR}),
    # Notices to the associations of a subtree, who acknowledged them, reminders.
    Perm.BOARD_PUBLISH: _ADMINS,
    # --- instructors ---
    # The instructor registry of a subtree: register, edit, suspend and reinstate instructors,
    # confirm their yearly work registrations (工作注册), read and export their guidance
    # records. Instructors act on their own profile, availability and sessions (``for_self``).
    Perm.INSTRUCTOR_MANAGE: _ADMINS,
    # --- teaching videos (教学视频) ---
    # Instructors' teaching videos of a subtree (by the instructor's region): list every state,
    # take down with a reason and restore; upload on behalf of an instructor there. Instructors
    # themselves upload, edit and unpublish their own without a grant (they own them).
    Perm.VIDEO_MANAGE: _ADMINS,
    # --- open interfaces ---
    # Webhook subscriptions of other systems on a subtree (the government platform on the
    # city, a community platform on its community): register, edit, rotate the secret,
    # disable, read the delivery log, replay. A subscriber hears only of its subtree.
    Perm.WEBHOOK_MANAGE: _ADMINS,
    # --- physical fitness tests (国民体质监测) ---
    # Test stations of a subtree and the test records they export: register stations, import
    # a station's spreadsheet (all or nothing), list and read the records (personal data: a
    # record's page is audited as a view).
    Perm.FITNESS_MANAGE: _ADMINS,
    # --- health services ---
    # Partner clinics of a subtree (city and district staff): register them, appoint and remove
    # their staff. Region staff never see residents' prescriptions or adherence.
    Perm.CLINIC_MANAGE: frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN}),
    # A partner clinic's own work: issue exercise prescriptions to residents who consented to
    # that clinic and read their adherence while the consent lasts. Held on one clinic (an
    # object grant, below), never on a region: no region role carries it.
    Perm.CLINIC_PRACTISE: frozenset(),
    # --- targeted campaigns ---
    # Staff campaigns to the residents of a subtree (by home community): compose with an
    # audience, preview its size, schedule or send, cancel, read the figures. A campaign never
    # reaches a resident outside the sender's subtree, whatever its audience names.
    Perm.CAMPAIGN_SEND: _ADMINS,
    # Bulk exchange (docs/exchange.md): CSV/xlsx import and export of the subtree's
    # facilities, associations, instructors, events and consenting residents. Each row also
    # needs the kind's own permission (the domain service checks it).
    Perm.EXCHANGE_MANAGE: _ADMINS,
}

# Permissions held on single objects rather than region subtrees: the owning app registers, at
# start-up, a loader giving the ids of the objects a user holds the permission on (one query).
# Access reads each loader once, like the role assignments, and caches it for the request.
OBJECT_GRANTS: dict[Perm, Callable[[int], frozenset[int]]] = {}


def register_object_grants(perm: Perm, loader: Callable[[int], frozenset[int]]) -> None:
    """Declare that ``perm`` is held on objects (a clinic's staff rows) read by ``loader``."""
    OBJECT_GRANTS[perm] = loader


@dataclass(frozen=True)
class Grant:
    role: str
    region_id: int
    path: str
    region_name: str
    region_code: str
    level: str


# A user object loaded together with its role grants (one query, see accounts.auth) carries
# them here, in the order below; Access uses them instead of reading them again.
GRANTS_ATTR = "_sportsman_grants"
GRANT_ORDER = ("region__path", "role")


class Access:
    """What one actor may do where. Cheap to build; build one per request/task/socket."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self._grants: list[Grant] | None = None
        self._objects: dict[Perm, frozenset[int]] = {}

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user is not None and self.user.is_authenticated)

    @property
    def grants(self) -> list[Grant]:
        if self._grants is None:
            if not self.is_authenticated:
                self._grants = []
            elif (known := getattr(self.user, GRANTS_ATTR, None)) is not None:
                self._grants = known  # read with the user (the bearer token look-up)
            else:
                rows = (RoleAssignment.objects.filter(user_id=self.user.pk)
                        .select_related("region").order_by(*GRANT_ORDER))
                self._grants = [
                    Grant(r.role, r.region_id, r.region.path, r.region.name, r.region.code,
                          r.region.level)
                    for r in rows
                ]
        return self._grants

    @property
    def is_staff(self) -> bool:
        return bool(self.grants)

    def roots(self, perm: Perm) -> list[Grant]:
        """The topmost grants carrying ``perm``: no root lies inside another."""
        roles = PERMISSIONS[perm]
        out: list[Grant] = []
        for g in sorted((g for g in self.grants if g.role in roles), key=lambda g: len(g.path)):
            if not any(g.path.startswith(r.path) for r in out):
                out.append(g)
        return out

    def can(self, perm: Perm, region: Region | None) -> bool:
        if region is None:
            return False
        return any(region.path.startswith(g.path) for g in self.roots(perm))

    def has_anywhere(self, perm: Perm) -> bool:
        return bool(self.roots(perm)) or bool(self.objects(perm))

    def objects(self, perm: Perm) -> frozenset[int]:
        """Ids of the objects ``perm`` is held on (see ``OBJECT_GRANTS``); empty for region
        permissions and for anonymous actors."""
        loader = OBJECT_GRANTS.get(perm)
        if loader is None or not self.is_authenticated:
            return frozenset()
        if perm not in self._objects:
            self._objects[perm] = loader(self.user.pk)
        return self._objects[perm]

    def can_on(self, perm: Perm, object_id: int) -> bool:
        return object_id in self.objects(perm)

    def require_on(self, perm: Perm, object_id: int) -> None:
        """Held on that object, else ``not_found``: an object outside scope does not leak."""
        from sportsman.core.errors import NotFound

        self.require_login()
        if not self.can_on(perm, object_id):
            raise NotFound()

    def require_login(self) -> None:
        if not self.is_authenticated:
            raise NotAuthenticated()

    def require_anywhere(self, perm: Perm) -> None:
        self.require_login()
        if not self.has_anywhere(perm):
            raise Forbidden()

    def require(self, perm: Perm, region: Region | None) -> None:
        self.require_login()
        if not self.can(perm, region):
            raise Forbidden()

    def region_q(self, perm: Perm, field: str = "region") -> Q:
        """A filter for rows whose ``field`` (a Region FK, or "" for Region itself) lies in scope."""
        q = Q(pk__in=[])
        for g in self.roots(perm):
            q |= subtree_q(g.path, field)
        return q

    def scope[M: Model](self, qs: QuerySet[M], perm: Perm, field: str = "region") -> QuerySet[M]:
        roots = self.roots(perm)
        if not roots:
            return qs.none()
        return qs.filter(self.region_q(perm, field))

    def regions(self, perm: Perm) -> QuerySet[Region]:
        return self.scope(Region.objects.all(), perm, field="")

    def root_regions(self, perm: Perm) -> QuerySet[Region]:
        return Region.objects.filter(id__in=[g.region_id for g in self.roots(perm)]).order_by("path")


def access_for(request: Any) -> Access:
    """The request's Access, built on first use and rebuilt if the user changed (login/logout)."""
    user = getattr(request, "user", None)
    cached: Access | None = getattr(request, "_sportsman_access", None)
    if cached is None or cached.user is not user:
        cached = Access(user)
        request._sportsman_access = cached
    return cached


def access_for_user(user: Any) -> Access:
    """For tasks and sockets: re-enter the actor's scope from a user (never a stored Access)."""
    return Access(user)


# --- marks: every entry point carries one (see the guard test) --------------------------------

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_MARK = "_sportsman_access_mark"


def _keep_signature(wrapper: Any, view: Any) -> None:
    """Ninja reads parameter types from the signature and resolves string annotations in the
    function's module; the wrapper lives here, so hand it the view's resolved signature."""
    # A type defined later in its module raises NameError: Ninja then resolves it via __wrapped__.
    with contextlib.suppress(NameError):
        wrapper.__signature__ = inspect.signature(view, eval_str=True)


def public(view: F) -> F:
    """Anyone may call this, logged in or not."""
    setattr(view, ACCESS_MARK, ("public", None))
    return view


def for_self(view: F) -> F:
    """A logged-in user, acting only on their own data."""
    @functools.wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        access_for(request).require_login()
        return view(request, *args, **kwargs)

    _keep_signature(wrapper, view)
    setattr(wrapper, ACCESS_MARK, ("self", None))
    return wrapper  # type: ignore[return-value]


def scoped(perm: Perm) -> Callable[[F], F]:
    """Staff holding ``perm`` on some region; the view narrows to that subtree via Access."""
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            access_for(request).require_anywhere(perm)
            return view(request, *args, **kwargs)

        _keep_signature(wrapper, view)
        setattr(wrapper, ACCESS_MARK, ("scoped", perm))
        return wrapper  # type: ignore[return-value]
    return decorate


def mark_of(view: Any) -> tuple[str, Perm | None] | None:
    seen: set[int] = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        mark = getattr(view, ACCESS_MARK, None)
        if mark is not None:
            return mark
        view = getattr(view, "__wrapped__", None) or getattr(view, "view_class", None)
    return None


def own_holders(perm: Perm, region_ids: Iterable[int]) -> dict[int, list[int]]:
    """Per region, the active users holding ``perm`` by a grant on exactly that region — its own
    staff, not those of the regions above (one query): who is told about something addressed to
    the region itself (a supervision task, its monthly report, its assessment result)."""
    wanted = set(region_ids)
    out: dict[int, list[int]] = {rid: [] for rid in wanted}
    rows = (RoleAssignment.objects
            .filter(region_id__in=wanted, role__in=PERMISSIONS[perm], user__is_active=True)
            .values_list("user_id", "region_id").distinct().order_by("user_id"))
    for user_id, region_id in rows:
        if user_id not in out[region_id]:
            out[region_id].append(user_id)
    return out


def holders(perm: Perm, region: Region) -> QuerySet[Any]:
    """Active users who hold ``perm`` over ``region`` (a grant on the region or an ancestor): who
    to tell about something there (a venue's maintenance tickets go to its managers)."""
    from django.contrib.auth import get_user_model

    ids = [*region.ancestor_ids, region.pk]
    return (get_user_model().objects
            .filter(is_active=True,
                    pk__in=RoleAssignment.objects.filter(role__in=PERMISSIONS[perm],
                                                         region_id__in=ids)
                    .values("user_id"))
            .order_by("pk"))
