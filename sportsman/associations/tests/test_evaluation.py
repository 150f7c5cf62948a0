"""The evaluation workflow (等级评估): grades at every band edge, the rubric's rules, every
status × action of the transition table, evaluator scope, eligibility, publication (grade and
five-year validity), rectification and the timeline."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from sportsman.associations import evaluation as ev
from sportsman.associations.models import (
    Association,
    Evaluation,
    EvaluationStatus,
    EvaluationStep,
    EvaluatorAssignment,
    IndicatorGroup,
    Score,
)
from sportsman.associations.tests.fixtures_evaluation import (
    assigned_evaluator,
    evaluation_at,
    evaluator,
    make_association,
    make_season,
    manager_of,
)
from sportsman.core.errors import DomainError
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


# --- grades --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("total", "grade"), [
    (1000, "5A"), (951, "5A"), (950, "4A"), (901, "4A"), (900, "3A"), (851, "3A"),
    (850, "2A"), (801, "2A"), (800, "1A"), (0, "1A")])
def test_grade_bands_at_every_edge(total, grade):
    assert ev.grade_for(total) == grade


# --- the rubric ----------------------------------------------------------------------------------

def _specs(season):
    return [ev.IndicatorSpec(i.group, i.code, i.name, i.max_points) for i in ev.rubric_of(season)]


def test_a_first_season_gets_the_default_rubric_of_1000_points(tree):
    season = make_season(tree)
    rubric = ev.rubric_of(season)
    assert sum(i.max_points for i in rubric) == 1000
    assert {i.group for i in rubric} == set(IndicatorGroup.values)


@pytest.mark.parametrize(("change", "code"), [
    (lambda s: s[:-1], "rubric_total"),
    (lambda s: [*s[:-1], ev.IndicatorSpec(s[-1].group, s[-1].code, s[-1].name,
                                          s[-1].max_points + 1)], "rubric_total"),
    (lambda s: [x for x in s if x.group != "reputation"]
     + [ev.IndicatorSpec("basic", "X9", "补足", 150)], "rubric_groups"),
    (lambda s: [*s[:-1], ev.IndicatorSpec(s[-1].group, s[0].code, "重复", s[-1].max_points)],
     "rubric_codes"),
    (lambda s: [*s[:-1], ev.IndicatorSpec("other", s[-1].code, s[-1].name, s[-1].max_points)],
     "rubric_group"),
    (lambda s: [], "rubric_empty"),
])
def test_a_rubric_that_breaks_a_rule_is_refused(tree, change, code):
    season = make_season(tree)
    before = _specs(season)
    with pytest.raises(DomainError) as refused:
        ev.set_rubric(actor=tree.district_admin, season_id=season.pk, indicators=change(before))
    assert refused.value.code == code
    assert _specs(season) == before


def test_a_valid_rubric_replaces_the_old_one(tree):
    season = make_season(tree)
    specs = [ev.IndicatorSpec("basic", "A", "基础", 250), ev.IndicatorSpec("governance", "B",
                                                                            "治理", 250),
             ev.IndicatorSpec("performance", "C", "绩效", 300),
             ev.IndicatorSpec("reputation", "D", "评价", 200)]
    ev.set_rubric(actor=tree.district_admin, season_id=season.pk, indicators=specs)
    assert _specs(season) == specs


def test_the_rubric_is_fixed_once_scoring_started(tree):
    e = evaluation_at(tree, "under_review")
    indicator = ev.rubric_of(e.season)[0]
    ev.score(actor=assigned_evaluator(e), evaluation_id=e.pk, indicator_id=indicator.pk,
             points=indicator.max_points)
    with pytest.raises(DomainError) as refused:
        ev.set_rubric(actor=tree.district_admin, season_id=e.season_id,
                      indicators=_specs(e.season))
    assert refused.value.code == "rubric_locked"


def test_a_new_season_copies_the_previous_seasons_rubric(tree):
    first = make_season(tree, year=2025)
    specs = [ev.IndicatorSpec("basic", "A", "基础", 100), ev.IndicatorSpec("governance", "B",
                                                                            "治理", 300),
             ev.IndicatorSpec("performance", "C", "绩效", 400),
             ev.IndicatorSpec("reputation", "D", "评价", 200)]
    ev.set_rubric(actor=tree.district_admin, season_id=first.pk, indicators=specs)
    second = make_season(tree, year=2026)
    assert _specs(second) == specs
    with pytest.raises(DomainError) as again:
        make_season(tree, year=2026)
    assert again.value.code == "evaluation_season_exists"


# --- every status × action -----------------------------------------------------------------------

STATUSES = [s for s in EvaluationStatus.values]


def _act(tree, e: Evaluation, action: str):
    manager = manager_of(e.association)
    staff = tree.district_admin
    if action == "submit":
        # Only the transition may refuse: an assigned evaluator and a complete sheet.
        who = evaluator(tree, nickname="表内评估员")
        EvaluatorAssignment.objects.get_or_create(evaluation=e, evaluator=who)
        for i in ev.rubric_of(e.season):
            Score.objects.get_or_create(evaluation=e, indicator=i, defaults={"points": 70})
        return ev.submit(actor=who, evaluation_id=e.pk)
    calls = {
        "apply": lambda: ev.apply(actor=manager, evaluation_id=e.pk),
        "withdraw": lambda: ev.withdraw(actor=manager, evaluation_id=e.pk),
        "approve": lambda: ev.check_eligibility(actor=staff, evaluation_id=e.pk, approve=True),
        "refuse": lambda: ev.check_eligibility(actor=staff, evaluation_id=e.pk, approve=False,
                                               note="不符合条件"),
        "assign": lambda: ev.assign(actor=staff, evaluation_id=e.pk,
                                    evaluator_id=evaluator(tree, nickname="新评估员").pk),
        "return": lambda: ev.return_to_evaluators(actor=staff, evaluation_id=e.pk),
        "finalise": lambda: ev.finalise(actor=staff, evaluation_id=e.pk),
        "publish": lambda: ev.publish(actor=staff, evaluation_id=e.pk),
    }
    return calls[action]()


def test_the_table_covers_every_action():
    assert set(ev.ACTIONS) == {"apply", "withdraw", "approve", "refuse", "assign", "submit",
                               "return", "finalise", "publish"}


@pytest.mark.parametrize("action", ev.ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_status_and_action(tree, status, action):
    e = evaluation_at(tree, status)
    steps = EvaluationStep.objects.filter(evaluation=e).count()
    expected = ev.next_status(status, action)
    if expected is None:
        with pytest.raises(DomainError) as refused:
            _act(tree, e, action)
        assert refused.value.code == "evaluation_bad_transition"
        assert Evaluation.objects.get(pk=e.pk).status == status
        assert EvaluationStep.objects.filter(evaluation=e).count() == steps
    else:
        _act(tree, e, action)
        assert Evaluation.objects.get(pk=e.pk).status == expected
        assert EvaluationStep.objects.filter(evaluation=e).count() > steps


# --- eligibility ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"years": 1}, "registered_under_two_years"),
    ({"legal_status": "filed"}, "not_registered"),
    ({"legal_status": "grassroots"}, "not_registered"),
])
def test_an_association_that_is_not_eligible_cannot_enter(tree, kwargs, problem):
    association = make_association(tree, **kwargs)
    season = make_season(tree)
    with pytest.raises(DomainError) as refused:
        ev.start(actor=manager_of(association), association_id=association.pk,
                 season_id=season.pk)
    assert refused.value.code == "association_not_eligible"
    assert problem in refused.value.fields["association"]


def test_two_full_years_are_counted_to_the_day_the_window_opens(tree):
    season = make_season(tree)
    association = make_association(tree)
    opens = season.applications_open_on
    association.founded_on = opens.replace(year=opens.year - 2) if not (
        opens.month == 2 and opens.day == 29) else opens.replace(year=opens.year - 2, day=28)
    assert ev.eligibility_problems(association, season) == []
    association.founded_on += dt.timedelta(days=1)
    assert ev.eligibility_problems(association, season) == ["registered_under_two_years"]


def _inspected(association, year: int, result: str) -> None:
    from sportsman.associations.models import Application

    Application.objects.create(association=association, region=association.region,
                               kind="annual_report", year=year, status="approved", result=result)


@pytest.mark.parametrize(("results", "problems"), [
    (("pass", "pass"), []),
    (("basic", "pass"), []),
    (("pass", "basic"), []),
    (("basic", "basic"), ["inspection_basic_twice"]),
    (("fail", "pass"), ["inspection_failed"]),
    (("pass", "fail"), ["inspection_failed"]),
    (("", ""), []),  # no record from before the platform: nothing held against anyone
])
def test_the_last_two_annual_inspections_decide_eligibility(tree, results, problems):
    season = make_season(tree)
    association = make_association(tree, years=4)
    opens = season.applications_open_on.year
    for year, result in zip((opens - 1, opens - 2), results, strict=True):
        if result:
            _inspected(association, year, result)
    assert ev.eligibility_problems(association, season) == problems


def test_a_report_missing_from_a_season_the_platform_ran_is_held_against_it(tree):
    from sportsman.associations.models import InspectionSeason

    season = make_season(tree)
    association = make_association(tree, years=4)
    year = season.applications_open_on.year - 2
    ran = InspectionSeason.objects.create(region=tree.d1, year=year,
                                          due_on=dt.date(year + 1, 3, 31))
    assert ev.eligibility_problems(association, season) == ["inspection_missing"]
    _inspected(association, year, "pass")
    assert ev.eligibility_problems(association, season) == []
    # a season of another district, or one not yet due, asks nothing of it
    other = make_association(tree, years=4, name="另一个协会")
    ran.region = tree.d2
    ran.save()
    assert ev.eligibility_problems(other, season) == []
    ran.region, ran.year = tree.d1, season.applications_open_on.year - 1
    ran.due_on = season.applications_open_on + dt.timedelta(days=1)
    ran.save()
    assert ev.eligibility_problems(other, season) == []


def test_the_console_says_why_in_words(tree):
    from django.test import Client

    association = make_association(tree, years=4)
    season = make_season(tree)
    e = evaluation_at(tree, "applied", association=association, season=season)
    _inspected(association, season.applications_open_on.year - 1, "fail")  # found out since
    client = Client()
    client.force_login(tree.district_admin)
    page = client.get(f"/associations/console/evaluation/{e.pk}/").content.decode()
    assert 'data-problem="inspection_failed"' in page
    assert str(ev.PROBLEMS["inspection_failed"]) in page


def test_an_association_of_another_district_cannot_enter_the_season(tree):
    association = make_association(tree, region=tree.k4)
    season = make_season(tree)
    with pytest.raises(DomainError) as refused:
        ev.start(actor=manager_of(association), association_id=association.pk,
                 season_id=season.pk)
    assert refused.value.code == "evaluation_season_closed"


def test_only_managers_enter_their_association(tree):
    association = make_association(tree)
    season = make_season(tree)
    with pytest.raises(DomainError) as refused:
        ev.start(actor=tree.resident, association_id=association.pk, season_id=season.pk)
    assert refused.value.code == "not_association_manager"


def test_apply_needs_every_indicator_self_assessed(tree):
    association = make_association(tree)
    season = make_season(tree)
    manager = manager_of(association)
    e = ev.start(actor=manager, association_id=association.pk, season_id=season.pk)
    first = ev.rubric_of(season)[0]
    ev.self_assess(actor=manager, evaluation_id=e.pk, scores=[ev.Points(first.pk, 10)])
    with pytest.raises(DomainError) as refused:
        ev.apply(actor=manager, evaluation_id=e.pk)
    assert refused.value.code == "evaluation_incomplete"
    with pytest.raises(DomainError) as over:
        ev.self_assess(actor=manager, evaluation_id=e.pk,
                       scores=[ev.Points(first.pk, first.max_points + 1)])
    assert over.value.code == "points_out_of_range"


def test_applying_after_the_window_closed_is_refused(tree):
    e = evaluation_at(tree, "draft")
    later = timezone.now() + dt.timedelta(days=40)
    with time_machine.travel(later, tick=False), pytest.raises(DomainError) as refused:
        ev.apply(actor=manager_of(e.association), evaluation_id=e.pk)
    assert refused.value.code == "evaluation_season_closed"


# --- evaluators ----------------------------------------------------------------------------------

def test_an_evaluator_not_assigned_may_not_see_or_score(tree):
    e = evaluation_at(tree, "under_review")
    other = evaluator(tree, nickname="另一位")
    assert not ev.assigned_to(other).filter(pk=e.pk).exists()
    indicator = ev.rubric_of(e.season)[0]
    with pytest.raises(DomainError) as refused:
        ev.score(actor=other, evaluation_id=e.pk, indicator_id=indicator.pk, points=1)
    assert refused.value.code == "evaluator_not_assigned"
    assert not Score.objects.filter(evaluation=e).exists()


def test_an_assigned_evaluator_outside_their_grant_sees_nothing(tree):
    e = evaluation_at(tree, "under_review")
    elsewhere = evaluator(tree, region=tree.d2, nickname="秀洲评估员")
    EvaluatorAssignment.objects.create(evaluation=e, evaluator=elsewhere)  # stale assignment
    assert not ev.assigned_to(elsewhere).exists()
    with pytest.raises(DomainError) as refused:
        ev.get_assigned(elsewhere, e.pk)
    assert refused.value.code == "evaluator_not_assigned"


def test_only_an_evaluator_over_the_region_can_be_assigned(tree):
    e = evaluation_at(tree, "eligible")
    for who in (evaluator(tree, region=tree.d2), tree.town_admin, tree.resident):
        with pytest.raises(DomainError) as refused:
            ev.assign(actor=tree.district_admin, evaluation_id=e.pk, evaluator_id=who.pk)
        assert refused.value.code == "not_an_evaluator"
    assert Evaluation.objects.get(pk=e.pk).status == "eligible"


def test_a_score_above_the_indicators_points_is_refused(tree):
    e = evaluation_at(tree, "under_review")
    indicator = ev.rubric_of(e.season)[0]
    with pytest.raises(DomainError) as refused:
        ev.score(actor=assigned_evaluator(e), evaluation_id=e.pk, indicator_id=indicator.pk,
                 points=indicator.max_points + 1)
    assert refused.value.code == "points_out_of_range"


def test_submit_needs_every_indicator_scored(tree):
    e = evaluation_at(tree, "under_review")
    with pytest.raises(DomainError) as refused:
        ev.submit(actor=assigned_evaluator(e), evaluation_id=e.pk)
    assert refused.value.code == "evaluation_incomplete"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_evidence_is_a_checked_photo_or_pdf(tree):
    e = evaluation_at(tree, "under_review")
    who = assigned_evaluator(e)
    first, second = ev.rubric_of(e.season)[:2]
    made = ev.score(actor=who, evaluation_id=e.pk, indicator_id=first.pk, points=10,
                    evidence=ev.Upload("现场.png", _png()))
    assert made.evidence.name.endswith(".jpg")
    ev.score(actor=who, evaluation_id=e.pk, indicator_id=second.pk, points=10,
             evidence=ev.Upload("报告.pdf", PDF))
    with pytest.raises(DomainError) as refused:
        ev.score(actor=who, evaluation_id=e.pk, indicator_id=second.pk, points=11,
                 evidence=ev.Upload("x.exe", b"MZ\x90\x00 not a pdf"))
    assert refused.value.code == "file_type"
    assert Score.objects.get(evaluation=e, indicator=second).points == 10


# --- publication ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("total", "grade"), [(951, "5A"), (950, "4A"), (851, "3A"),
                                              (800, "1A")])
def test_publication_sets_the_associations_grade_for_five_years(tree, total, grade):
    e = evaluation_at(tree, "published", total=total)
    association = Association.objects.get(pk=e.association_id)
    published_on = timezone.localdate(e.published_at)
    assert (e.total, e.grade) == (total, grade)
    assert association.grade == grade
    assert association.grade_valid_until == published_on.replace(year=published_on.year + 5) \
        or (published_on.month, published_on.day) == (2, 29)


def test_a_grade_published_on_29_february_holds_until_28_february(tree):
    e = evaluation_at(tree, "finalised")
    with time_machine.travel(dt.datetime(2028, 2, 29, 10, tzinfo=TZ), tick=False):
        ev.publish(actor=tree.district_admin, evaluation_id=e.pk)
    assert Association.objects.get(pk=e.association_id).grade_valid_until == dt.date(2033, 2, 28)


def test_the_result_goes_to_the_association_and_its_supervisor(
        tree, django_capture_on_commit_callbacks):
    e = evaluation_at(tree, "finalised")
    with django_capture_on_commit_callbacks(execute=True):
        ev.publish(actor=tree.district_admin, evaluation_id=e.pk)
    told = set(Notification.objects.filter(category="association",
                                           dedupe_key__endswith=":published")
               .values_list("user_id", flat=True))
    assert told == {manager_of(e.association).pk, tree.district_admin.pk}


def test_other_districts_staff_cannot_finalise_or_publish(tree):
    e = evaluation_at(tree, "scored")
    for who in (tree.sibling_district_admin, tree.town_admin, tree.other_city_admin):
        with pytest.raises(DomainError) as refused:
            ev.finalise(actor=who, evaluation_id=e.pk)
        assert refused.value.code == "evaluation_not_found"
    assert Evaluation.objects.get(pk=e.pk).status == "scored"


# --- rectification and the timeline --------------------------------------------------------------

def test_rectification_answered_and_rescored_moves_the_first_rating(tree):
    e = evaluation_at(tree, "scored", total=900)
    assert e.grade == "3A"
    today = timezone.localdate()
    r = ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk,
                                 text="补充财务审计报告", due_on=today + dt.timedelta(days=7))
    with pytest.raises(DomainError) as blocked:
        ev.finalise(actor=tree.district_admin, evaluation_id=e.pk)
    assert blocked.value.code == "rectifications_open"
    ev.answer_rectification(actor=manager_of(e.association), rectification_id=r.pk,
                            text="已补充审计报告")
    low = next(s for s in e.scores.all() if s.points < s.indicator.max_points)
    ev.recheck(actor=assigned_evaluator(e), rectification_id=r.pk, accept=True,
               scores=[ev.Points(low.indicator_id, low.points + 1)])
    e.refresh_from_db()
    assert (e.total, e.grade) == (901, "4A")
    ev.finalise(actor=tree.district_admin, evaluation_id=e.pk)
    assert Evaluation.objects.get(pk=e.pk).grade == "4A"


def test_a_rectification_past_its_deadline_is_flagged_overdue(tree):
    e = evaluation_at(tree, "scored")
    today = timezone.localdate()
    r = ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk,
                                 text="完善会员名册", due_on=today)
    scope = ev.rectifications_in_scope(tree.district_admin)
    assert not ev.overdue(scope).exists() and not ev.is_overdue(r)
    assert ev.overdue(scope, today + dt.timedelta(days=1)).get() == r
    assert ev.is_overdue(r, today + dt.timedelta(days=1))
    later = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(9), TZ)
    with time_machine.travel(later, tick=False):
        ev.answer_rectification(actor=manager_of(e.association), rectification_id=r.pk,
                                text="已完善")
    answered = EvaluationStep.objects.get(evaluation=e, step="rectify_answered")
    assert answered.data["late"] is True
    with pytest.raises(DomainError) as past:
        ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk, text="x",
                                 due_on=today - dt.timedelta(days=1))
    assert past.value.code == "due_in_past"


def test_a_rectification_sent_back_is_open_again(tree):
    e = evaluation_at(tree, "under_review")
    r = ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk, text="整改",
                                 due_on=timezone.localdate() + dt.timedelta(days=3))
    manager = manager_of(e.association)
    ev.answer_rectification(actor=manager, rectification_id=r.pk, text="已改")
    ev.recheck(actor=assigned_evaluator(e), rectification_id=r.pk, accept=False)
    r.refresh_from_db()
    assert r.status == "open"
    with pytest.raises(DomainError) as twice:
        ev.recheck(actor=assigned_evaluator(e), rectification_id=r.pk, accept=True)
    assert twice.value.code == "rectification_bad_transition"


def test_the_timeline_holds_every_step_in_order(tree):
    e = evaluation_at(tree, "published", total=880)
    steps = list(EvaluationStep.objects.filter(evaluation=e).values_list("step", flat=True))
    wanted = ["created", "self_assessed", "applied", "eligible", "assigned", "submitted",
              "finalised", "published"]
    positions = [steps.index(s) for s in wanted]
    assert positions == sorted(positions)
    assert steps.count("scored") == len(ev.rubric_of(e.season))
    published = EvaluationStep.objects.get(evaluation=e, step="published")
    assert published.data["grade"] == "3A" and published.data["total"] == 880


def test_projects_milestones_and_records_with_photos_and_files(tree):
    e = evaluation_at(tree, "under_review")
    manager = manager_of(e.association)
    today = timezone.localdate()
    project = ev.add_project(
        actor=manager, evaluation_id=e.pk, title="社区篮球公益培训", starts_on=today,
        ends_on=today + dt.timedelta(days=60),
        milestones=[ev.MilestoneSpec("招募学员", today + dt.timedelta(days=10)),
                    ev.MilestoneSpec("结业赛", today + dt.timedelta(days=60))])
    milestone = project.milestones.first()
    record = ev.add_record(actor=manager, project_id=project.pk, text="招募 30 名学员",
                           milestone_id=milestone.pk, milestone_done=True,
                           files=[ev.Upload("a.png", _png()), ev.Upload("名单.pdf", PDF)])
    assert sorted(f.is_photo for f in record.files.all()) == [False, True]
    milestone.refresh_from_db()
    assert milestone.done_on == today
    with pytest.raises(DomainError) as outside:
        ev.add_project(actor=manager, evaluation_id=e.pk, title="x", starts_on=today,
                       ends_on=today, milestones=[ev.MilestoneSpec("y", today
                                                                   + dt.timedelta(days=1))])
    assert outside.value.code == "milestone_outside"
    with pytest.raises(DomainError) as stranger:
        ev.add_record(actor=tree.resident, project_id=project.pk, text="x")
    assert stranger.value.code == "service_project_not_found"
    # The evaluator follows it.
    assert [p.pk for p in ev.projects_of(ev.get_assigned(assigned_evaluator(e), e.pk))] == [
        project.pk]
