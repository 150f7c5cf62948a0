"""The staff console's groups section: new groups awaiting approval, reports from group spaces
and chats, the region's creation rule, and the year's star groups (for cities, districts and
towns) — each for the current region's subtree."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core import wording
from sportsman.core.errors import InvalidInput
from sportsman.groups import services, space, stars
from sportsman.groups.models import CreationRule, GroupStatus, ReportStatus
from sportsman.regions.access import Perm, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "groups"


@scoped(Perm.GROUP_MANAGE)
def home(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    access = state.access
    region = state.region
    in_region = services.groups_in_scope(access).filter(subtree_q(region.path, "region"))
    year = timezone.localdate().year
    rule = CreationRule.objects.filter(region=region).first()
    reports = (space.reports_in_scope(request.user)
               .filter(subtree_q(region.path, "group__region"), status=ReportStatus.OPEN)
               .order_by("id")[:50])
    return _render(request, "groups/console/home.html", state, SECTION,
                   pending=in_region.filter(status=GroupStatus.PENDING).order_by("id")[:100],
                   counts={s: in_region.filter(status=s).count() for s in GroupStatus.values},
                   reports=reports, rule=rule,
                   applies=services.needs_approval(region),
                   can_manage=access.can(Perm.GROUP_MANAGE, region),
                   star_level=region.level in stars.STAR_LEVELS, year=year,
                   top=stars.top_groups(region, year=year, limit=20)
                   if region.level in stars.STAR_LEVELS else [],
                   stars=set(stars.stars_of(year).filter(region=region)
                             .values_list("group_id", flat=True)),
                   candidates=stars.fitness_candidates(region, year=year)
                   if region.level in stars.STAR_LEVELS else [],
                   fitness=set(stars.fitness_stars_of(year).filter(region=region)
                               .values_list("user_id", flat=True)),
                   words=(list(wording.words_in_scope(access).order_by("word")[:500])
                          if access.has_anywhere(Perm.WORDS_MANAGE) else None))


@scoped(Perm.GROUP_MANAGE)
@require_POST
def review(request: HttpRequest, group_id: int) -> HttpResponse:
    approve = request.POST.get("approve") == "1"
    services.review_group(actor=request.user, group_id=group_id, approve=approve,
                          note=request.POST.get("note", "")[:200], request=request)
    messages.success(request, _("Approved.") if approve else _("Rejected."))
    return HttpResponseRedirect(reverse("groups:console"))


@scoped(Perm.GROUP_MANAGE)
@require_POST
def handle_report(request: HttpRequest, report_id: int) -> HttpResponse:
    uphold = request.POST.get("uphold") == "1"
    raw = request.POST.get("mute_minutes", "0")
    space.handle_report(actor=request.user, report_id=report_id, uphold=uphold,
                        mute_minutes=int(raw) if raw.isdigit() and int(raw) <= 43_200 else 0,
                        request=request)
    messages.success(request, _("Removed.") if uphold else _("Dismissed."))
    return HttpResponseRedirect(reverse("groups:console") + "#reports")


@scoped(Perm.GROUP_MANAGE)
@require_POST
def rule(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    services.set_rule(actor=request.user, region_id=state.region.pk,
                      needs_approval=request.POST.get("needs_approval") == "1", request=request)
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("groups:console") + "#rule")


def _confirm(request: HttpRequest, field: str, confirm: Any, done: str, anchor: str
             ) -> HttpResponse:
    """Star groups or fitness stars of this year for the current region, from the ticked
    ``field`` boxes."""
    state = console_state(request)
    ids = [int(v) for v in request.POST.getlist(field) if v.isdigit() and int(v) < 2**63]
    if not ids:
        raise InvalidInput(_("Choose at least one."))
    confirm(actor=request.user, region_id=state.region.pk, year=timezone.localdate().year,
            ids=ids, request=request)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("groups:console") + anchor)


@scoped(Perm.GROUP_MANAGE)
@require_POST
def confirm_stars(request: HttpRequest) -> HttpResponse:
    return _confirm(request, "group", lambda ids, **kw: stars.confirm_stars(group_ids=ids, **kw),
                    _("Star groups confirmed."), "#stars")


@scoped(Perm.GROUP_MANAGE)
@require_POST
def confirm_fitness(request: HttpRequest) -> HttpResponse:
    return _confirm(request, "user",
                    lambda ids, **kw: stars.confirm_fitness_stars(user_ids=ids, **kw),
                    _("Fitness stars confirmed."), "#fitness")


@scoped(Perm.WORDS_MANAGE)
@require_POST
def words(request: HttpRequest) -> HttpResponse:
    """City staff add a word to their city's list, or remove one."""
    state = console_state(request)
    raw = request.POST.get("remove", "")
    if raw.isdigit() and int(raw) < 2**63:
        wording.remove_word(actor=request.user, word_id=int(raw), request=request)
        messages.success(request, _("Removed."))
    else:
        city = next((r for r in [*state.region.ancestors(), state.region] if r.level == "city"),
                    None)
        if city is None:
            raise InvalidInput(_("Choose a city or a region inside one first."))
        wording.add_word(actor=request.user, region_id=city.pk,
                         word=request.POST.get("word", ""), request=request)
        messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("groups:console") + "#words")


urlpatterns: list[URLPattern] = [
    path("console/", home, name="console"),
    path("console/<int:group_id>/review/", review, name="console_review"),
    path("console/reports/<int:report_id>/", handle_report, name="console_report"),
    path("console/rule/", rule, name="console_rule"),
    path("console/stars/", confirm_stars, name="console_stars"),
    path("console/words/", words, name="console_words"),
    path("console/fitness/", confirm_fitness, name="console_fitness"),
]
