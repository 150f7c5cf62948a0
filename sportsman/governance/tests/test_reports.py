"""Reporting a problem: routing, the workflow and its timeline, the facility's ticket, the
service levels (escalation and closing by itself with a controlled clock), reopening, rating,
duplicates and merging, photos and their EXIF, acting for others, and the API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from sportsman.core import events
from sportsman.core.errors import DomainError
from sportsman.facilities.models import MaintenanceTicket
from sportsman.governance import proxy, reports
from sportsman.governance.models import Report, ReportEvent, RoutingRule
from sportsman.governance.tests.fixtures_reports import LAT, LNG, bomb, facility, jpeg, make_report
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _steps(report: Report) -> list[str]:
    return list(ReportEvent.objects.filter(report=report).order_by("at", "id")
                .values_list("step", flat=True))


def _code(call) -> str:
    with pytest.raises(DomainError) as err:
        call()
    return err.value.code


# --- submitting and routing --------------------------------------------------------------------

def test_a_report_on_a_facility_goes_to_its_managers_and_opens_its_ticket(
        tree, django_capture_on_commit_callbacks):
    court = facility(tree)
    with django_capture_on_commit_callbacks(execute=True):
        report = make_report(tree, at_facility=court)
    events.dispatch()

    assert report.region == tree.k1 and report.handling_region == tree.k1
    assert report.handler == "venue_manager"
    assert (report.lat, report.lng) == (court.lat, court.lng)
    ticket = MaintenanceTicket.objects.get(report_id=report.pk)
    assert ticket.facility == court and ticket.kind == "report" and ticket.status == "open"
    told = set(Notification.objects.filter(data__report_id=report.pk)
               .values_list("user_id", flat=True))
    assert {tree.venue_manager.pk, tree.community_admin.pk} <= told
    assert tree.sibling_community_admin.pk not in told
    assert _steps(report) == ["submitted"]


def test_a_pin_goes_to_the_community_it_lies_in_with_the_default_service_levels(tree):
    before = timezone.now()
    report = make_report(tree, category="safety")

    assert report.region == tree.k1 and report.handler == "region_staff"
    assert report.facility is None
    accept, resolve = reports.DEFAULT_SLA["safety"]
    assert dt.timedelta(hours=accept) <= report.accept_due - before < dt.timedelta(
        hours=accept, minutes=1)
    assert report.resolve_due - report.created_at == pytest.approx(
        dt.timedelta(days=resolve), abs=dt.timedelta(seconds=5))


def test_a_region_rule_sets_the_service_level_and_the_nearest_rule_wins(tree):
    reports.set_rule(actor=tree.district_admin, region_id=tree.d1.pk, category="lighting",
                     handler="region_staff", accept_hours=2, resolve_days=1)
    reports.set_rule(actor=tree.town_admin, region_id=tree.t1.pk, category="lighting",
                     handler="region_staff", accept_hours=6, resolve_days=2)
    report = make_report(tree)
    assert report.accept_due - report.created_at == pytest.approx(
        dt.timedelta(hours=6), abs=dt.timedelta(seconds=5))
    # a town's staff cannot set rules for another town, nor a resident at all
    assert _code(lambda: reports.set_rule(actor=tree.sibling_town_admin, region_id=tree.t1.pk,
                                          category="noise", handler="region_staff",
                                          accept_hours=6, resolve_days=2)) == "not_found"
    assert _code(lambda: reports.set_rule(actor=tree.resident, region_id=tree.t1.pk,
                                          category="noise", handler="region_staff",
                                          accept_hours=6, resolve_days=2)) == "forbidden"
    assert _code(lambda: reports.set_rule(actor=tree.town_admin, region_id=tree.t1.pk,
                                          category="noise", handler="region_staff",
                                          accept_hours=0, resolve_days=2)) == "invalid_sla"
    assert RoutingRule.objects.count() == 2


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"category": "weather"}, "invalid_category"),
    ({"description": ""}, "invalid"),
    ({"photos": []}, "photo_required"),
    ({"photos": [jpeg()] * 10}, "too_many_photos"),
    ({"photos": [b"%PDF-1.4 not a photo %%EOF"]}, "photo_invalid"),
    ({"photos": [b"\xff" * (5 * 1024 * 1024 + 1)]}, "photo_too_large"),
    ({"photos": [bomb()]}, "photo_invalid"),
    ({"lat": None, "lng": None}, "location_required"),
    ({"lat": 91.0}, "invalid_location"),
    ({"lat": 45.0, "lng": 80.0}, "location_outside"),
    ({"facility_id": 987654, "lat": None, "lng": None}, "facility_not_found"),
])
def test_bad_reports_are_refused_and_nothing_is_kept(tree, kwargs, code):
    facility(tree, units=0)
    args = {"category": "lighting", "description": "灯坏了", "photos": [jpeg()],
            "lat": LAT, "lng": LNG, **kwargs}
    assert _code(lambda: reports.submit(actor=tree.resident, **args)) == code
    assert not Report.objects.exists()


def test_photos_lose_their_exif_and_the_position_is_kept_only_when_shared(tree):
    from PIL import Image

    facility(tree, units=0)
    photo = jpeg(gps=(LAT + 0.0005, LNG + 0.0005))
    kept = reports.submit(actor=tree.resident, category="hygiene", description="垃圾没人清",
                          photos=[photo], share_location=True)
    assert kept.lat == pytest.approx(LAT + 0.0005, abs=1e-6) and kept.region == tree.k1
    with Image.open(kept.photos.get().image.path) as stored:
        assert not stored.getexif()  # neither the camera nor the GPS position
    # not shared: the photo's position is ignored, so a place must be given
    assert _code(lambda: reports.submit(actor=tree.resident, category="hygiene",
                                        description="垃圾没人清", photos=[photo])) \
        == "location_required"


def test_reports_are_rate_limited(tree):
    for _ in range(3):
        make_report(tree, reporter=tree.resident)
    assert _code(lambda: make_report(tree, reporter=tree.resident)) == "throttled"
    assert Report.objects.filter(reporter=tree.resident).count() == 3


def test_a_grid_worker_reports_for_an_elderly_resident_and_both_are_recorded(tree):
    elder = tree.user(home_community=tree.k1, nickname="张阿婆", birth_year=1940)
    worker = tree.user(home_community=tree.k1, nickname="网格员")
    stranger = tree.user(home_community=tree.k1)
    assert _code(lambda: make_report(tree, reporter=worker, for_user_id=elder.pk)) \
        == "proxy_not_authorised"
    proxy.grant(actor=tree.community_admin, agent_phone=worker.phone, relation="grid_worker",
                principal_id=elder.pk)

    report = make_report(tree, reporter=worker, for_user_id=elder.pk)

    assert report.reporter == elder and report.acted_by == worker
    step = ReportEvent.objects.get(report=report)
    assert step.actor == elder and step.acted_by == worker
    assert list(reports.my_reports(worker)) == [report] == list(reports.my_reports(elder))
    assert _code(lambda: make_report(tree, reporter=stranger, for_user_id=elder.pk)) \
        == "proxy_not_authorised"


# --- the workflow ------------------------------------------------------------------------------

def test_the_manager_accepts_works_and_resolves_and_the_reporter_confirms_and_rates(
        tree, django_capture_on_commit_callbacks):
    court = facility(tree)
    reporter = tree.user(home_community=tree.k1)
    with django_capture_on_commit_callbacks(execute=True):
        report = make_report(tree, reporter=reporter, at_facility=court)
        reports.transition(actor=tree.venue_manager, report_id=report.pk, to="accepted")
        reports.transition(actor=tree.venue_manager, report_id=report.pk, to="in_progress")
    events.dispatch()
    ticket = MaintenanceTicket.objects.get(report_id=report.pk)
    assert ticket.status == "assigned" and ticket.assignee == tree.venue_manager
    with django_capture_on_commit_callbacks(execute=True):
        reports.transition(actor=tree.venue_manager, report_id=report.pk, to="resolved",
                           note="已更换灯管", photos=[jpeg()])
    events.dispatch()
    report.refresh_from_db()
    assert report.status == "resolved" and report.resolved_on_time is True
    assert report.public_note == "已更换灯管" and report.photos.filter(by_staff=True).count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "done"
    assert Notification.objects.filter(user=reporter, data__status="resolved").exists()

    reports.confirm(actor=reporter, report_id=report.pk)
    reports.rate(actor=reporter, report_id=report.pk, rating=5, comment="很快")

    report.refresh_from_db()
    assert report.status == "closed" and report.rating == 5
    assert _steps(report) == ["submitted", "accepted", "in_progress", "resolved", "confirmed",
                              "rated"]
    assert _code(lambda: reports.rate(actor=reporter, report_id=report.pk, rating=1)) \
        == "report_already_rated"


def test_steps_out_of_order_and_other_peoples_reports_are_refused(tree):
    report = make_report(tree)
    assert _code(lambda: reports.confirm(actor=report.reporter, report_id=report.pk)) \
        == "report_not_resolved"
    assert _code(lambda: reports.rate(actor=report.reporter, report_id=report.pk, rating=4)) \
        == "report_not_resolved"
    assert _code(lambda: reports.confirm(actor=tree.resident, report_id=report.pk)) \
        == "report_not_found"
    assert _code(lambda: reports.transition(actor=tree.community_admin, report_id=report.pk,
                                            to="rejected")) == "reason_required"
    assert _code(lambda: reports.transition(actor=tree.community_admin, report_id=report.pk,
                                            to="closed")) == "invalid_status"
    reports.transition(actor=tree.community_admin, report_id=report.pk, to="rejected",
                       note="不属于本社区管理范围")
    assert _code(lambda: reports.transition(actor=tree.community_admin, report_id=report.pk,
                                            to="accepted")) == "report_transition_not_allowed"
    report.refresh_from_db()
    assert report.status == "rejected" and report.public_note == "不属于本社区管理范围"


def test_another_communitys_staff_cannot_see_or_touch_a_report(tree):
    report = make_report(tree)
    from sportsman.regions.access import access_for_user

    assert report in reports.reports_for(access_for_user(tree.community_admin))
    assert report in reports.reports_for(access_for_user(tree.town_admin))
    assert report not in reports.reports_for(access_for_user(tree.sibling_community_admin))
    assert report not in reports.reports_for(access_for_user(tree.other_city_admin))
    assert _code(lambda: reports.transition(actor=tree.sibling_community_admin,
                                            report_id=report.pk, to="accepted")) \
        == "report_not_found"
    assert _code(lambda: reports.transition(actor=tree.resident, report_id=report.pk,
                                            to="accepted")) == "forbidden"


def test_a_ticket_that_follows_a_report_is_not_moved_on_its_own(
        tree, django_capture_on_commit_callbacks):
    from sportsman.facilities import maintenance

    with django_capture_on_commit_callbacks(execute=True):
        report = make_report(tree, at_facility=facility(tree))
    events.dispatch()
    ticket = MaintenanceTicket.objects.get(report_id=report.pk)
    assert _code(lambda: maintenance.transition_ticket(
        actor=tree.venue_manager, ticket_id=ticket.pk, to="done")) == "ticket_follows_report"


# --- the clock ---------------------------------------------------------------------------------

def test_an_unaccepted_report_escalates_one_level_at_a_time_and_tells_both(tree):
    with time_machine.travel(dt.datetime(2027, 3, 31, 22, 0, tzinfo=dt.UTC), tick=False):
        report = make_report(tree, category="safety")  # accept within 4 hours
    with time_machine.travel(dt.datetime(2027, 4, 1, 1, 59, tzinfo=dt.UTC), tick=False):
        assert reports.escalate_overdue() == 0
    with time_machine.travel(dt.datetime(2027, 4, 1, 2, 1, tzinfo=dt.UTC), tick=False):
        assert reports.escalate_overdue() == 1
        assert reports.escalate_overdue() == 0  # a fresh window at the town
    report.refresh_from_db()
    assert report.handling_region == tree.t1 and report.escalations == 1
    assert report.accept_due == dt.datetime(2027, 4, 1, 6, 1, tzinfo=dt.UTC)
    told = set(Notification.objects.filter(data__report_id=report.pk,
                                           dedupe_key__contains=":escalated:")
               .values_list("user_id", flat=True))
    assert {tree.community_admin.pk, tree.town_admin.pk} <= told
    assert tree.district_admin.pk not in told
    for hour, region in ((7, tree.d1), (12, tree.city), (17, tree.city)):
        with time_machine.travel(dt.datetime(2027, 4, 1, hour, 0, tzinfo=dt.UTC), tick=False):
            reports.escalate_overdue()
        report.refresh_from_db()
        assert report.handling_region == region
    assert report.escalations == 3
    assert _steps(report).count("escalated") == 3


def test_an_unresolved_report_escalates_and_the_on_time_flag_records_lateness(tree):
    with time_machine.travel(dt.datetime(2027, 12, 31, 15, 30, tzinfo=dt.UTC), tick=False):
        report = make_report(tree, category="hygiene")  # resolve within 2 days
        reports.transition(actor=tree.community_admin, report_id=report.pk, to="accepted")
    with time_machine.travel(dt.datetime(2028, 1, 2, 15, 31, tzinfo=dt.UTC), tick=False):
        assert reports.escalate_overdue() == 1
    report.refresh_from_db()
    assert report.handling_region == tree.t1
    assert report.resolve_due == dt.datetime(2028, 1, 4, 15, 31, tzinfo=dt.UTC)
    with time_machine.travel(dt.datetime(2028, 1, 3, 9, 0, tzinfo=dt.UTC), tick=False):
        reports.transition(actor=tree.town_admin, report_id=report.pk, to="resolved")
    report.refresh_from_db()
    # resolved inside the town's window: on time against the deadline it then had
    assert report.resolved_on_time is True


def test_a_resolved_report_closes_itself_and_can_be_reopened_within_seven_days(tree):
    with time_machine.travel(dt.datetime(2027, 2, 28, 20, 0, tzinfo=dt.UTC), tick=False):
        report = make_report(tree)
        reports.transition(actor=tree.community_admin, report_id=report.pk, to="resolved")
    with time_machine.travel(dt.datetime(2027, 3, 7, 19, 59, tzinfo=dt.UTC), tick=False):
        assert reports.close_resolved() == 0
    with time_machine.travel(dt.datetime(2027, 3, 7, 20, 1, tzinfo=dt.UTC), tick=False):
        assert reports.close_resolved() == 1
        report.refresh_from_db()
        assert report.status == "closed"
        assert _steps(report)[-1] == "auto_closed"
        # the light went out again: reopened just inside the seven days
    with time_machine.travel(dt.datetime(2027, 3, 7, 19, 59, tzinfo=dt.UTC), tick=False):
        reports.reopen(actor=report.reporter, report_id=report.pk, reason="又坏了")
    report.refresh_from_db()
    assert report.status == "in_progress" and report.reopened == 1
    assert report.resolved_at is None and report.closed_at is None
    with time_machine.travel(dt.datetime(2027, 3, 8, 0, 0, tzinfo=dt.UTC), tick=False):
        reports.transition(actor=tree.community_admin, report_id=report.pk, to="resolved")
    with time_machine.travel(dt.datetime(2027, 3, 15, 0, 1, tzinfo=dt.UTC), tick=False):
        assert _code(lambda: reports.reopen(actor=report.reporter, report_id=report.pk,
                                            reason="还是坏")) == "report_reopen_too_late"


# --- duplicates --------------------------------------------------------------------------------

def test_nearby_open_reports_are_suggested_and_staff_merge_a_duplicate(tree):
    first = make_report(tree)
    far = make_report(tree, lat=LAT + 0.01)
    other_kind = make_report(tree, category="noise")

    found = reports.nearby(category="lighting", lat=LAT + 0.001, lng=LNG)
    assert first in found and far not in found and other_kind not in found

    second = make_report(tree)
    reports.merge(actor=tree.community_admin, report_id=second.pk, into_id=first.pk)
    second.refresh_from_db()
    assert second.status == "merged" and second.merged_into == first
    assert _code(lambda: reports.merge(actor=tree.community_admin, report_id=first.pk,
                                       into_id=first.pk)) == "merge_self"
    assert _code(lambda: reports.merge(actor=tree.community_admin, report_id=far.pk,
                                       into_id=second.pk)) == "merge_target_closed"
    assert _code(lambda: reports.merge(actor=tree.sibling_community_admin, report_id=far.pk,
                                       into_id=first.pk)) == "report_not_found"


# --- the API -----------------------------------------------------------------------------------

def test_a_resident_reports_through_the_api_with_a_photo_and_follows_it(tree, api_client):
    facility(tree, units=0)
    client = api_client.as_user(tree.resident)
    photo = SimpleUploadedFile("light.jpg", jpeg(), content_type="image/jpeg")

    made = client.post("/api/v1/reports", {"category": "lighting", "description": "路灯不亮",
                                           "lat": LAT, "lng": LNG, "photos": [photo]},
                       HTTP_IDEMPOTENCY_KEY="r-1")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "submitted" and body["region"] == "花园社区"
    assert len(body["photos"]) == 1 and body["timeline"][0]["step"] == "submitted"
    again = client.post("/api/v1/reports", {"category": "lighting", "description": "路灯不亮",
                                            "lat": LAT, "lng": LNG,
                                            "photos": [SimpleUploadedFile("light.jpg", jpeg())]},
                        HTTP_IDEMPOTENCY_KEY="r-1")
    assert again.json()["id"] == body["id"] and Report.objects.count() == 1

    public = api_client.get(f"/api/v1/reports/{body['id']}")
    assert public.status_code == 200 and "reporter" not in public.json()
    mine = client.get("/api/v1/reports/mine").json()
    assert [r["id"] for r in mine["items"]] == [body["id"]]
    bad = client.post("/api/v1/reports", {"category": "lighting", "description": "x",
                                          "lat": LAT, "lng": LNG})
    assert bad.status_code == 400 and bad.json()["code"] == "photo_required"
    assert api_client.get("/api/v1/reports/999999").json()["code"] == "report_not_found"


def test_the_staff_queue_filters_and_moves_reports(tree, api_client, django_assert_max_num_queries):
    overdue = make_report(tree)
    Report.objects.filter(pk=overdue.pk).update(
        accept_due=timezone.now() - dt.timedelta(minutes=1))
    for _ in range(5):
        make_report(tree, reporter=tree.user(home_community=tree.k1))
    staff = api_client.as_user(tree.community_admin)

    with django_assert_max_num_queries(8):
        page = staff.get("/api/v1/console/reports?status=open&limit=3").json()
    assert len(page["items"]) == 3 and page["next_before"] is not None
    rest = staff.get(f"/api/v1/console/reports?status=open&before={page['next_before']}").json()
    assert len(page["items"]) + len(rest["items"]) == 6
    late = staff.get("/api/v1/console/reports?overdue=true").json()["items"]
    assert [r["id"] for r in late] == [overdue.pk] and late[0]["overdue"] is True

    moved = staff.json("post", f"/api/v1/console/reports/{overdue.pk}/transition",
                       {"to": "accepted"})
    assert moved.status_code == 200 and moved.json()["status"] == "accepted"
    assert moved.json()["timeline"][-1]["by"] == tree.community_admin.nickname
    outsider = api_client.as_user(tree.sibling_community_admin)
    assert outsider.get("/api/v1/console/reports").json()["items"] == []
    refused = outsider.json("post", f"/api/v1/console/reports/{overdue.pk}/transition",
                            {"to": "in_progress"})
    assert refused.status_code == 404
    assert api_client.as_user(tree.resident).get("/api/v1/console/reports").status_code == 403


def test_a_warm_queue_page_costs_the_token_and_one_statement(tree, api_client,
                                                            django_assert_num_queries):
    """The regions' names and the photos come with the page: a page costs the bearer token's
    look-up and the page itself, for a small scope (a community) and a large one (the city)."""
    court = facility(tree)
    for i in range(4):
        make_report(tree, reporter=tree.user(home_community=tree.k1),
                    at_facility=court if i % 2 else None)
    for who in (tree.community_admin, tree.city_admin):
        staff = api_client.as_user(who)
        first = staff.get("/api/v1/console/reports?status=open").json()["items"]
        with django_assert_num_queries(2):
            again = staff.get("/api/v1/console/reports?status=open").json()["items"]
        assert again == first and len(again) == 4
        assert all(len(r["photos"]) == 1 and r["region"] == tree.k1.name for r in again)


def test_the_lean_queue_answers_what_the_schema_makes_of_the_same_reports(tree, api_client):
    from sportsman.governance.api.reports import ReportPageOut, report_out
    from sportsman.regions.access import access_for_user

    court = facility(tree)
    made = [make_report(tree, reporter=tree.user(home_community=tree.k1),
                        at_facility=court if i % 2 else None,
                        category=("lighting", "noise", "hygiene")[i % 3]) for i in range(7)]
    reports.transition(actor=tree.community_admin, report_id=made[1].pk, to="accepted")
    reports.transition(actor=tree.community_admin, report_id=made[2].pk, to="resolved",
                       note="已处理")
    Report.objects.filter(pk=made[3].pk).update(
        accept_due=timezone.now() - dt.timedelta(hours=1))
    for who in (tree.community_admin, tree.city_admin, tree.town_admin):
        for query in ("", "?status=open", "?overdue=true", "?category=noise", "?mine=true",
                      f"?facility_id={court.pk}", "?limit=2", f"?before={made[4].pk}"):
            got = api_client.as_user(who).get(f"/api/v1/console/reports{query}").json()
            qs = reports.reports_for(access_for_user(who), **{
                "status": "open" if "open" in query else None,
                "overdue": "overdue" in query, "mine": "mine" in query,
                "category": "noise" if "noise" in query else None,
                "facility_id": court.pk if "facility" in query else None})
            if "before" in query:
                qs = qs.filter(id__lt=made[4].pk)
            limit = 2 if "limit" in query else 50
            rows = list(qs.prefetch_related("photos").order_by("-id")[:limit + 1])
            want = ReportPageOut(items=[report_out(r) for r in rows[:limit]],
                                 next_before=rows[limit - 1].pk if len(rows) > limit else None)
            # as Ninja's renderer (Django's JSON encoder) writes the schema's values
            expected = json.loads(json.dumps(want.model_dump(), cls=DjangoJSONEncoder))
            for a, b in zip(got["items"], expected["items"], strict=True):
                assert {k: v for k, v in a.items() if b[k] != v} == {}, (who, query, b)
            assert got == expected, (who, query)


def test_staff_turn_a_residents_post_into_a_report_once(tree, api_client):
    from sportsman.governance import posts
    from sportsman.governance.models import CommunityPost

    facility(tree, units=0)
    author = tree.user(home_community=tree.k1, nickname="发帖居民")
    post = posts.publish(actor=author, text="球场的灯坏了，能修一下吗")
    staff = api_client.as_user(tree.community_admin)
    made = staff.json("post", f"/api/v1/console/posts/{post.pk}/report", {"category": "lighting"})
    assert made.status_code == 201, made.content
    report = Report.objects.get(pk=made.json()["id"])
    assert report.reporter == author and report.region == tree.k1
    assert report.description == "球场的灯坏了，能修一下吗"
    assert CommunityPost.objects.get(pk=post.pk).report_id == report.pk
    again = staff.json("post", f"/api/v1/console/posts/{post.pk}/report", {"category": "lighting"})
    assert again.status_code == 409 and again.json()["code"] == "post_already_turned"
    assert Report.objects.count() == 1


def test_bad_proxy_grants_are_refused_and_nothing_is_kept(tree):
    from sportsman.governance.models import ProxyGrant

    elder = tree.user(home_community=tree.k1)
    helper = tree.user(home_community=tree.k1)
    assert _code(lambda: proxy.grant(actor=elder, agent_phone="12345",
                                     relation="family")) == "user_not_found"
    assert _code(lambda: proxy.grant(actor=elder, agent_phone=helper.phone,
                                     relation="neighbour")) == "invalid_relation"
    assert _code(lambda: proxy.grant(actor=elder, agent_phone=elder.phone,
                                     relation="family")) == "proxy_self"
    assert _code(lambda: proxy.grant(actor=tree.sibling_community_admin, agent_phone=helper.phone,
                                     relation="grid_worker", principal_id=elder.pk)) \
        == "forbidden"
    assert not ProxyGrant.objects.exists()
    proxy.grant(actor=elder, agent_phone=helper.phone, relation="family")
    assert _code(lambda: proxy.grant(actor=elder, agent_phone=helper.phone,
                                     relation="family")) == "proxy_already_authorised"
    assert ProxyGrant.objects.count() == 1


def test_a_post_is_not_turned_into_a_report_of_an_unknown_category(tree, api_client):
    from sportsman.governance import posts

    facility(tree, units=0)
    post = posts.publish(actor=tree.user(home_community=tree.k1), text="球场的灯坏了")
    staff = api_client.as_user(tree.community_admin)
    bad = staff.json("post", f"/api/v1/console/posts/{post.pk}/report", {"category": "weather"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_category"
    post.refresh_from_db()
    assert post.report_id is None and not Report.objects.exists()
