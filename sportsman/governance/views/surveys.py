"""Survey pages: residents' (the surveys open to me, answering one — also for a resident who
authorised me — and the thank-you state) and the console's (the region's surveys, the builder,
opening and closing, results as bars, the export)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core import xlsx
from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.governance import proxy, surveys
from sportsman.governance.models import QuestionKind, Survey, SurveyQuestion, SurveyStatus
from sportsman.governance.surveys_export import export
from sportsman.regions.access import Perm, for_self, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "governance"


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and int(raw) < 2**63 else None


def _number(raw: str) -> int | float | str | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return raw  # refused as not_a_number by the service
    return int(value) if value.is_integer() else value


# --- residents ----------------------------------------------------------------------------------


@for_self
def survey_list(request: HttpRequest) -> HttpResponse:
    """The surveys I may answer now, and those I answered."""
    return render(request, "governance/surveys/list.html", {
        "open": list(surveys.open_for(request.user)[:100]),
        "answered": surveys.answered_by(request.user)})


def answers_from(post: Any, questions: list[SurveyQuestion]) -> dict[str, Any]:
    """The answers of the answer form, in the service's shape (it validates them)."""
    out: dict[str, Any] = {}
    for q in questions:
        name = f"q{q.pk}"
        if q.kind in (QuestionKind.SINGLE, QuestionKind.RATING):
            raw = post.get(name, "")
            out[str(q.pk)] = _int(raw) if raw else None
        elif q.kind == QuestionKind.MULTIPLE:
            out[str(q.pk)] = [v for v in (_int(r) for r in post.getlist(name)) if v is not None]
        elif q.kind == QuestionKind.TEXT:
            out[str(q.pk)] = post.get(name, "")
        elif q.kind == QuestionKind.NUMBER:
            out[str(q.pk)] = _number(post.get(name, ""))
        else:
            out[str(q.pk)] = {str(i): v for i in range(len(q.rows))
                              if (v := _int(post.get(f"{name}_r{i}"))) is not None}
    return out


def _principals(user: Any, survey: Survey) -> list[Any]:
    """Residents I may answer for who are in the survey's audience."""
    return [g.principal for g in proxy.grants_held(user).select_related(
        "principal__home_community") if surveys.is_targeted(survey, g.principal)]


@for_self
def survey_page(request: HttpRequest, survey_id: int) -> HttpResponse:
    """A survey's questions to answer, or the "thank you" / already answered state. Someone
    acting for residents chooses whom they answer for."""
    user = request.user
    try:
        survey = surveys.visible_survey(user, survey_id)
        mine = True
    except surveys.SurveyNotFound:
        found = (Survey.objects.select_related("region").exclude(status=SurveyStatus.DRAFT)
                 .filter(pk=survey_id).first())
        if found is None:
            raise
        survey, mine = found, False
    principals = _principals(user, survey)
    if not mine and not principals:
        raise surveys.SurveyNotFound()
    questions = list(survey.questions.all())
    given: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    status = 200
    for_user = _int(request.POST.get("for_user")) if request.method == "POST" else None
    if request.method == "POST":
        given = answers_from(request.POST, questions)
        try:
            surveys.respond(actor=user, survey_id=survey.pk, answers=given,
                            for_user_id=for_user)
        except InvalidInput as exc:
            # shown on the form again, with what was given: nobody answers twice as much
            errors, status = exc.fields, 400
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you for answering."))
            return HttpResponseRedirect(reverse("governance:survey", args=[survey.pk]))
    answered = mine and surveys.has_answered(user, survey)
    pending = [p for p in principals if not surveys.has_answered(p, survey)]
    return render(request, "governance/surveys/answer.html", {
        "survey": survey, "items": form_items(questions, given, errors), "answered": answered,
        "accepting": surveys.is_accepting(survey), "can_self": mine and not answered,
        "is_over": survey.status == SurveyStatus.CLOSED or survey.closes_at <= timezone.now(),
        "principals": pending, "for_user": for_user, "show_form": surveys.is_accepting(survey)
        and ((mine and not answered) or bool(pending))}, status=status)


def form_items(questions: list[SurveyQuestion], given: dict[str, Any],
               errors: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """What the answer form shows per question: its options ticked as given, its errors."""
    items = []
    for q in questions:
        value = given.get(str(q.pk))
        picked = (set(value) if isinstance(value, list)
                  else {value} if isinstance(value, int) else set())
        item: dict[str, Any] = {"q": q, "errors": errors.get(f"q{q.pk}", []),
                                "value": "" if value is None else value}
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            item["options"] = [(i, label, i in picked) for i, label in enumerate(q.choices)]
        elif q.kind == QuestionKind.RATING:
            item["options"] = [(i, str(i), i in picked) for i in range(1, (q.scale or 5) + 1)]
        elif q.kind == QuestionKind.MATRIX:
            cells = value if isinstance(value, dict) else {}
            item["rows"] = [(r, label, [(c, column, cells.get(str(r)) == c)
                                        for c, column in enumerate(q.choices)])
                            for r, label in enumerate(q.rows)]
        items.append(item)
    return items


# --- console ------------------------------------------------------------------------------------


class SurveyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=80)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    is_anonymous = forms.BooleanField(label=gettext_lazy("Anonymous"), required=False)
    opens_at = forms.DateTimeField(label=gettext_lazy("Opens at"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    closes_at = forms.DateTimeField(label=gettext_lazy("Closes at"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    target_sex = forms.ChoiceField(label=gettext_lazy("Sex"), required=False, choices=[
        ("", gettext_lazy("anyone")), ("F", gettext_lazy("female")),
        ("M", gettext_lazy("male"))])
    target_age_min = forms.IntegerField(label=gettext_lazy("Youngest age"), required=False,
                                        min_value=0, max_value=120)
    target_age_max = forms.IntegerField(label=gettext_lazy("Oldest age"), required=False,
                                        min_value=0, max_value=120)
    target_sports = forms.MultipleChoiceField(label=gettext_lazy("Sport interests"),
                                              required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sports: Any = self.fields["target_sports"]
        sports.choices = [(s.slug, s.name) for s in Sport.objects.all()]

    def targeting(self) -> surveys.Targeting:
        d = self.cleaned_data
        return surveys.Targeting(sex=d["target_sex"], age_min=d["target_age_min"],
                                 age_max=d["target_age_max"], sports=d["target_sports"])


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=QuestionKind.choices)
    prompt = forms.CharField(label=gettext_lazy("Question"), max_length=200)
    is_required = forms.BooleanField(label=gettext_lazy("Required"), required=False,
                                     initial=True)
    choices = forms.CharField(label=gettext_lazy("Options, or a matrix's columns (one a line)"),
                              required=False, widget=forms.Textarea(attrs={"rows": 3}))
    rows = forms.CharField(label=gettext_lazy("A matrix's rows (one a line)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    scale = forms.TypedChoiceField(label=gettext_lazy("Rating scale"), coerce=int,
                                   choices=[(5, "1–5"), (10, "1–10")], initial=5)
    min_value = forms.FloatField(label=gettext_lazy("Smallest number"), required=False)
    max_value = forms.FloatField(label=gettext_lazy("Largest number"), required=False)

    def spec(self) -> surveys.QuestionSpec:
        d = self.cleaned_data

        def lines(text: str) -> list[str]:
            return [line.strip() for line in text.splitlines() if line.strip()]

        return surveys.QuestionSpec(kind=d["kind"], prompt=d["prompt"],
                                    is_required=d["is_required"], choices=lines(d["choices"]),
                                    rows=lines(d["rows"]), scale=d["scale"],
                                    min_value=d["min_value"], max_value=d["max_value"])


def _form_error(form: forms.Form) -> InvalidInput:
    return InvalidInput(_("Please correct the form."),
                        fields={k: [str(m) for m in v] for k, v in form.errors.items()})


@scoped(Perm.SURVEY_MANAGE)
def console_list(request: HttpRequest) -> HttpResponse:
    """The current region's surveys (its subtree's), and a new draft for it."""
    state = console_state(request)
    access = state.access
    region = state.region
    can_manage = access.can(Perm.SURVEY_MANAGE, region)
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if not form.is_valid():
            raise _form_error(form)
        d = form.cleaned_data
        made = surveys.create_survey(
            actor=request.user, region_id=region.pk, title=d["title"],
            description=d["description"], is_anonymous=d["is_anonymous"], opens_at=d["opens_at"],
            closes_at=d["closes_at"], targeting=form.targeting(), request=request)
        messages.success(request, _("Draft saved: now add its questions."))
        return HttpResponseRedirect(reverse("governance:console_survey", args=[made.pk]))
    now = timezone.localtime().replace(second=0, microsecond=0)
    rows = (surveys.surveys_in_scope(access).filter(subtree_q(region.path, "region"))
            .order_by("-id")[:200])
    return _render(request, "governance/surveys/console_list.html", state, SECTION,
                   surveys=list(rows), can_manage=can_manage, now=timezone.now(),
                   form=SurveyForm(initial={"opens_at": now,
                                            "closes_at": now + dt.timedelta(days=14)}))


@scoped(Perm.SURVEY_MANAGE)
def console_survey(request: HttpRequest, survey_id: int) -> HttpResponse:
    """One survey: its questions (the builder while a draft), its workflow and its results."""
    state = console_state(request)
    survey = surveys.staff_survey(request.user, survey_id)
    result = surveys.results(survey)
    return _render(request, "governance/surveys/console_survey.html", state, SECTION,
                   survey=survey, results=result, question_form=QuestionForm(),
                   sports=list(survey.target_sports.all()),
                   is_draft=survey.status == SurveyStatus.DRAFT,
                   accepting=surveys.is_accepting(survey))


@scoped(Perm.SURVEY_MANAGE)
@require_POST
def console_question(request: HttpRequest, survey_id: int) -> HttpResponse:
    """Add a question at the end of a draft, or remove one (``remove``: its position)."""
    survey = surveys.staff_survey(request.user, survey_id)
    specs = [surveys.QuestionSpec.of(q) for q in survey.questions.all()]
    remove = _int(request.POST.get("remove"))
    if remove is not None:
        specs = [s for i, s in enumerate(specs, 1) if i != remove]
    else:
        form = QuestionForm(request.POST)
        if not form.is_valid():
            raise _form_error(form)
        specs.append(form.spec())
    surveys.update_survey(actor=request.user, survey_id=survey.pk, questions=specs,
                          request=request)
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("governance:console_survey", args=[survey.pk])
                                + "#questions")


@scoped(Perm.SURVEY_MANAGE)
@require_POST
def console_action(request: HttpRequest, survey_id: int) -> HttpResponse:
    to = request.POST.get("to", "")
    if to not in (SurveyStatus.OPEN, SurveyStatus.CLOSED):
        raise InvalidInput()
    surveys.transition_survey(actor=request.user, survey_id=survey_id, to=to, request=request)
    messages.success(request, _("The survey is open: its residents are told.")
                     if to == SurveyStatus.OPEN else _("The survey is closed."))
    return HttpResponseRedirect(reverse("governance:console_survey", args=[survey_id]))


@scoped(Perm.SURVEY_MANAGE)
def console_export(request: HttpRequest, survey_id: int) -> HttpResponse:
    return xlsx.download(export(actor=request.user, survey_id=survey_id, request=request),
                         f"survey-{survey_id}")


urlpatterns: list[URLPattern] = [
    path("surveys/", survey_list, name="surveys"),
    path("surveys/<int:survey_id>/", survey_page, name="survey"),
    path("console/surveys/", console_list, name="console_surveys"),
    path("console/surveys/<int:survey_id>/", console_survey, name="console_survey"),
    path("console/surveys/<int:survey_id>/questions/", console_question,
         name="console_survey_question"),
    path("console/surveys/<int:survey_id>/status/", console_action,
         name="console_survey_action"),
    path("console/surveys/<int:survey_id>/export.xlsx", console_export,
         name="console_survey_export"),
]
