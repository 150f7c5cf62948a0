"""The registry: staff register, edit, suspend instructors of their subtree and confirm work
registrations; promotion conditions; the public search."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.models import AuditEntry
from sportsman.instructors import registry, selectors
from sportsman.instructors.models import (
    GuidanceSession,
    Instructor,
    SessionRecord,
    WorkRegistration,
)
from sportsman.instructors.tests.factories import make_instructor, sport
from sportsman.instructors.tests.test_booking import code
from sportsman.regions.access import access_for_user

pytestmark = pytest.mark.django_db


def test_town_staff_register_an_instructor_of_their_subtree_audited(tree):
    person = tree.user(home_community=tree.k2)
    sport("badminton")
    made = registry.register_instructor(
        access=access_for_user(tree.town_admin), user_id=person.pk, name="周指导员",
        level="second", certificate_number="ZJ-2024-001", region_id=tree.k2.pk,
        sports=["badminton"])
    assert made.region_id == tree.k2.pk and list(made.sports.values_list("slug", flat=True)) \
        == ["badminton"]
    assert AuditEntry.objects.filter(action="instructor.registered",
                                     object_id=str(made.pk)).exists()
    assert code(lambda: registry.register_instructor(
        access=access_for_user(tree.town_admin), user_id=person.pk, name="周", level="third",
        certificate_number="X-1", region_id=tree.k2.pk)) == "already_instructor"
    other = tree.user()
    assert code(lambda: registry.register_instructor(
        access=access_for_user(tree.town_admin), user_id=other.pk, name="周", level="third",
        certificate_number="ZJ-2024-001", region_id=tree.k2.pk)) == "certificate_taken"


def test_staff_of_another_region_can_neither_register_nor_see(tree):
    found = make_instructor(tree, region=tree.k2)
    assert code(lambda: registry.register_instructor(
        access=access_for_user(tree.sibling_town_admin), user_id=tree.user().pk, name="周",
        level="third", certificate_number="X-2", region_id=tree.k2.pk)) == "forbidden"
    assert code(lambda: registry.transition_instructor(
        access=access_for_user(tree.sibling_town_admin), instructor_id=found.pk,
        to="suspended")) == "instructor_not_found"
    assert not selectors.instructors_for(access_for_user(tree.sibling_town_admin)).exists()
    assert list(selectors.instructors_for(access_for_user(tree.district_admin))) == [found]


def test_moving_needs_the_new_region_too(tree):
    found = make_instructor(tree, region=tree.k2)
    assert code(lambda: registry.update_instructor(
        access=access_for_user(tree.town_admin), instructor_id=found.pk,
        region_id=tree.k3.pk)) == "forbidden"
    registry.update_instructor(access=access_for_user(tree.district_admin),
                               instructor_id=found.pk, region_id=tree.k3.pk, level="first")
    found.refresh_from_db()
    assert (found.region_id, found.level) == (tree.k3.pk, "first")


def test_suspend_and_reinstate_follow_the_table(tree):
    found = make_instructor(tree)
    access = access_for_user(tree.town_admin)
    registry.transition_instructor(access=access, instructor_id=found.pk, to="suspended")
    assert code(lambda: registry.transition_instructor(access=access, instructor_id=found.pk,
                                                       to="suspended")) == "invalid_status_change"
    assert selectors.search_instructors().items == []
    registry.transition_instructor(access=access, instructor_id=found.pk, to="active")
    assert [i["id"] for i in selectors.search_instructors().items] == [found.pk]


def test_work_registration_is_confirmed_once_a_year_and_not_in_the_future(tree):
    found = make_instructor(tree)
    access = access_for_user(tree.town_admin)
    today = dt.date(2026, 6, 1)
    registry.confirm_registration(access=access, instructor_id=found.pk, year=2025,
                                  org="新嘉街道体育总会", service_count=40, today=today)
    registry.confirm_registration(access=access, instructor_id=found.pk, year=2025,
                                  org="新嘉街道体育总会", service_count=42, today=today)
    reg = WorkRegistration.objects.get(instructor=found)
    assert (reg.service_count, reg.confirmed_by_id) == (42, tree.town_admin.pk)
    assert code(lambda: registry.confirm_registration(
        access=access, instructor_id=found.pk, year=2027, org="x", service_count=1,
        today=today)) == "invalid"


def _recorded(teacher, starts_at):
    session = GuidanceSession.objects.create(instructor=teacher, starts_at=starts_at,
                                             ends_at=starts_at + dt.timedelta(hours=1),
                                             status="recorded", taken=1)
    SessionRecord.objects.create(session=session, content="教学", minutes=60, attendees=1)


def test_promotion_conditions_are_met_or_not_yet(tree):
    tz = registry.zone()
    today = dt.date(2027, 1, 1)  # New Year's Day: the last year is 2026
    teacher = make_instructor(tree, level="third", certified_on=dt.date(2023, 5, 1))
    access = access_for_user(tree.town_admin)
    for year, count in ((2023, 12), (2024, 35), (2025, 0)):
        registry.confirm_registration(access=access, instructor_id=teacher.pk, year=year,
                                      org="花园社区", service_count=count, today=today)
    # 29 sessions in the last 365 days (the first on 2026-01-02), one just outside
    for day in range(29):
        _recorded(teacher, dt.datetime(2026, 1, 2, 9, tzinfo=tz) + dt.timedelta(days=day * 12))
    _recorded(teacher, dt.datetime(2026, 1, 1, 23, tzinfo=tz))

    progress = registry.promotion_progress(teacher, today=today)
    conditions = {c.key: (c.value, c.required, c.met) for c in progress.conditions}
    assert progress.next_level == "second"
    assert conditions == {"service_last_year": (29, 30, False),
                          "registered_years": (1, 2, False)}
    assert {y.year: (y.registered_service, y.sessions) for y in progress.years} == {
        2026: (None, 30), 2025: (0, 0), 2024: (35, 0), 2023: (12, 0)}

    _recorded(teacher, dt.datetime(2026, 12, 31, 23, 30, tzinfo=tz))
    registry.confirm_registration(access=access, instructor_id=teacher.pk, year=2026,
                                  org="花园社区", service_count=31, today=today)
    progress = registry.promotion_progress(teacher, today=today)
    assert all(c.met for c in progress.conditions) and progress.all_met
    assert registry.promotion_progress(make_instructor(tree, level="national")).conditions == []


def test_search_filters_by_sport_level_region_rating_and_pages(tree):
    a = make_instructor(tree, region=tree.k1, sports=("badminton",), level="third")
    b = make_instructor(tree, region=tree.k2, sports=("badminton", "taiji"), level="second")
    c = make_instructor(tree, region=tree.k4, sports=("taiji",), level="second", lat=30.9,
                        lng=120.6)
    Instructor.objects.filter(pk=b.pk).update(rating_sum=9, rating_count=2)
    ids = lambda **kw: [i["id"] for i in selectors.search_instructors(**kw).items]  # noqa: E731
    assert ids(sport="badminton") == [a.pk, b.pk]
    assert ids(level="second") == [b.pk, c.pk]
    assert ids(region=tree.t1) == [a.pk, b.pk]
    assert ids(min_rating=4.5) == [b.pk]
    assert ids(lat=30.9, lng=120.6, radius_m=2000) == [c.pk]
    first = selectors.search_instructors(limit=2)
    assert [i["id"] for i in first.items] == [a.pk, b.pk] and first.next_cursor
    assert ids(limit=2, cursor=first.next_cursor) == [c.pk]
    item = selectors.search_instructors(sport="taiji").items[0]
    assert item["rating"] == 4.5 and item["region_name"] == "新南社区"
    assert code(lambda: selectors.search_instructors(sport="nope")) == "invalid"
    assert code(lambda: selectors.search_instructors(cursor="!!")) == "invalid"


def test_the_own_profile_is_the_instructors_only(tree):
    teacher = make_instructor(tree)
    sport("taiji")
    registry.update_profile(actor=teacher.user, bio="二十年羽毛球教学", max_group_size=8,
                            sports=["badminton", "taiji"])
    teacher.refresh_from_db()
    assert (teacher.bio, teacher.max_group_size) == ("二十年羽毛球教学", 8)
    assert code(lambda: registry.update_profile(actor=tree.resident, bio="x")) \
        == "not_an_instructor"
    assert code(lambda: registry.set_weekly(actor=teacher.user, windows=[
        registry.WindowIn(0, dt.time(8), dt.time(10)),
        registry.WindowIn(0, dt.time(9), dt.time(11))])) == "windows_overlap"

