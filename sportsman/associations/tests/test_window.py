"""The one window: every state × every step (only the table's succeed; the others change
nothing), the review levels and receipts, returns and resubmission, documents, deadlines,
the rectification report, the SLA clock, the effects of an approval, notifications."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from sportsman.associations import window
from sportsman.associations.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    ReviewRule,
    WindowAction,
)
from sportsman.associations.tests.fixtures_window import (
    annual_data,
    jpeg,
    make_association,
    pdf,
    submitted,
)
from sportsman.core.errors import DomainError
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")
S = ApplicationStatus
A = WindowAction


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def _step(app, actor, action, **kw):
    return window.transition_application(actor=actor, application_id=app.pk, action=action,
                                         **kw)


def _in_state(tree, status: str):
    """An annual report in ``status`` (levels town → district) and its manager."""
    assoc, manager = make_association(tree)
    app = submitted(assoc, manager, submit=status != S.DRAFT)
    if status in (S.ACCEPTED, S.RETURNED, S.APPROVED, S.REJECTED):
        app = _step(app, tree.town_admin, A.ACCEPT)
    if status == S.RETURNED:
        app = _step(app, tree.district_admin, A.RETURN, note="补充审计报告")
    if status == S.APPROVED:
        app = _step(app, tree.district_admin, A.APPROVE, result="pass")
    if status == S.REJECTED:
        app = _step(app, tree.district_admin, A.REJECT, note="材料不实")
    if status == S.WITHDRAWN:
        app = _step(app, manager, A.SUBMIT) if app.status == S.DRAFT else app
        app = _step(app, tree.town_admin, A.RETURN, note="请补充")
        app = _step(app, manager, A.WITHDRAW)
    assert app.status == status
    return app, manager


def _actor_for(tree, app, manager, action):
    if action in window.APPLICANT_ACTIONS:
        return manager
    # the staff of the level it waits at (town while submitted, district once accepted)
    return tree.district_admin if app.status == S.ACCEPTED else tree.town_admin


STATES = [s.value for s in S]
ACTIONS = [a.value for a in A if a != A.CREATE]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATES)
def test_every_state_and_step_only_the_tables_steps_succeed(tree, status, action):
    app, manager = _in_state(tree, status)
    before = (app.status, app.step, app.receipt_no, ApplicationStep.objects.filter(
        application=app).count())
    actor = _actor_for(tree, app, manager, action)
    legal = (status, action) in window.TRANSITIONS

    def act():
        return _step(app, actor, action, note="说明", result="pass")

    if legal:
        done = act()
        assert done.status in window.TRANSITIONS[(status, action)]
        assert ApplicationStep.objects.filter(application=app).count() == before[3] + 1
    else:
        # staff never see a draft at all
        expected = ("application_not_found" if status == S.DRAFT
                    and action in window.STAFF_ACTIONS else "application_transition_not_allowed")
        assert _code(act) == expected
        app.refresh_from_db()
        assert (app.status, app.step, app.receipt_no, ApplicationStep.objects.filter(
            application=app).count()) == before


def test_town_accepts_with_a_receipt_and_the_district_decides(tree):
    assoc, manager = make_association(tree)
    app = submitted(assoc, manager)
    assert (app.status, app.level, app.reviewing_region_id) == (S.SUBMITTED, "town", tree.t1.pk)
    assert app.level_list == ["town", "district"]
    # the district cannot act at the town's level, nor the sibling town
    assert _code(lambda: _step(app, tree.district_admin, A.ACCEPT)) == \
        "application_not_your_level"
    assert _code(lambda: _step(app, tree.sibling_town_admin, A.ACCEPT)) == \
        "application_not_found"
    app = _step(app, tree.town_admin, A.ACCEPT)
    year = timezone.localtime(app.accepted_at).year
    assert re.fullmatch(rf"JX-{year}-0000\d\d", app.receipt_no), app.receipt_no
    assert (app.status, app.level, app.reviewing_region_id) == (S.ACCEPTED, "district",
                                                                tree.d1.pk)
    assert _code(lambda: _step(app, tree.town_admin, A.APPROVE, result="pass")) == \
        "application_not_your_level"
    assert _code(lambda: _step(app, tree.district_admin, A.APPROVE)) == "result_required"
    app = _step(app, tree.district_admin, A.APPROVE, result="basic", note="财务制度待完善")
    assert (app.status, app.result, app.reviewing_region_id) == (S.APPROVED, "basic", None)
    assert app.decided_on_time is True
    steps = list(window.timeline(app).values_list("action", "actor_role", "level"))
    assert steps == [("create", "association", ""), ("submit", "association", "town"),
                     ("accept", "town_admin", "town"), ("approve", "district_admin",
                                                        "district")]


def test_receipt_numbers_count_up_per_city_and_year(tree):
    numbers = []
    for i in range(3):
        assoc, manager = make_association(tree, name=f"协会{i}")
        app = _step(submitted(assoc, manager), tree.town_admin, A.ACCEPT)
        numbers.append(app.receipt_no)
    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == [tails[0], tails[0] + 1, tails[0] + 2]
    assert len(set(numbers)) == 3


def test_a_returned_application_is_corrected_and_resubmitted_at_the_first_level(tree):
    assoc, manager = make_association(tree)
    app = _step(submitted(assoc, manager), tree.town_admin, A.ACCEPT)
    receipt = app.receipt_no
    assert _code(lambda: _step(app, tree.district_admin, A.RETURN)) == "reason_required"
    app = _step(app, tree.district_admin, A.RETURN, note="审计报告缺页")
    assert (app.status, app.reviewing_region_id) == (S.RETURNED, None)
    window.attach_document(actor=manager, application_id=app.pk, requirement="audit_report",
                           content=jpeg())
    window.update_draft(actor=manager, application_id=app.pk,
                        data=annual_data(activities=13))
    app = _step(app, manager, A.SUBMIT)
    assert (app.status, app.step, app.reviewing_region_id) == (S.SUBMITTED, 0, tree.t1.pk)
    app = _step(app, tree.town_admin, A.ACCEPT)
    assert app.receipt_no == receipt  # one receipt for the case
    assert app.data["activities"] == 13


def test_submitting_needs_every_required_document(tree):
    assoc, manager = make_association(tree)
    app = window.create_application(actor=manager, association_id=assoc.pk,
                                    kind="annual_report", data=annual_data())
    with pytest.raises(DomainError) as caught:
        _step(app, manager, A.SUBMIT)
    assert caught.value.code == "documents_missing"
    assert set(caught.value.fields["documents"]) == {
        "inspection_form", "audit_report", "certificate_copy", "declaration"}
    app.refresh_from_db()
    assert app.status == S.DRAFT


def test_documents_refuse_wrong_types_and_oversize_files(tree):
    assoc, manager = make_association(tree)
    app = window.create_application(actor=manager, association_id=assoc.pk,
                                    kind="annual_report", data=annual_data())

    def attach(content, requirement="audit_report"):
        return window.attach_document(actor=manager, application_id=app.pk,
                                      requirement=requirement, content=content)

    assert _code(lambda: attach(b"MZ\x90\x00 not a document")) == "file_type"
    assert _code(lambda: attach(b"<html><body>%PDF-</body></html>")) == "file_type"
    assert _code(lambda: attach(b"%PDF-1.4 truncated without an end")) == "file_type"
    assert _code(lambda: attach(pdf(size=10 * 1024 * 1024))) == "file_too_large"
    assert _code(lambda: attach(b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024))) == \
        "file_too_large"
    assert _code(lambda: attach(b"\xff\xd8\xff not really a jpeg")) == "photo_invalid"
    assert _code(lambda: attach(pdf(), requirement="passport")) == "invalid_requirement"
    assert app.documents.count() == 0
    kept = attach(jpeg())
    assert kept.file_type == "jpg" and kept.file.read(3) == b"\xff\xd8\xff"
    assert attach(pdf()).file_type == "pdf"


def test_form_fields_are_validated_with_stable_codes(tree):
    assoc, manager = make_association(tree)

    def create(kind, data):
        return window.create_application(actor=manager, association_id=assoc.pk, kind=kind,
                                         data=data)

    assert _code(lambda: create("annual_report", annual_data(year=None) | {"year": ""})) == \
        "field_required"
    assert _code(lambda: create("annual_report", annual_data(activities="many"))) == \
        "invalid_field"
    assert _code(lambda: create("annual_report", {**annual_data(), "colour": "red"})) == \
        "unknown_field"
    this_year = timezone.localdate().year
    assert _code(lambda: create("annual_report", annual_data(year=this_year))) == \
        "year_not_over"
    assert _code(lambda: create("visa", {})) == "invalid_kind"
    assert _code(lambda: create("preparation", {
        "proposed_name": "中华健身协会", "individual_members": 60, "unit_members": 0,
        "funds_yuan": 30000, "address": "南湖", "founders": "张三"})) == "invalid_name"
    assert _code(lambda: create("preparation", {
        "proposed_name": "南湖健身协会", "individual_members": 30, "unit_members": 10,
        "funds_yuan": 30000, "address": "南湖", "founders": "张三"})) == "too_few_members"
    assert _code(lambda: create("preparation", {
        "proposed_name": "南湖健身协会", "individual_members": 60, "unit_members": 0,
        "funds_yuan": 29999, "address": "南湖", "founders": "张三"})) == "invalid_field"
    assert _code(lambda: create("filing", {"members": 20, "leader": "王",
                                           "activity_place": "广场",
                                           "activity_times": "清晨"})) == "already_filed"
    assert not Application.objects.exists()


def test_a_high_risk_permit_is_applied_for_at_least_20_days_ahead(tree):
    assoc, manager = make_association(tree)
    today = timezone.localdate()

    def data(days):
        return {"event_name": "南湖攀岩公开赛", "sport_item": "climbing",
                "starts_on": (today + dt.timedelta(days=days)).isoformat(), "place": "南湖",
                "scale": 200, "organisers": "新嘉街道老年人体育协会"}

    assert _code(lambda: window.create_application(
        actor=manager, association_id=assoc.pk, kind="high_risk_permit",
        data=data(19))) == "permit_too_late"
    app = submitted(assoc, manager, "high_risk_permit", data(20))
    assert (app.status, app.level_list, app.reviewing_region_id) == (S.SUBMITTED, ["district"],
                                                                     tree.d1.pk)


def test_an_event_filing_names_an_event_the_association_organises(tree):
    from sportsman.events.tests.factories import make_event

    assoc, manager = make_association(tree)
    other = make_event(tree.k2, organiser_kind="group", organiser_id=assoc.pk)
    ours = make_event(tree.k2, organiser_kind="association", organiser_id=assoc.pk,
                      organiser_name=assoc.name)
    fields = {"expected_people": 300, "safety_officer": "李安全", "medical_cover": True}
    assert _code(lambda: window.create_application(
        actor=manager, association_id=assoc.pk, kind="event_filing",
        data={**fields, "event_id": other.pk})) == "event_not_organised"
    app = submitted(assoc, manager, "event_filing", {**fields, "event_id": ours.pk})
    assert app.event_id == ours.pk and app.level_list == ["town"]
    app = _step(app, tree.town_admin, A.ACCEPT)
    app = _step(app, tree.town_admin, A.APPROVE)
    assert app.status == S.APPROVED


def test_last_years_basic_pass_requires_a_rectification_report(tree):
    assoc, manager = make_association(tree)
    year = timezone.localdate().year - 1
    earlier = submitted(assoc, manager, data=annual_data(year=year - 1))
    earlier = _step(earlier, tree.town_admin, A.ACCEPT)
    _step(earlier, tree.district_admin, A.APPROVE, result="basic")
    app = window.create_application(actor=manager, association_id=assoc.pk,
                                    kind="annual_report", data=annual_data(year=year))
    assert "rectification" in window.required_documents(app)
    for key in ("inspection_form", "audit_report", "certificate_copy", "declaration"):
        window.attach_document(actor=manager, application_id=app.pk, requirement=key,
                               content=pdf())
    with pytest.raises(DomainError) as caught:
        _step(app, manager, A.SUBMIT)
    assert caught.value.fields["documents"] == ["rectification"]
    window.attach_document(actor=manager, application_id=app.pk, requirement="rectification",
                           content=pdf())
    assert _step(app, manager, A.SUBMIT).status == S.SUBMITTED
    # a passing year needs none
    other, other_manager = make_association(tree, name="新嘉门球协会")
    assert "rectification" not in window.required_documents(
        window.create_application(actor=other_manager, association_id=other.pk,
                                  kind="annual_report", data=annual_data(year=year)))


def test_one_live_annual_report_per_year(tree):
    assoc, manager = make_association(tree)
    submitted(assoc, manager)
    assert _code(lambda: window.create_application(
        actor=manager, association_id=assoc.pk, kind="annual_report",
        data=annual_data())) == "annual_report_exists"


def test_a_regions_rule_sets_the_levels_and_the_time_limit(tree):
    window.set_rule(actor=tree.district_admin, region_id=tree.d1.pk, kind="annual_report",
                    levels=["community", "town", "district"], handle_days=3)
    assert _code(lambda: window.set_rule(actor=tree.district_admin, region_id=tree.d1.pk,
                                         kind="annual_report", levels=["district", "town"],
                                         handle_days=3)) == "invalid_levels"
    assert _code(lambda: window.set_rule(actor=tree.sibling_district_admin,
                                         region_id=tree.d1.pk, kind="annual_report",
                                         levels=["town"], handle_days=3)) == "not_found"
    assoc, manager = make_association(tree)
    app = submitted(assoc, manager)
    assert app.level_list == ["community", "town", "district"]
    assert app.reviewing_region_id == tree.k2.pk
    assert app.due_at - app.submitted_at == dt.timedelta(days=3)
    # an association of the district itself skips the levels below it
    top, top_manager = make_association(tree, tree.d1, name="南湖区体育总会", kind="federation")
    app = submitted(top, top_manager)
    assert (app.level_list, app.reviewing_region_id) == (["district"], tree.d1.pk)
    assert ReviewRule.objects.count() == 1


def test_the_sla_clock_flags_overdue_and_records_on_time_decisions(tree):
    start = dt.datetime(2027, 3, 31, 23, 30, tzinfo=LOCAL)  # a quarter's last evening
    assoc, manager = make_association(tree)
    other, other_manager = make_association(tree, name="新嘉篮球协会")
    with time_machine.travel(start, tick=False):
        late = submitted(assoc, manager, data=annual_data(year=2026))
        quick = submitted(other, other_manager, data=annual_data(year=2026))
        assert late.due_at == start + dt.timedelta(days=window.DEFAULT_DAYS["annual_report"])
        assert not late.is_late  # 31 March is still in time
        _step(quick, tree.town_admin, A.ACCEPT)
    with time_machine.travel(start + dt.timedelta(days=20, minutes=-1), tick=False):
        access = _access(tree.town_admin)
        assert not window.is_overdue(Application.objects.get(pk=late.pk))
        assert list(window.inbox(access, overdue=True)) == []
        assert [a.pk for a in window.inbox(access)] == [late.pk]
        _step(quick, tree.district_admin, A.APPROVE, result="pass")
    with time_machine.travel(start + dt.timedelta(days=20, minutes=1), tick=False):
        assert [a.pk for a in window.inbox(_access(tree.town_admin), overdue=True)] == [late.pk]
        late = _step(late, tree.town_admin, A.ACCEPT)
        late = _step(late, tree.district_admin, A.APPROVE, result="pass")
    assert late.decided_on_time is False
    assert Application.objects.get(pk=quick.pk).decided_on_time is True


def test_an_annual_report_after_the_due_date_is_marked_late(tree):
    assoc, manager = make_association(tree)
    with time_machine.travel(dt.datetime(2027, 4, 1, 0, 30, tzinfo=LOCAL), tick=False):
        app = submitted(assoc, manager, data=annual_data(year=2026))
    assert app.is_late is True


def _access(user):
    from sportsman.regions.access import access_for_user

    return access_for_user(user)


def test_approvals_take_effect_on_the_registry(tree):
    from sportsman.associations.models import Association

    team, captain = make_association(tree, name="花园晨练队", legal_status="grassroots",
                                     kind="team")
    app = submitted(team, captain, "filing")
    app = _step(_step(app, tree.town_admin, A.ACCEPT), tree.district_admin, A.APPROVE)
    team.refresh_from_db()
    assert team.legal_status == "filed" and team.credit_code == f"BA{app.receipt_no}"

    assoc, manager = make_association(tree, name="新嘉乒乓球协会")
    app = submitted(assoc, manager, "change")
    assert app.level_list == ["district", "city"]
    app = _step(app, tree.district_admin, A.ACCEPT)
    app = _step(app, tree.city_admin, A.APPROVE)
    assert Association.objects.get(pk=assoc.pk).address == "嘉兴市南湖区新嘉街道1号"


def test_establishment_prepares_then_registers_within_six_months(tree):
    from sportsman.associations.models import Association

    assoc, manager = make_association(tree, name="南湖飞盘协会", legal_status="grassroots",
                                      status="preparing", kind="sport")
    assert _code(lambda: window.create_application(
        actor=manager, association_id=assoc.pk, kind="registration", data={})) in (
        "field_required", "preparation_not_approved")
    prep = submitted(assoc, manager, "preparation")
    prep = _step(_step(prep, tree.district_admin, A.ACCEPT), tree.city_admin, A.APPROVE)
    assoc.refresh_from_db()
    assert assoc.preparation_approved_on == timezone.localdate()
    data = {"assembly_on": timezone.localdate().isoformat(), "individual_members": 55,
            "unit_members": 0, "funds_yuan": 50000, "legal_representative": "张三",
            "credit_code": "51330402MJ0000001X"}
    reg = submitted(assoc, manager, "registration", data)
    _step(_step(reg, tree.district_admin, A.ACCEPT), tree.city_admin, A.APPROVE)
    assoc = Association.objects.get(pk=assoc.pk)
    assert (assoc.legal_status, assoc.status, assoc.credit_code) == (
        "registered", "active", "51330402MJ0000001X")
    with time_machine.travel(timezone.now() + dt.timedelta(days=200), tick=False):
        assert _code(lambda: window.create_application(
            actor=manager, association_id=assoc.pk, kind="registration",
            data=data)) == "preparation_expired"


def test_the_applicant_and_the_next_level_are_told_at_each_step(tree):
    assoc, manager = make_association(tree)
    app = submitted(assoc, manager)
    assert Notification.objects.filter(user=tree.town_admin, category="association").count() == 1
    app = _step(app, tree.town_admin, A.ACCEPT)
    assert Notification.objects.filter(user=tree.district_admin).count() == 1
    _step(app, tree.district_admin, A.APPROVE, result="pass")
    told = list(Notification.objects.filter(user=manager).order_by("id")
                .values_list("data", flat=True))
    assert [d["action"] for d in told] == ["submit", "accept", "approve"]
    assert told[-1]["status"] == "approved"


def test_strangers_neither_see_nor_act(tree):
    assoc, manager = make_association(tree)
    app = submitted(assoc, manager)
    stranger = tree.user()
    assert _code(lambda: window.visible(stranger, app.pk)) == "application_not_found"
    assert _code(lambda: _step(app, stranger, A.WITHDRAW)) == "application_not_found"
    app = _step(app, tree.town_admin, A.RETURN, note="请补充")
    assert _code(lambda: _step(app, tree.town_admin, A.SUBMIT)) == "forbidden"
    assert _code(lambda: window.visible(tree.resident, app.pk)) == "application_not_found"
