"""Staff console pages (``Perm.EVENT_MANAGE``; events outside the actor's subtrees are not
found): the events of my regions, the create / edit form, an event (status actions, its
registrations, results and qualifiers, the xlsx of registrations), and the check-in scanner."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core import xlsx
from sportsman.core.errors import DomainError
from sportsman.core.models import Sport
from sportsman.events import selectors, services
from sportsman.events.models import (
    ChallengeMetric,
    Entry,
    EventStatus,
    Mode,
    OrganiserKind,
    RegStatus,
    ResultOrder,
)
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.views import _render, console_state

SECTION = "events"
DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.Form):
    region = forms.TypedChoiceField(label=gettext_lazy("Region"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    sport = forms.TypedChoiceField(label=gettext_lazy("Sport"), coerce=int, required=False,
                                   empty_value=None)
    mode = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Mode.choices)
    entry = forms.ChoiceField(label=gettext_lazy("Entry"), choices=Entry.choices)
    team_min = forms.IntegerField(label=gettext_lazy("Team: fewest members"), min_value=1,
                                  max_value=50, initial=2)
    team_max = forms.IntegerField(label=gettext_lazy("Team: most members"), min_value=1,
                                  max_value=50, initial=10)
    organiser_kind = forms.ChoiceField(label=gettext_lazy("Organiser"),
                                       choices=OrganiserKind.choices)
    organiser_name = forms.CharField(label=gettext_lazy("Organiser name"), max_length=100,
                                     required=False)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=DT)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), widget=DT)
    registration_opens_at = forms.DateTimeField(label=gettext_lazy("Registration opens"),
                                                widget=DT)
    registration_closes_at = forms.DateTimeField(label=gettext_lazy("Registration closes"),
                                                 widget=DT)
    capacity = forms.IntegerField(label=gettext_lazy("Places"), min_value=1, max_value=100_000)
    has_waitlist = forms.BooleanField(label=gettext_lazy("Waitlist when full"), required=False,
                                      initial=True)
    age_min = forms.IntegerField(label=gettext_lazy("Lowest age"), min_value=0, max_value=120,
                                 required=False)
    age_max = forms.IntegerField(label=gettext_lazy("Highest age"), min_value=0, max_value=120,
                                 required=False)
    sex = forms.ChoiceField(label=gettext_lazy("Open to"), required=False, choices=[
        ("", gettext_lazy("everyone")), ("F", gettext_lazy("women")),
        ("M", gettext_lazy("men"))])
    target_interested = forms.BooleanField(
        label=gettext_lazy("Announce only to residents interested in the sport"),
        required=False)
    challenge_metric = forms.ChoiceField(label=gettext_lazy("Challenge counts"), required=False,
                                         choices=[("", "—"), *ChallengeMetric.choices])
    challenge_goal = forms.IntegerField(label=gettext_lazy("Challenge goal"), min_value=1,
                                        required=False)
    result_order = forms.ChoiceField(label=gettext_lazy("Results"),
                                     choices=ResultOrder.choices)
    parent = forms.IntegerField(label=gettext_lazy("Next round (event number)"),
                                required=False, min_value=1)
    qualifiers_only = forms.BooleanField(
        label=gettext_lazy("Only qualifiers of earlier rounds take part"), required=False)
    form_fields = forms.CharField(
        label=gettext_lazy("Registration questions (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy('e.g. [{"key": "size", "label": "T-shirt size", "type": '
                               '"choice", "choices": ["S", "M", "L"], "required": true}]'))

    def __init__(self, *args: Any, regions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region: Any = self.fields["region"]
        region.choices = [(r.pk, r.name) for r in regions]
        sport: Any = self.fields["sport"]
        sport.choices = [("", "—"), *Sport.objects.order_by("name_zh")
                         .values_list("pk", "name_zh")]

    def clean_form_fields(self) -> list[Any]:
        raw = self.cleaned_data.get("form_fields") or ""
        if not raw.strip():
            return []
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("Not valid JSON.")) from None
        return value

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"title": d["title"], "description": d["description"], "sport_id": d["sport"],
                "mode": d["mode"], "entry": d["entry"], "team_min": d["team_min"],
                "team_max": d["team_max"], "organiser_kind": d["organiser_kind"],
                "organiser_name": d["organiser_name"], "place": d["place"],
                "starts_at": d["starts_at"], "ends_at": d["ends_at"],
                "registration_opens_at": d["registration_opens_at"],
                "registration_closes_at": d["registration_closes_at"],
                "capacity": d["capacity"], "has_waitlist": d["has_waitlist"],
                "age_min": d["age_min"], "age_max": d["age_max"], "sex": d["sex"] or "",
                "target_interested": d["target_interested"],
                "challenge_metric": d["challenge_metric"] or "",
                "challenge_goal": d["challenge_goal"], "result_order": d["result_order"],
                "parent_id": d["parent"], "qualifiers_only": d["qualifiers_only"],
                "form_fields": d["form_fields"]}


def _regions(request: HttpRequest) -> list[Any]:
    return list(access_for(request).regions(Perm.EVENT_MANAGE)
                .filter(level__in=services.EVENT_LEVELS).order_by("path")[:500])


def _errors_to_form(form: EventForm, exc: DomainError) -> None:
    names = {"sport_id": "sport", "parent_id": "parent", "region_id": "region"}
    placed = False
    for field, problems in exc.fields.items():
        name = names.get(field, field.split(".")[0])
        for problem in problems if isinstance(problems, list | tuple) else [problems]:
            form.add_error(name if name in form.fields else None, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


@scoped(Perm.EVENT_MANAGE)
def console_list(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    status = request.GET.get("status") if request.GET.get("status") in EventStatus.values \
        else None
    within = [g.path for g in access_for(request).roots(Perm.EVENT_MANAGE)]
    page = selectors.list_events(statuses=None, within=within, status=status,
                                 region_id=state.region.pk,
                                 cursor=request.GET.get("cursor") or None, limit=50)
    return _render(request, "events/console/list.html", state, SECTION, page=page,
                   status=status, statuses=EventStatus.choices)


@scoped(Perm.EVENT_MANAGE)
def console_new(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    regions = _regions(request)
    form = EventForm(request.POST or None, regions=regions,
                     initial={"region": state.region.pk})
    if request.method == "POST" and form.is_valid():
        try:
            event = services.create_event(actor=request.user,
                                          region_id=form.cleaned_data["region"],
                                          request=request, **form.values())
        except DomainError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Draft saved."))
            return HttpResponseRedirect(reverse("events:console_event", args=[event.pk]))
    return _render(request, "events/console/form.html", state, SECTION, form=form, event=None)


def _staff_event(request: HttpRequest, event_id: int) -> Any:
    try:
        return services.get_staff_event(request.user, event_id)
    except DomainError:
        raise Http404 from None


@scoped(Perm.EVENT_MANAGE)
def console_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    state = console_state(request)
    event = _staff_event(request, event_id)
    initial = {"region": event.region_id, "sport": event.sport_id, "parent": event.parent_id,
               "form_fields": json.dumps(event.form_fields, ensure_ascii=False)
               if event.form_fields else "",
               **{k: getattr(event, k) for k in (
                   "title", "description", "mode", "entry", "team_min", "team_max",
                   "organiser_kind", "organiser_name", "place", "starts_at", "ends_at",
                   "registration_opens_at", "registration_closes_at", "capacity",
                   "has_waitlist", "age_min", "age_max", "sex", "target_interested",
                   "challenge_metric", "challenge_goal", "result_order", "qualifiers_only")}}
    form = EventForm(request.POST or None, regions=[event.region], initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_event(actor=request.user, event_id=event.pk, request=request,
                                  **form.values())
        except DomainError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("events:console_event", args=[event.pk]))
    return _render(request, "events/console/form.html", state, SECTION, form=form, event=event)


@scoped(Perm.EVENT_MANAGE)
def console_event(request: HttpRequest, event_id: int) -> HttpResponse:
    state = console_state(request)
    event = _staff_event(request, event_id)
    regs = list(selectors.event_registrations(event)[:500])
    return _render(request, "events/console/event.html", state, SECTION, event=event,
                   registrations=regs, statuses=EventStatus, reg_statuses=RegStatus,
                   rounds=list(event.rounds.order_by("starts_at")),
                   can=services.TRANSITIONS.get(event.status, frozenset()))


ACTIONS = {"file": services.file_event, "publish": services.publish_event,
           "cancel": services.cancel_event, "finish": services.finish_event}


@scoped(Perm.EVENT_MANAGE)
@require_POST
def console_action(request: HttpRequest, event_id: int, action: str) -> HttpResponse:
    fn = ACTIONS.get(action)
    if fn is None:
        raise Http404
    kwargs: dict[str, Any] = {"reason": request.POST.get("reason", "")} if action == "cancel" \
        else {}
    try:
        fn(actor=request.user, event_id=event_id, request=request, **kwargs)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Done."))
    return HttpResponseRedirect(reverse("events:console_event", args=[event_id]))


@scoped(Perm.EVENT_MANAGE)
@require_POST
def console_results(request: HttpRequest, event_id: int) -> HttpResponse:
    """Scores typed per registration (``score_<id>``), then the qualifiers ticked
    (``qualifier``)."""
    event = _staff_event(request, event_id)
    results = []
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("score_") and value.strip():
            try:
                results.append({"registration_id": int(key[6:]), "score": float(value)})
            except ValueError:
                messages.error(request, _("A score must be a number."))
                return HttpResponseRedirect(reverse("events:console_event", args=[event.pk]))
    qualifiers = [int(v) for v in request.POST.getlist("qualifier") if v.isdigit()]
    try:
        if results:
            services.enter_results(actor=request.user, event_id=event.pk, results=results,
                                   request=request)
        if qualifiers:
            services.mark_qualifiers(actor=request.user, event_id=event.pk,
                                     registration_ids=qualifiers, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Results saved."))
    return HttpResponseRedirect(reverse("events:console_event", args=[event.pk]))


@scoped(Perm.EVENT_MANAGE)
def console_export(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _staff_event(request, event_id)
    rows = ([r.pk, r.user.nickname, r.user.masked_phone, r.team_name, r.get_status_display(),
             r.created_at, r.checked_in_at, r.rank, r.score]
            for r in selectors.event_registrations(event).iterator())
    headers = [_("No."), _("Name"), _("Phone"), _("Team"), _("Status"), _("Registered"),
               _("Checked in"), _("Rank"), _("Result")]
    from sportsman.core import audit

    audit.record(actor=request.user, action="event.export", kind="view", obj=event,
                 region=event.region, request=request)
    return xlsx.download(xlsx.workbook([(event.title, headers, rows)]), f"event-{event.pk}")


@scoped(Perm.EVENT_MANAGE)
def console_scan(request: HttpRequest) -> HttpResponse:
    """The check-in scanner: a camera or a keyboard wedge types the QR text into the field."""
    state = console_state(request)
    done = None
    if request.method == "POST":
        event_id = request.POST.get("event", "")
        try:
            done = services.check_in(actor=request.user, code=request.POST.get("code", ""),
                                     event_id=int(event_id) if event_id.isdigit() else None,
                                     request=request)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Checked in: %(name)s")
                             % {"name": done.team_name or done.user.nickname})
    return _render(request, "events/console/scan.html", state, SECTION, done=done,
                   event_id=request.POST.get("event") or request.GET.get("event", ""))


urlpatterns = [
    path("console/", console_list, name="console"),
    path("console/new/", console_new, name="console_new"),
    path("console/scan/", console_scan, name="console_scan"),
    path("console/<int:event_id>/", console_event, name="console_event"),
    path("console/<int:event_id>/edit/", console_edit, name="console_edit"),
    path("console/<int:event_id>/results/", console_results, name="console_results"),
    path("console/<int:event_id>/registrations.xlsx", console_export, name="console_export"),
    path("console/<int:event_id>/<str:action>/", console_action, name="console_action"),
]
