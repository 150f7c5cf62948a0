"""Assessment pages (考核) and the city's index configuration, in the staff console:

- ``/cockpit/assessments/``: the current region's index, the assessments it made (when the actor
  assesses there) and the published ones that score it;
- ``/cockpit/assessments/new/``: open the draft for a period;
- ``/cockpit/assessments/<id>/``: the score sheet (subunits × items, totals, ranks); on a draft
  the assessors enter the manual scores inline, change the manual items, recompute, publish
  (after a confirmation page) or, once published, open a correction;
- ``/cockpit/assessments/<id>/ranking/`` (printable) and ``ranking.xlsx``;
- ``/cockpit/index/``: the city's index configuration (city staff).

Who sees what is the service's rule (``sportsman.cockpit.assessment``): drafts the assessing
level only, a published assessment also the subunits it scores. Refusals of a service come back
on the same page; the page's inputs are kept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.cockpit import assessment as svc
from sportsman.cockpit import index, periods
from sportsman.cockpit.models.assessment import (
    AssessmentStatus,
    Direction,
    ItemKind,
    Normalisation,
)
from sportsman.cockpit.periods import Grain
from sportsman.core import xlsx
from sportsman.core.errors import Forbidden, InvalidInput
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.models import Region
from sportsman.regions.views import ConsoleState, _render, console_state

SECTION = "assessments"
MANUAL_ROWS_EXTRA = 2
NEW_MANUAL_ROWS = 4


def _page(request: HttpRequest, template: str, state: ConsoleState, *, status: int = 200,
          **context: Any) -> HttpResponse:
    response = _render(request, template, state, SECTION, **context)
    response.status_code = status
    return response


def _period_choices(today: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """Recent periods to assess, newest first, grouped by kind."""
    month = periods.period_containing(Grain.MONTH, today)
    quarter = periods.period_containing(Grain.QUARTER, today)
    year = periods.period_containing(Grain.YEAR, today)
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for label, first, count in ((_("Monthly"), month, 12), (_("Quarterly"), quarter, 5),
                                (_("Yearly"), year, 3)):
        found, p = [], first
        for _n in range(count):
            if p.start.year < periods.FIRST_YEAR:
                break
            found.append((p.key, p.label()))
            p = p.previous()
        groups.append((label, found))
    return groups


def _rows(data: Any, prefix: str, fields: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Numbered input rows ``<prefix>-<field>-<n>`` of a POST, blank rows left out."""
    out = []
    for n in range(50):
        values = {f: (data.get(f"{prefix}-{f}-{n}") or "").strip() for f in fields}
        if any(values.values()):
            out.append((n, values))
    return out


def _row_errors(exc: InvalidInput, prefix: str, rows: list[int]) -> tuple[dict[int, list[str]],
                                                                         list[str]]:
    """The service's ``<prefix>.<i>.<field>`` problems by page row, and the rest."""
    by_row: dict[int, list[str]] = {}
    other: list[str] = []
    for key, problem in exc.fields.items():
        parts = key.split(".")
        if parts[0] == prefix and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(
                rows):
            by_row.setdefault(rows[int(parts[1])], []).append(str(problem))
        else:
            other.append(str(problem))
    return by_row, other or [str(exc.message)]


def _manual_items(rows: list[tuple[int, dict[str, str]]]) -> list[svc.ManualItem]:
    return [svc.ManualItem(v["name"], v["max"]) for _n, v in rows]


# --- the list ----------------------------------------------------------------------------------


@scoped(Perm.COCKPIT_VIEW)
def assessment_list(request: HttpRequest) -> HttpResponse:
    """The current region's index and its assessments, made and received."""
    state = console_state(request)
    access, region = state.access, state.region
    try:
        period = periods.parse(request.GET.get("period"))
    except InvalidInput:
        period = periods.parse(None)
    sees = access.can(Perm.COCKPIT_VIEW, region)
    assesses = access.can(Perm.ASSESS, region) and region.level in svc.ASSESSING_LEVELS
    return _render(
        request, "cockpit/assessment/list.html", state, SECTION,
        made=list(svc.assessments_by(region)[:100]) if assesses else None,
        received=list(svc.assessments_of(region)[:50]) if sees else [],
        index_panel=index.panel_dict(index.panel(region, period)) if sees else None,
        period=period, can_configure=access.has_anywhere(Perm.INDEX_CONFIG))


@scoped(Perm.ASSESS)
def assessment_new(request: HttpRequest) -> HttpResponse:
    """Open the draft assessment of the current region for a period."""
    state = console_state(request)
    choices = _period_choices(timezone.localdate())
    errors: dict[int, list[str]] = {}
    problems: list[str] = []
    chosen = request.POST.get("period", "") if request.method == "POST" else ""
    rows: list[tuple[int, dict[str, str]]] = []
    status = 200
    if request.method == "POST":
        rows = _rows(request.POST, "item", ("name", "max"))
        try:
            made = svc.create_assessment(
                actor=state.access, region=state.region, period=periods.parse(chosen or None),
                manual_items=_manual_items(rows) or None, request=request)
        except InvalidInput as exc:
            errors, problems = _row_errors(exc, "manual_items", [n for n, _v in rows])
            status = 400
        except svc.AssessmentExists as exc:
            problems, status = [str(exc.message)], exc.status
        else:
            messages.success(request, _("The draft assessment is open: enter the manual scores, "
                                        "then publish it."))
            return HttpResponseRedirect(reverse("cockpit:assessment", args=[made.pk]))
    posted = dict(rows)
    lines = [{"n": n, **posted.get(n, {"name": "", "max": ""}), "errors": errors.get(n, [])}
             for n in range(max(NEW_MANUAL_ROWS, max(posted, default=-1) + 1))]
    return _page(request, "cockpit/assessment/new.html", state, choices=choices,
                   chosen=chosen, lines=lines, problems=problems,
                   assesses=state.access.can(Perm.ASSESS, state.region)
                   and state.region.level in svc.ASSESSING_LEVELS, status=status)


# --- the score sheet ---------------------------------------------------------------------------


def _grid(sheet: svc.ScoreSheet, posted: dict[str, tuple[str, str]] | None = None,
          errors: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    posted, errors = posted or {}, errors or {}
    out = []
    for row in sheet.rows:
        cells = []
        for item, cell in zip(sheet.items, row.cells, strict=True):
            key = f"{row.entry.pk}-{item.pk}"
            points, note = posted.get(key, (None, None))
            cells.append({"item": item, "cell": cell, "key": key,
                          "manual": item.kind == ItemKind.MANUAL,
                          "points": cell.points if points is None else points,
                          "note": cell.note if note is None else note,
                          "errors": errors.get(key, [])})
        out.append({"entry": row.entry, "cells": cells})
    return out


def _manual_lines(sheet: svc.ScoreSheet, rows: list[tuple[int, dict[str, str]]] | None = None,
                  errors: dict[int, list[str]] | None = None) -> list[dict[str, Any]]:
    if rows is None:
        rows = [(n, {"name": i.name, "max": str(i.max_score)})
                for n, i in enumerate(sheet.manual_items)]
    posted, errors = dict(rows), errors or {}
    size = max(posted, default=-1) + 1 + MANUAL_ROWS_EXTRA
    return [{"n": n, **posted.get(n, {"name": "", "max": ""}), "errors": errors.get(n, [])}
            for n in range(min(size, svc.MAX_MANUAL_ITEMS + MANUAL_ROWS_EXTRA))]


def _sheet_page(request: HttpRequest, assessment_id: int, *, status: int = 200,
                **context: Any) -> HttpResponse:
    state = console_state(request)
    a = svc.get_assessment(state.access, assessment_id)
    sheet = svc.score_sheet(a)
    manages = svc.can_manage(state.access, a)
    context.setdefault("grid", _grid(sheet))
    context.setdefault("manual_lines", _manual_lines(sheet))
    correction = getattr(a, "correction", None) if a.status != AssessmentStatus.DRAFT else None
    return _page(request, "cockpit/assessment/sheet.html", state, a=a, sheet=sheet,
                   manages=manages, editable=manages and a.status == AssessmentStatus.DRAFT,
                   correction=correction, status=status, **context)


@scoped(Perm.COCKPIT_VIEW)
def assessment_sheet(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """The score sheet; a POST saves the manual scores entered inline (all or nothing)."""
    if request.method != "POST":
        return _sheet_page(request, assessment_id)
    access = access_for(request)
    a = svc.get_assessment(access, assessment_id)
    sheet = svc.score_sheet(a)
    keys: list[str] = []
    scores: list[svc.ScoreInput] = []
    posted: dict[str, tuple[str, str]] = {}
    for row in sheet.rows:
        for item in sheet.manual_items:
            key = f"{row.entry.pk}-{item.pk}"
            if f"p-{key}" not in request.POST:
                continue
            points, note = request.POST.get(f"p-{key}", ""), request.POST.get(f"n-{key}", "")
            posted[key] = (points, note)
            keys.append(key)
            scores.append(svc.ScoreInput(row.entry.region_id, item.pk, points.strip() or None,
                                         note))
    try:
        svc.enter_scores(actor=access, assessment_id=a.pk, scores=scores, request=request)
    except InvalidInput as exc:
        errors: dict[str, list[str]] = {}
        other = []
        for field, problem in exc.fields.items():
            parts = field.split(".")
            if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(keys):
                errors.setdefault(keys[int(parts[1])], []).append(str(problem))
            else:
                other.append(str(problem))
        return _sheet_page(request, a.pk, status=400, grid=_grid(sheet, posted, errors),
                           score_problems=[str(exc.message), *other])
    messages.success(request, _("Scores saved."))
    return HttpResponseRedirect(reverse("cockpit:assessment", args=[a.pk]))


@scoped(Perm.ASSESS)
@require_POST
def assessment_items(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """Replace a draft's manual items."""
    access = access_for(request)
    rows = _rows(request.POST, "item", ("name", "max"))
    try:
        svc.set_manual_items(actor=access, assessment_id=assessment_id,
                             items=_manual_items(rows), request=request)
    except InvalidInput as exc:
        errors, other = _row_errors(exc, "manual_items", [n for n, _v in rows])
        a = svc.get_assessment(access, assessment_id)
        return _sheet_page(request, a.pk, status=400, item_problems=other,
                           manual_lines=_manual_lines(svc.score_sheet(a), rows, errors))
    messages.success(request, _("Manual items saved."))
    return HttpResponseRedirect(reverse("cockpit:assessment", args=[assessment_id]))


@scoped(Perm.ASSESS)
@require_POST
def assessment_recompute(request: HttpRequest, assessment_id: int) -> HttpResponse:
    svc.recompute(actor=access_for(request), assessment_id=assessment_id, request=request)
    messages.success(request, _("The data items were recomputed from the latest figures."))
    return HttpResponseRedirect(reverse("cockpit:assessment", args=[assessment_id]))


@scoped(Perm.ASSESS)
def assessment_publish(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """A confirmation page; its POST publishes."""
    state = console_state(request)
    a = svc.get_assessment(state.access, assessment_id)
    if not svc.can_manage(state.access, a):
        raise Forbidden()
    if request.method == "POST":
        svc.publish(actor=state.access, assessment_id=a.pk, request=request)
        messages.success(request, _("The assessment is published; the subunits were told "
                                    "their scores and ranks."))
        return HttpResponseRedirect(reverse("cockpit:assessment_ranking", args=[a.pk]))
    return _render(request, "cockpit/assessment/publish.html", state, SECTION, a=a,
                   sheet=svc.score_sheet(a))


class ReviseForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is it corrected?"),
                             max_length=svc.REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}))


@scoped(Perm.ASSESS)
def assessment_revise(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """Open a correction of a published assessment."""
    state = console_state(request)
    a = svc.get_assessment(state.access, assessment_id)
    if not svc.can_manage(state.access, a):
        raise Forbidden()
    form = ReviseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new = svc.revise(actor=state.access, assessment_id=a.pk,
                         reason=form.cleaned_data["reason"], request=request)
        messages.success(request, _("The correction is open as a draft. The published "
                                    "assessment stays until the correction is published."))
        return HttpResponseRedirect(reverse("cockpit:assessment", args=[new.pk]))
    return _page(request, "cockpit/assessment/revise.html", state, a=a, form=form,
                   status=400 if form.errors else 200)


@scoped(Perm.COCKPIT_VIEW)
def assessment_ranking(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """The ranking, printable."""
    state = console_state(request)
    a = svc.get_assessment(state.access, assessment_id)
    sheet = svc.score_sheet(a)
    return _render(request, "cockpit/assessment/ranking.html", state, SECTION, a=a, sheet=sheet,
                   grid=_grid(sheet))


@scoped(Perm.COCKPIT_VIEW)
def assessment_xlsx(request: HttpRequest, assessment_id: int) -> HttpResponse:
    stem, content = svc.ranking_xlsx(access=access_for(request), assessment_id=assessment_id,
                                     request=request)
    return xlsx.download(content, stem)


# --- the index configuration -------------------------------------------------------------------


def _config_city(request: HttpRequest) -> Region:
    """The current region's city when the actor configures its index; else their first city."""
    state = console_state(request)
    city = index.city_of(state.region)
    if city is not None and state.access.can(Perm.INDEX_CONFIG, city):
        return city
    found = state.access.regions(Perm.INDEX_CONFIG).filter(level="city").order_by("path").first()
    if found is None:
        raise Forbidden(_("Only city staff configure the sports index."))
    return found


INDICATOR_FIELDS = ("figure", "weight", "direction", "normalisation", "target")


@scoped(Perm.INDEX_CONFIG)
def index_config(request: HttpRequest) -> HttpResponse:
    """The city's index configuration: the current version, a form saving the next one, and
    the earlier versions."""
    state = console_state(request)
    city = _config_city(request)
    config = index.current_config(city)
    errors: dict[int, list[str]] = {}
    problems: list[str] = []
    note = ""
    status = 200
    if request.method == "POST":
        rows = _rows(request.POST, "ind", ("figure", "weight", "target"))
        rows = [(n, {**v, "direction": request.POST.get(f"ind-direction-{n}", ""),
                     "normalisation": request.POST.get(f"ind-normalisation-{n}", "")})
                for n, v in rows]
        note = request.POST.get("note", "")
        try:
            index.save_config(actor=state.access, city=city, note=note, request=request,
                              indicators=[index.IndicatorInput(
                                  v["figure"], v["weight"], v["direction"], v["normalisation"],
                                  v["target"] or None) for _n, v in rows])
        except InvalidInput as exc:
            errors, problems = _row_errors(exc, "indicators", [n for n, _v in rows])
            status = 400
        except index.IndexConfigChanged as exc:
            problems, status = [str(exc.message)], exc.status
        else:
            messages.success(request, _("The index configuration is saved as a new version."))
            return HttpResponseRedirect(reverse("cockpit:index_config"))
    else:
        source: list[Any] = (list(config.indicators.all()) if config is not None
                             else index.default_indicators())
        rows = [(n, {"figure": i.figure, "weight": str(i.weight), "direction": i.direction,
                     "normalisation": i.normalisation,
                     "target": "" if i.target is None else f"{Decimal(i.target).normalize():f}"})
                for n, i in enumerate(source)]
    posted = dict(rows)
    blank = {"figure": "", "weight": "", "direction": Direction.HIGHER,
             "normalisation": Normalisation.MINMAX, "target": ""}
    size = min(max(posted, default=-1) + 1 + MANUAL_ROWS_EXTRA, index.MAX_INDICATORS)
    lines = [{"n": n, **posted.get(n, blank), "errors": errors.get(n, [])}
             for n in range(max(size, len(posted)))]
    catalogue = index.catalogue()
    return _page(request, "cockpit/assessment/index_config.html", state, city=city,
                   config=config, lines=lines, problems=problems, note=note,
                   choices=[(k, v.label) for k, v in catalogue.items()],
                   current=[{"i": i, "label": index.label_of(i.figure)}
                            for i in (config.indicators.all() if config else [])],
                   directions=Direction.choices, normalisations=Normalisation.choices,
                   history=index.config_history(city), status=status)


urlpatterns = [
    path("assessments/", assessment_list, name="assessments"),
    path("assessments/new/", assessment_new, name="assessment_new"),
    path("assessments/<int:assessment_id>/", assessment_sheet, name="assessment"),
    path("assessments/<int:assessment_id>/items/", assessment_items, name="assessment_items"),
    path("assessments/<int:assessment_id>/recompute/", assessment_recompute,
         name="assessment_recompute"),
    path("assessments/<int:assessment_id>/publish/", assessment_publish,
         name="assessment_publish"),
    path("assessments/<int:assessment_id>/revise/", assessment_revise, name="assessment_revise"),
    path("assessments/<int:assessment_id>/ranking/", assessment_ranking,
         name="assessment_ranking"),
    path("assessments/<int:assessment_id>/ranking.xlsx", assessment_xlsx,
         name="assessment_xlsx"),
    path("index/", index_config, name="index_config"),
]
