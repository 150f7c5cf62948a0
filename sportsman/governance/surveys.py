"""Surveys (问卷调查): building, targeting, the draft → open → closed workflow, answering (also
for an elderly resident, through ``proxy.acting``), and the results.

Staff hold ``SURVEY_MANAGE`` over the survey's region; a survey outside their subtree is "not
found" to them. Questions change only while the survey is a draft. A person answers once: the
unique ``SurveyParticipation`` row decides, so two racing submissions store one response and
the other gets ``survey_already_answered``. Anonymous surveys keep the respondent only in that
row, never with the answers (see ``models/surveys.py``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.db import transition
from sportsman.core.errors import Conflict, InvalidInput, NotFound, bad_field
from sportsman.core.models import Sport
from sportsman.core.wording import check_text, contains_sensitive
from sportsman.governance import proxy
from sportsman.governance.models import (
    QuestionKind,
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region, subtree_q

MAX_QUESTIONS = 50
MAX_CHOICES = 20
MAX_MATRIX_ROWS = 20
MAX_MATRIX_COLUMNS = 10
TEXT_ANSWER_MAX = 500
RATING_SCALES = (5, 10)
NUMBER_LIMIT = 1e12
NOTIFY_CAP = 50_000  # residents told when a survey opens; the list page shows it to all anyway

TRANSITIONS: dict[str, frozenset[str]] = {
    SurveyStatus.DRAFT: frozenset({SurveyStatus.OPEN}),
    SurveyStatus.OPEN: frozenset({SurveyStatus.CLOSED}),
    SurveyStatus.CLOSED: frozenset(),
}
STAMPS: dict[str, str] = {SurveyStatus.OPEN: "opened_at", SurveyStatus.CLOSED: "closed_at"}


class SurveyNotFound(NotFound):
    code = "survey_not_found"
    default_message = gettext_lazy("No such survey.")


class SurveyNotDraft(Conflict):
    code = "survey_not_draft"
    default_message = gettext_lazy("Questions can only be changed while the survey is a draft.")


class BadSurveyTransition(Conflict):
    code = "survey_bad_transition"
    default_message = gettext_lazy("The survey cannot go to that state from its current one.")


class SurveyNotOpen(Conflict):
    code = "survey_not_open"
    default_message = gettext_lazy("This survey is not taking answers now.")


class NotTargeted(NotFound):
    code = "survey_not_for_you"
    default_message = gettext_lazy("This survey is not meant for you.")


class AlreadyAnswered(Conflict):
    code = "survey_already_answered"
    default_message = gettext_lazy("This survey has already been answered.")


# --- definitions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSpec:
    """A question as a builder sends it (validated by :func:`clean_questions`)."""

    kind: str
    prompt: str
    is_required: bool = True
    choices: Sequence[str] = ()
    rows: Sequence[str] = ()
    scale: int | None = None
    min_value: float | None = None
    max_value: float | None = None

    @classmethod
    def of(cls, q: SurveyQuestion) -> QuestionSpec:
        return cls(kind=q.kind, prompt=q.prompt, is_required=q.is_required,
                   choices=list(q.choices), rows=list(q.rows), scale=q.scale,
                   min_value=q.min_value, max_value=q.max_value)


def _bad(index: int, code: str, message: Any) -> InvalidInput:
    return bad_field(f"questions[{index}]", message, code)


def _labels(values: Iterable[str], *, index: int, what: str, low: int, high: int) -> list[str]:
    out = [str(v).strip() for v in values]
    if not low <= len(out) <= high or any(not v for v in out):
        raise _bad(index, f"invalid_{what}",
                   _("Give %(low)d to %(high)d non-empty %(what)s.")
                   % {"low": low, "high": high, "what": what})
    if len(set(out)) != len(out):
        raise _bad(index, f"invalid_{what}",
                   _("Each of the %(what)s must differ.") % {"what": what})
    if any(len(v) > 100 for v in out) or any(contains_sensitive(v) for v in out):
        raise _bad(index, f"invalid_{what}",
                   _("Each of the %(what)s is at most 100 characters, without sensitive words.")
                   % {"what": what})
    return out


def clean_questions(specs: Sequence[QuestionSpec]) -> list[QuestionSpec]:
    """The questions, checked: a known kind and a prompt; choices non-empty and distinct; a
    rating scale of 1–5 or 1–10; number bounds in order; a matrix of rows × columns."""
    if len(specs) > MAX_QUESTIONS:
        raise InvalidInput(_("At most %(n)d questions.") % {"n": MAX_QUESTIONS},
                           code="too_many_questions")
    out: list[QuestionSpec] = []
    for i, s in enumerate(specs):
        if s.kind not in QuestionKind.values:
            raise _bad(i, "invalid_question_kind", _("Unknown kind of question."))
        prompt = check_text(s.prompt, field=f"questions[{i}]", max_length=200)
        choices: list[str] = []
        rows: list[str] = []
        scale = low = high = None
        if s.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            choices = _labels(s.choices, index=i, what="choices", low=2, high=MAX_CHOICES)
        elif s.kind == QuestionKind.MATRIX:
            rows = _labels(s.rows, index=i, what="rows", low=1, high=MAX_MATRIX_ROWS)
            choices = _labels(s.choices, index=i, what="columns", low=2, high=MAX_MATRIX_COLUMNS)
        elif s.kind == QuestionKind.RATING:
            if s.scale not in RATING_SCALES:
                raise _bad(i, "invalid_scale", _("A rating goes from 1 to 5 or from 1 to 10."))
            scale = s.scale
        elif s.kind == QuestionKind.NUMBER:
            low, high = s.min_value, s.max_value
            if low is not None and high is not None and low >= high:
                raise _bad(i, "invalid_range", _("The smallest number must be below the largest."))
        out.append(QuestionSpec(kind=s.kind, prompt=prompt, is_required=s.is_required,
                                choices=choices, rows=rows, scale=scale, min_value=low,
                                max_value=high))
    return out


@dataclass(frozen=True)
class Targeting:
    sex: str = ""
    age_min: int | None = None
    age_max: int | None = None
    sports: Sequence[str] = ()  # slugs


EVERYONE = Targeting()


def _clean_targeting(t: Targeting) -> tuple[Targeting, list[Sport]]:
    if t.sex not in ("", "F", "M"):
        raise InvalidInput(code="invalid_target", fields={"target_sex": [_("Unknown sex.")]})
    for value in (t.age_min, t.age_max):
        if value is not None and not 0 <= value <= 120:
            raise InvalidInput(code="invalid_target",
                               fields={"target_age": [_("Ages go from 0 to 120.")]})
    if t.age_min is not None and t.age_max is not None and t.age_min > t.age_max:
        message = _("The youngest age must not exceed the oldest.")
        raise InvalidInput(code="invalid_target", fields={"target_age": [message]})
    slugs = sorted(set(t.sports))
    sports = list(Sport.objects.filter(slug__in=slugs).order_by("slug"))
    if len(sports) != len(slugs):
        raise InvalidInput(code="invalid_target", fields={"target_sports": [_("Unknown sport.")]})
    return t, sports


def aware(when: dt.datetime) -> dt.datetime:
    """A time without an offset is read as local time (Asia/Shanghai)."""
    return timezone.make_aware(when) if timezone.is_naive(when) else when


def _clean_window(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    if closes_at <= opens_at:
        raise InvalidInput(code="invalid_window",
                           fields={"closes_at": [_("The survey must close after it opens.")]})


# --- staff --------------------------------------------------------------------------------------


def surveys_in_scope(access: Access) -> QuerySet[Survey]:
    return access.scope(Survey.objects.select_related("region"), Perm.SURVEY_MANAGE)


def staff_survey(actor: Any, survey_id: int, *, lock: bool = False) -> Survey:
    """A survey of the actor's subtree (any other is "not found")."""
    qs = surveys_in_scope(access_for_user(actor))
    if lock:
        qs = qs.select_for_update()
    found = qs.filter(pk=survey_id).first()
    if found is None:
        raise SurveyNotFound()
    return found


def _write_questions(survey: Survey, specs: Sequence[QuestionSpec]) -> None:
    SurveyQuestion.objects.filter(survey=survey).delete()
    SurveyQuestion.objects.bulk_create([
        SurveyQuestion(survey=survey, position=i + 1, kind=s.kind, prompt=s.prompt,
                       is_required=s.is_required, choices=list(s.choices), rows=list(s.rows),
                       scale=s.scale, min_value=s.min_value, max_value=s.max_value)
        for i, s in enumerate(specs)])


def create_survey(*, actor: Any, region_id: int, title: str, description: str = "",
                  is_anonymous: bool = False, opens_at: dt.datetime, closes_at: dt.datetime,
                  targeting: Targeting = EVERYONE, questions: Sequence[QuestionSpec] = (),
                  request: Any = None) -> Survey:
    """A draft survey of a region in the actor's SURVEY_MANAGE scope (audited)."""
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise NotFound(code="region_not_found")
    access_for_user(actor).require(Perm.SURVEY_MANAGE, region)
    title = check_text(title, field="title", max_length=80)
    description = check_text(description, field="description", max_length=2000, required=False)
    opens_at, closes_at = aware(opens_at), aware(closes_at)
    _clean_window(opens_at, closes_at)
    targeting, sports = _clean_targeting(targeting)
    specs = clean_questions(questions)
    with transaction.atomic():
        survey = Survey.objects.create(
            region=region, title=title, description=description, is_anonymous=is_anonymous,
            opens_at=opens_at, closes_at=closes_at, target_sex=targeting.sex,
            target_age_min=targeting.age_min, target_age_max=targeting.age_max,
            created_by=actor)
        survey.target_sports.set(sports)
        _write_questions(survey, specs)
        audit.record(actor=actor, action="governance.survey.create", obj=survey, region=region,
                     request=request, data={"title": title, "questions": len(specs)})
    return survey


_UNSET: Any = object()


def update_survey(*, actor: Any, survey_id: int, title: str = _UNSET,
                  description: str = _UNSET, is_anonymous: bool = _UNSET,
                  opens_at: dt.datetime = _UNSET, closes_at: dt.datetime = _UNSET,
                  targeting: Targeting = _UNSET, questions: Sequence[QuestionSpec] = _UNSET,
                  request: Any = None) -> Survey:
    """Change a draft survey of the actor's subtree: any of its fields, and its questions as a
    whole list (audited). An open or closed survey refuses with ``survey_not_draft``, except
    that an open survey's closing time may still move (not before now)."""
    with transaction.atomic():
        survey = staff_survey(actor, survey_id, lock=True)
        only_closing = closes_at is not _UNSET and all(
            v is _UNSET for v in (title, description, is_anonymous, opens_at, targeting,
                                  questions))
        if survey.status != SurveyStatus.DRAFT and not (
                only_closing and survey.status == SurveyStatus.OPEN):
            raise SurveyNotDraft()
        changed: list[str] = []
        if title is not _UNSET:
            survey.title = check_text(title, field="title", max_length=80)
            changed.append("title")
        if description is not _UNSET:
            survey.description = check_text(description, field="description", max_length=2000,
                                            required=False)
            changed.append("description")
        if is_anonymous is not _UNSET:
            survey.is_anonymous = is_anonymous
            changed.append("is_anonymous")
        if opens_at is not _UNSET:
            survey.opens_at = aware(opens_at)
            changed.append("opens_at")
        if closes_at is not _UNSET:
            closes_at = aware(closes_at)
            if survey.status == SurveyStatus.OPEN and closes_at <= timezone.now():
                raise InvalidInput(code="invalid_window",
                                   fields={"closes_at": [_("Close it instead.")]})
            survey.closes_at = closes_at
            changed.append("closes_at")
        _clean_window(survey.opens_at, survey.closes_at)
        if targeting is not _UNSET:
            targeting, sports = _clean_targeting(targeting)
            survey.target_sex = targeting.sex
            survey.target_age_min, survey.target_age_max = targeting.age_min, targeting.age_max
            survey.target_sports.set(sports)
            changed += ["target_sex", "target_age_min", "target_age_max"]
        if questions is not _UNSET:
            _write_questions(survey, clean_questions(questions))
        survey.save(update_fields=[*changed, "updated_at"])
        audit.record(actor=actor, action="governance.survey.update", obj=survey,
                     region=survey.region, request=request,
                     data={"fields": changed, "questions": questions is not _UNSET})
    return survey


def transition_survey(*, actor: Any, survey_id: int, to: str, request: Any = None) -> Survey:
    """Open or close a survey of the actor's subtree by the transition table (audited). Opening
    needs at least one question and a closing time still ahead. The targeted residents are told
    at once when it already takes answers (the inbox rows commit with the opening), else when
    its opening time comes (:func:`announce_due`, a scheduled job)."""
    with transaction.atomic():
        survey = staff_survey(actor, survey_id, lock=True)
        if to == SurveyStatus.OPEN:
            if not SurveyQuestion.objects.filter(survey=survey).exists():
                raise InvalidInput(_("Add at least one question first."), code="survey_empty")
            if survey.closes_at <= timezone.now():
                raise InvalidInput(code="invalid_window",
                                   fields={"closes_at": [_("The closing time has passed.")]})
        transition(survey, to, table=TRANSITIONS, stamps=STAMPS, error=BadSurveyTransition)
        audit.record(actor=actor, action=f"governance.survey.{to}", obj=survey,
                     region=survey.region, request=request)
        if to == SurveyStatus.OPEN and survey.opens_at <= timezone.now():
            _announce(survey)
    return survey


def announce_due(now: dt.datetime | None = None) -> int:
    """Tell the audiences of open surveys whose opening time has come and who were not told
    yet; each survey is claimed by one conditional UPDATE, so two runs never tell twice.
    Returns the number of surveys announced."""
    now = now or timezone.now()
    done = 0
    due = (Survey.objects.filter(status=SurveyStatus.OPEN, announced_at=None, opens_at__lte=now,
                                 closes_at__gt=now).select_related("region").order_by("id"))
    for survey in due[:100]:
        with transaction.atomic():
            if Survey.objects.filter(pk=survey.pk, announced_at=None).update(announced_at=now):
                _announce(survey, now=now)
                done += 1
    return done


def close_ended(now: dt.datetime | None = None) -> int:
    """Close the open surveys whose closing time has passed (the table allows open → closed;
    one conditional UPDATE). Returns how many closed."""
    now = now or timezone.now()
    return Survey.objects.filter(status=SurveyStatus.OPEN, closes_at__lte=now).update(
        status=SurveyStatus.CLOSED, closed_at=F("closes_at"), updated_at=now)


def _announce(survey: Survey, now: dt.datetime | None = None) -> int:
    from sportsman.notifications.categories import Category
    from sportsman.notifications.services import notify

    Survey.objects.filter(pk=survey.pk).update(announced_at=now or timezone.now())
    users = targeted_residents(survey)
    last = users.values_list("pk", flat=True)[NOTIFY_CAP - 1:NOTIFY_CAP].first()
    if last is not None:
        users = users.filter(pk__lte=last)
    return notify(users=users, category=Category.GOVERNANCE,
                  title=(_("New survey: %(title)s") % {"title": survey.title})[:200],
                  body=_("Open until %(when)s.") % {
                      "when": timezone.localtime(survey.closes_at).strftime("%Y-%m-%d %H:%M")},
                  link=reverse("governance:survey", args=[survey.pk]),
                  dedupe_key=f"survey-open:{survey.pk}")


# --- targeting ----------------------------------------------------------------------------------


def age_of(birth_year: int | None, today: dt.date | None = None) -> int | None:
    if birth_year is None:
        return None
    return (today or timezone.localdate()).year - birth_year


def is_targeted(survey: Survey, user: Any) -> bool:
    """Whether ``user`` is in the survey's audience: home community inside its region's
    subtree, and the age band, sex and sports it names (none named: anyone)."""
    community = getattr(user, "home_community", None)
    if community is None or not community.path.startswith(survey.region.path):
        return False
    if survey.target_sex and user.sex != survey.target_sex:
        return False
    if survey.target_age_min is not None or survey.target_age_max is not None:
        age = age_of(user.birth_year)
        if age is None:
            return False
        if survey.target_age_min is not None and age < survey.target_age_min:
            return False
        if survey.target_age_max is not None and age > survey.target_age_max:
            return False
    wanted = set(survey.target_sports.values_list("pk", flat=True))
    return not wanted or bool(wanted & set(user.interests.values_list("pk", flat=True)))


def _sports_q(user_sport_ids: list[int]) -> Q:
    through = Survey.target_sports.through
    any_sport = Exists(through.objects.filter(survey_id=OuterRef("pk")))
    mine = Exists(through.objects.filter(survey_id=OuterRef("pk"), sport_id__in=user_sport_ids))
    return ~Q(any_sport) | Q(mine)


def surveys_for(user: Any) -> QuerySet[Survey]:
    """Open or closed surveys whose audience includes ``user`` (the targeting rules as one
    query; see :func:`is_targeted`)."""
    community = getattr(user, "home_community", None)
    if community is None:
        return Survey.objects.none()
    qs = Survey.objects.filter(region_id__in=[*community.ancestor_ids, community.pk]).exclude(
        status=SurveyStatus.DRAFT)
    qs = qs.filter(Q(target_sex="") | Q(target_sex=user.sex or "-"))
    age = age_of(user.birth_year)
    if age is None:
        qs = qs.filter(target_age_min=None, target_age_max=None)
    else:
        qs = qs.filter(Q(target_age_min=None) | Q(target_age_min__lte=age),
                       Q(target_age_max=None) | Q(target_age_max__gte=age))
    return qs.filter(_sports_q(list(user.interests.values_list("pk", flat=True))))


def open_for(user: Any, now: dt.datetime | None = None) -> QuerySet[Survey]:
    """The surveys ``user`` may answer now, soonest closing first, each annotated with
    ``answered`` (whether they already did)."""
    now = now or timezone.now()
    return (surveys_for(user).filter(status=SurveyStatus.OPEN, opens_at__lte=now,
                                     closes_at__gt=now)
            .annotate(answered=Exists(SurveyParticipation.objects.filter(
                survey_id=OuterRef("pk"), user_id=user.pk)))
            .select_related("region").order_by("closes_at", "id"))


def answered_by(user: Any, limit: int = 20) -> list[Survey]:
    """The surveys ``user`` answered (or someone answered for them), latest first."""
    return [p.survey for p in SurveyParticipation.objects.filter(user_id=user.pk)
            .select_related("survey__region").order_by("-created_at", "-id")[:limit]]


def targeted_residents(survey: Survey) -> QuerySet[Any]:
    """Active residents in the survey's audience (for the opening notice)."""
    qs = get_user_model().objects.filter(subtree_q(survey.region.path, "home_community"),
                                         is_active=True)
    if survey.target_sex:
        qs = qs.filter(sex=survey.target_sex)
    year = timezone.localdate().year
    if survey.target_age_min is not None:
        qs = qs.filter(birth_year__lte=year - survey.target_age_min)
    if survey.target_age_max is not None:
        qs = qs.filter(birth_year__gte=year - survey.target_age_max)
    sports = list(survey.target_sports.values_list("pk", flat=True))
    if sports:
        qs = qs.filter(Exists(get_user_model().interests.through.objects.filter(
            user_id=OuterRef("pk"), sport_id__in=sports)))
    return qs.order_by("pk")


def is_accepting(survey: Survey, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return survey.status == SurveyStatus.OPEN and survey.opens_at <= now < survey.closes_at


def visible_survey(user: Any, survey_id: int) -> Survey:
    """A survey for a resident's eyes: one whose audience includes them (or that they, or
    someone for them, answered)."""
    found = (Survey.objects.select_related("region").exclude(status=SurveyStatus.DRAFT)
             .filter(pk=survey_id).first())
    if found is None:
        raise SurveyNotFound()
    if not is_targeted(found, user) and not has_answered(user, found):
        raise SurveyNotFound()
    return found


def has_answered(user: Any, survey: Survey) -> bool:
    return SurveyParticipation.objects.filter(survey=survey, user_id=user.pk).exists()


# --- answering ----------------------------------------------------------------------------------


@dataclass
class _Problems:
    code: str = ""
    fields: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, question: SurveyQuestion, code: str, message: Any) -> None:
        self.code = self.code or code
        self.fields.setdefault(f"q{question.pk}", []).append(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _clean_one(q: SurveyQuestion, value: Any, problems: _Problems) -> Any:
    """The stored form of one answer (None: not answered), or a problem noted."""
    if _empty(value):
        if q.is_required:
            problems.add(q, "answer_required", _("This question needs an answer."))
        return None
    if q.kind == QuestionKind.SINGLE:
        if not _is_int(value) or not 0 <= value < len(q.choices):
            problems.add(q, "unknown_choice", _("Choose one of the options."))
            return None
        return value
    if q.kind == QuestionKind.MULTIPLE:
        if (not isinstance(value, list) or not all(_is_int(v) for v in value)
                or len(set(value)) != len(value)
                or not all(0 <= v < len(q.choices) for v in value)):
            problems.add(q, "unknown_choice", _("Choose among the options."))
            return None
        return sorted(value)
    if q.kind == QuestionKind.TEXT:
        text = str(value).strip() if isinstance(value, str) else None
        if text is None:
            problems.add(q, "invalid_answer", _("Write an answer."))
            return None
        if len(text) > TEXT_ANSWER_MAX:
            problems.add(q, "answer_too_long",
                         _("At most %(n)d characters.") % {"n": TEXT_ANSWER_MAX})
            return None
        if contains_sensitive(text):
            problems.add(q, "sensitive_words",
                         _("This contains words that may not be published here. "
                           "Please rephrase."))
            return None
        return text or None
    if q.kind == QuestionKind.RATING:
        if not _is_int(value) or not 1 <= value <= (q.scale or 5):
            problems.add(q, "out_of_range", _("Rate from 1 to %(n)d.") % {"n": q.scale or 5})
            return None
        return value
    if q.kind == QuestionKind.NUMBER:
        if (not isinstance(value, int | float) or isinstance(value, bool)
                or not math.isfinite(value) or abs(value) > NUMBER_LIMIT):
            problems.add(q, "not_a_number", _("Give a number."))
            return None
        if ((q.min_value is not None and value < q.min_value)
                or (q.max_value is not None and value > q.max_value)):
            problems.add(q, "out_of_range", _("This number is out of range."))
            return None
        return value
    # matrix: {"row index": column index}
    if not isinstance(value, dict):
        problems.add(q, "unknown_choice", _("Choose one column in each row."))
        return None
    out: dict[str, int] = {}
    for key, col in value.items():
        row = int(key) if isinstance(key, str) and key.isdigit() else key
        if (not _is_int(row) or not 0 <= row < len(q.rows) or not _is_int(col)
                or not 0 <= col < len(q.choices)):
            problems.add(q, "unknown_choice", _("Choose one column in each row."))
            return None
        out[str(row)] = col
    if q.is_required and len(out) < len(q.rows):
        problems.add(q, "answer_required", _("Answer every row."))
        return None
    return out


def clean_answers(questions: Sequence[SurveyQuestion], answers: Mapping[Any, Any]
                  ) -> dict[str, Any]:
    """Answers keyed by question id, checked per kind: required ones present, choices known,
    ratings and numbers in range, text short and free of sensitive words. Raises InvalidInput
    with the first problem's stable code and a field per bad question."""
    by_id = {str(q.pk): q for q in questions}
    given = {str(k): v for k, v in answers.items()}
    unknown = sorted(set(given) - set(by_id))
    if unknown:
        raise InvalidInput(_("Unknown question."), code="unknown_question",
                           fields={f"q{k}"[:40]: [_("Unknown question.")] for k in unknown[:10]})
    problems = _Problems()
    out: dict[str, Any] = {}
    for key, q in by_id.items():
        value = _clean_one(q, given.get(key), problems)
        if value is not None:
            out[key] = value
    if problems.code:
        raise InvalidInput(_("Some answers need another look."), code=problems.code,
                           fields=problems.fields)
    return out


def respond(*, actor: Any, survey_id: int, answers: Mapping[Any, Any],
            for_user_id: int | None = None) -> SurveyParticipation:
    """Answer a survey, for oneself or for a resident who authorised the actor (the
    participation records ``acted_by``; a named survey's response too). The subject must be in
    the audience, the survey taking answers, and the subject not have answered yet: the unique
    participation row makes a second (or racing) answer ``survey_already_answered``."""
    acting = proxy.acting(actor, for_user_id)
    subject = acting.subject
    survey = (Survey.objects.select_related("region").exclude(status=SurveyStatus.DRAFT)
              .filter(pk=survey_id).first())
    if survey is None or not is_targeted(survey, subject):
        raise SurveyNotFound() if survey is None else NotTargeted()
    if not is_accepting(survey):
        raise SurveyNotOpen()
    cleaned = clean_answers(list(survey.questions.all()), answers)
    now = timezone.now()
    try:
        with transaction.atomic():
            made = SurveyParticipation.objects.create(
                survey=survey, user=subject, acted_by=acting.acted_by,
                community_id=subject.home_community_id, created_at=now)
            if survey.is_anonymous:
                SurveyResponse.objects.create(survey=survey, answers=cleaned,
                                              submitted_on=timezone.localdate(now))
            else:
                SurveyResponse.objects.create(survey=survey, user=subject,
                                              acted_by=acting.acted_by, answers=cleaned,
                                              submitted_on=timezone.localdate(now),
                                              submitted_at=now)
            Survey.objects.filter(pk=survey.pk).update(responses=F("responses") + 1)
    except IntegrityError as exc:
        raise AlreadyAnswered() from exc
    return made


# --- results ------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    count: int
    share: float  # percent of those who answered the question


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    bars: list[Bar] = field(default_factory=list)
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    matrix: list[tuple[str, list[int]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


@dataclass
class Results:
    survey: Survey
    responses: int
    questions: list[QuestionResult]


TEXTS_SHOWN = 200


def _share(n: int, of: int) -> float:
    return round(100 * n / of, 1) if of else 0.0


def results(survey: Survey) -> Results:
    """Counts and shares per choice, rating distribution and mean, number mean and range,
    matrix tables and the latest text answers. Nothing here names a respondent."""
    questions = list(survey.questions.all())
    sets = list(SurveyResponse.objects.filter(survey=survey).values_list("answers", flat=True))
    out: list[QuestionResult] = []
    for q in questions:
        key = str(q.pk)
        values = [a[key] for a in sets if key in a]
        r = QuestionResult(question=q, answered=len(values))
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counts = [0] * len(q.choices)
            for v in values:
                for i in (v if isinstance(v, list) else [v]):
                    if 0 <= i < len(counts):
                        counts[i] += 1
            r.bars = [Bar(c, n, _share(n, r.answered)) for c, n in zip(q.choices, counts,
                                                                        strict=True)]
        elif q.kind == QuestionKind.RATING:
            scale = q.scale or 5
            counts = [0] * scale
            for v in values:
                if 1 <= v <= scale:
                    counts[v - 1] += 1
            r.bars = [Bar(str(i + 1), n, _share(n, r.answered)) for i, n in enumerate(counts)]
            r.mean = round(sum(values) / len(values), 2) if values else None
        elif q.kind == QuestionKind.NUMBER:
            if values:
                r.mean = round(sum(values) / len(values), 2)
                r.low, r.high = min(values), max(values)
        elif q.kind == QuestionKind.MATRIX:
            table = [[0] * len(q.choices) for _row in q.rows]
            for v in values:
                for row, col in v.items():
                    if int(row) < len(table) and 0 <= col < len(q.choices):
                        table[int(row)][col] += 1
            r.matrix = list(zip(q.rows, table, strict=True))
        else:
            r.texts = [str(v) for v in values[-TEXTS_SHOWN:]][::-1]
        out.append(r)
    return Results(survey=survey, responses=len(sets), questions=out)


def answer_text(q: SurveyQuestion, value: Any) -> Any:
    """One stored answer as a person reads it (export cells)."""
    if value is None:
        return ""
    if q.kind == QuestionKind.SINGLE:
        return q.choices[value] if 0 <= value < len(q.choices) else ""
    if q.kind == QuestionKind.MULTIPLE:
        return "; ".join(q.choices[i] for i in value if 0 <= i < len(q.choices))
    if q.kind == QuestionKind.MATRIX:
        return "; ".join(f"{q.rows[int(r)]}: {q.choices[c]}" for r, c in sorted(
            value.items(), key=lambda kv: int(kv[0]))
            if int(r) < len(q.rows) and 0 <= c < len(q.choices))
    return value
