"""The staff console: region switcher, region summary, residents, audit log.

The console works on one "current region" kept in the session. It is re-validated through
``Access`` on every request (a role may have been withdrawn since it was chosen): a region
outside the actor's ``REGION_VIEW`` subtrees is dropped and the first root taken instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from sportsman.accounts.models import User
from sportsman.core.errors import Forbidden, InvalidInput
from sportsman.core.models import AuditEntry
from sportsman.core.selectors import AuditFilters, list_audit_entries_for, page_of
from sportsman.core.views import safe_next
from sportsman.regions.access import Access, Perm, access_for, scoped
from sportsman.regions.models import Region, subtree_q

SESSION_REGION = "console_region_id"
PAGE_SIZE = 50


@dataclass
class ConsoleState:
    access: Access
    region: Region
    trail: list[Region]  # in-scope ancestors of ``region``, top first, without ``region``
    roots: list[Region]
    children: list[Region]


def console_state(request: HttpRequest) -> ConsoleState:
    access = access_for(request)
    roots = list(access.root_regions(Perm.REGION_VIEW))
    if not roots:
        raise Forbidden()
    region = None
    region_id = request.session.get(SESSION_REGION)
    if region_id is not None:
        region = access.regions(Perm.REGION_VIEW).filter(pk=region_id).first()
    if region is None:
        region = roots[0]
        request.session[SESSION_REGION] = region.pk
    trail = [r for r in region.ancestors() if access.can(Perm.REGION_VIEW, r)]
    children = list(region.children.order_by("code"))
    return ConsoleState(access, region, trail, roots, children)


def _render(request: HttpRequest, template: str, state: ConsoleState, section: str,
            **context: Any) -> HttpResponse:
    access = state.access
    context.update({
        "state": state, "section": section,
        "can_audit": access.has_anywhere(Perm.AUDIT_VIEW),
        "can_residents": access.has_anywhere(Perm.RESIDENT_VIEW),
        "can_venues": access.has_anywhere(Perm.FACILITY_MANAGE),
        "can_subsidy": access.has_anywhere(Perm.SUBSIDY_ALLOCATE),
        "can_vouchers": access.has_anywhere(Perm.VOUCHER_MANAGE),
        "can_rewards": access.has_anywhere(Perm.REWARDS_MANAGE),
        "can_merchants": access.has_anywhere(Perm.MERCHANT_REVIEW),
        "can_cockpit": access.has_anywhere(Perm.COCKPIT_VIEW),
        "can_supervision": access.has_anywhere(Perm.SUPERVISION),
        "can_assess": access.has_anywhere(Perm.ASSESS),
        "can_groups": access.has_anywhere(Perm.GROUP_MANAGE),
        "can_events": access.has_anywhere(Perm.EVENT_MANAGE),
        "can_window": access.has_anywhere(Perm.APPLICATION_REVIEW),
        "can_instructors": access.has_anywhere(Perm.INSTRUCTOR_MANAGE),
        "can_governance": any(access.has_anywhere(p) for p in (
            Perm.REPORT_HANDLE, Perm.REPORT_RULES, Perm.DELIBERATION_MANAGE, Perm.SURVEY_MANAGE,
            Perm.POST_MODERATE, Perm.VOLUNTEER_MANAGE)),
        # Associations: evaluation (staff, evaluators) and the information board.
        "can_evaluation": access.has_anywhere(Perm.EVALUATION_MANAGE),
        "can_evaluate": access.has_anywhere(Perm.EVALUATION_SCORE),
        "can_board": access.has_anywhere(Perm.BOARD_PUBLISH),
        # Open interfaces: webhook subscriptions.
        "can_webhooks": access.has_anywhere(Perm.WEBHOOK_MANAGE),
        # Physical fitness tests: stations, imports, records.
        "can_fitness": access.has_anywhere(Perm.FITNESS_MANAGE),
        "can_exchange": access.has_anywhere(Perm.EXCHANGE_MANAGE),
        # Targeted campaigns to the residents of the subtree.
        "can_campaigns": access.has_anywhere(Perm.CAMPAIGN_SEND),
    })
    return render(request, template, context)


@scoped(Perm.REGION_VIEW)
@require_POST
def switch_region(request: HttpRequest) -> HttpResponse:
    """Make ``region`` current; only a region inside the actor's subtrees may be chosen."""
    try:
        region_id = int(request.POST.get("region", ""))
    except ValueError:
        raise Forbidden() from None
    region = access_for(request).regions(Perm.REGION_VIEW).filter(pk=region_id).first()
    if region is None:
        raise Forbidden()
    request.session[SESSION_REGION] = region.pk
    return HttpResponseRedirect(safe_next(request, reverse("console:home")))


@scoped(Perm.CONSOLE)
def home(request: HttpRequest) -> HttpResponse:
    """The current region: its children, and residents counted by home community subtree."""
    state = console_state(request)
    region = state.region
    # One grouped query: residents per home community inside the current region, folded into
    # the children's subtrees here (at most a few thousand communities under a city).
    per_community = (
        state.access.scope(User.objects.filter(is_active=True), Perm.REGION_VIEW,
                           field="home_community")
        .filter(subtree_q(region.path, "home_community"))
        .values("home_community__path").annotate(n=Count("id"))
    )
    total = 0
    by_child = {child.pk: 0 for child in state.children}
    prefixes = [(child.path, child.pk) for child in state.children]
    for row in per_community:
        total += row["n"]
        for prefix, pk in prefixes:
            if row["home_community__path"].startswith(prefix):
                by_child[pk] += row["n"]
                break
    rows = [(child, by_child[child.pk]) for child in state.children]
    return _render(request, "console/home.html", state, "home", total=total, rows=rows)


class ResidentFilter(forms.Form):
    q = forms.CharField(label=_("Nickname contains"), required=False, max_length=32)
    after = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)


@scoped(Perm.RESIDENT_VIEW)
def residents(request: HttpRequest) -> HttpResponse:
    """Residents whose home community lies under the current region; phones masked."""
    from sportsman.accounts.services import list_residents_for

    state = console_state(request)
    form = ResidentFilter(request.GET or None)
    q, after = "", None
    if form.is_valid():
        q, after = form.cleaned_data["q"] or "", form.cleaned_data["after"]
    qs = list_residents_for(state.access, region_id=state.region.pk, q=q)
    if after:
        qs = qs.filter(pk__gt=after)
    page = list(qs[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    next_query = None
    if has_more:
        next_query = urlencode({"q": q, "after": page[-1].pk})
    return _render(request, "console/residents.html", state, "residents", form=form,
                   residents=page, next_query=next_query)


class AuditFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("all")), *AuditEntry.Kind.choices])
    action = forms.CharField(label=_("Action"), required=False, max_length=65,
                             help_text=_('Exact, or a prefix ending in "*" (view.*).'))
    actor = forms.IntegerField(label=_("Actor (user id)"), required=False, min_value=1)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(actor_id=data.get("actor"), action=data.get("action") or None,
                            kind=data.get("kind") or None, date_from=data.get("date_from"),
                            date_to=data.get("date_to"))


@scoped(Perm.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log in the actor's scope (``core.selectors``), newest first, keyset-paged;
    the same filters export to xlsx through the API."""
    state = console_state(request)
    form = AuditFilter(request.GET or None)
    filters = form.filters() if form.is_valid() else AuditFilters()
    try:
        qs = list_audit_entries_for(state.access, filters)
        entries, next_cursor = page_of(qs, cursor=request.GET.get("cursor") or None,
                                       limit=PAGE_SIZE)
    except InvalidInput as exc:
        form.add_error(None, str(exc.message))
        entries, next_cursor = [], None
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    next_query = urlencode({**params, "cursor": next_cursor}) if next_cursor else None
    export_query = urlencode({_EXPORT_NAMES.get(k, k): v for k, v in filters.as_dict().items()})
    return _render(request, "console/audit.html", state, "audit", form=form, entries=entries,
                   next_query=next_query, export_query=export_query)


# AuditFilters field → the API's query parameter
_EXPORT_NAMES = {"region_id": "region"}
