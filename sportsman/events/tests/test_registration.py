"""Registering: the place counter, the waitlist and its promotion, teams, custom questions,
eligibility, cancellation; bad input refused with its code and nothing written."""

from __future__ import annotations

import pytest

from sportsman.core.errors import DomainError
from sportsman.events import services
from sportsman.events.models import Event, EventStatus, Registration, RegStatus, TeamMember
from sportsman.events.tests.factories import make_event

pytestmark = pytest.mark.django_db

QUESTIONS = [{"key": "size", "label": "T恤尺码", "type": "choice", "choices": ["S", "M", "L"],
              "required": True},
             {"key": "note", "label": "备注", "type": "text", "required": False}]


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def test_registration_takes_a_place_and_the_last_one_fills_the_event(tree):
    event = make_event(tree.k1, capacity=2, has_waitlist=False)
    a, b, c = tree.user(), tree.user(), tree.user()
    services.register(actor=a, event_id=event.pk)
    services.register(actor=b, event_id=event.pk)

    assert _code(lambda: services.register(actor=c, event_id=event.pk)) == "event_full"
    event.refresh_from_db()
    assert event.registered == 2
    assert not Registration.objects.filter(user=c).exists()


def test_registering_twice_is_refused_and_writes_nothing(tree):
    event = make_event(tree.k1)
    services.register(actor=tree.resident, event_id=event.pk)

    assert _code(lambda: services.register(actor=tree.resident, event_id=event.pk)) \
        == "already_registered"
    event.refresh_from_db()
    assert event.registered == 1 and Registration.objects.count() == 1


def test_full_event_with_a_waitlist_queues_and_a_cancellation_promotes_the_first(tree):
    event = make_event(tree.k1, capacity=1)
    holder, first, second = tree.user(), tree.user(), tree.user()
    held = services.register(actor=holder, event_id=event.pk)
    w1 = services.register(actor=first, event_id=event.pk)
    w2 = services.register(actor=second, event_id=event.pk)
    assert (w1.status, w2.status) == (RegStatus.WAITLISTED, RegStatus.WAITLISTED)

    services.cancel_registration(actor=holder, registration_id=held.pk)

    w1.refresh_from_db()
    w2.refresh_from_db()
    assert (w1.status, w1.from_waitlist, w2.status) == (RegStatus.REGISTERED, True,
                                                        RegStatus.WAITLISTED)
    event.refresh_from_db()
    assert event.registered == 1


def test_leaving_the_waitlist_frees_no_place(tree):
    event = make_event(tree.k1, capacity=1)
    services.register(actor=tree.user(), event_id=event.pk)
    waiting = services.register(actor=tree.user(), event_id=event.pk)

    services.cancel_registration(actor=waiting.user, registration_id=waiting.pk)

    event.refresh_from_db()
    assert event.registered == 1
    assert Registration.objects.get(pk=waiting.pk).status == RegStatus.CANCELLED


def test_cancelling_twice_is_refused(tree):
    event = make_event(tree.k1)
    reg = services.register(actor=tree.resident, event_id=event.pk)
    services.cancel_registration(actor=tree.resident, registration_id=reg.pk)

    assert _code(lambda: services.cancel_registration(actor=tree.resident,
                                                      registration_id=reg.pk)) \
        == "invalid_transition"
    event.refresh_from_db()
    assert event.registered == 0


def test_raising_capacity_promotes_the_waitlist(tree):
    event = make_event(tree.k1, capacity=1)
    services.register(actor=tree.user(), event_id=event.pk)
    waiting = [services.register(actor=tree.user(), event_id=event.pk) for _ in range(3)]

    services.update_event(actor=tree.town_admin, event_id=event.pk, capacity=3)

    assert [Registration.objects.get(pk=w.pk).status for w in waiting] == [
        RegStatus.REGISTERED, RegStatus.REGISTERED, RegStatus.WAITLISTED]
    assert Event.objects.get(pk=event.pk).registered == 3


def test_capacity_cannot_drop_below_the_places_taken(tree):
    event = make_event(tree.k1, capacity=3)
    for _ in range(2):
        services.register(actor=tree.user(), event_id=event.pk)

    assert _code(lambda: services.update_event(actor=tree.town_admin, event_id=event.pk,
                                               capacity=1)) == "invalid"
    assert Event.objects.get(pk=event.pk).capacity == 3


@pytest.mark.parametrize(("conditions", "who", "reason"), [
    ({"age_min": 60}, {"birth_year": 2000}, "age"),
    ({"age_max": 30}, {"birth_year": None}, "age_unknown"),
    ({"sex": "F"}, {"sex": "M"}, "sex"),
    ({"qualifiers_only": True}, {}, "qualifiers_only"),
])
def test_ineligible_residents_are_refused_with_the_reason(tree, conditions, who, reason):
    event = make_event(tree.k1, **conditions)
    user = tree.user(home_community=tree.k1, **{"birth_year": 1990, "sex": "F", **who})

    with pytest.raises(DomainError) as caught:
        services.register(actor=user, event_id=event.pk)

    assert caught.value.code == "not_eligible"
    assert caught.value.fields["eligibility"] == [reason]
    assert not Registration.objects.exists()
    assert Event.objects.get(pk=event.pk).registered == 0


def test_region_eligibility_follows_the_home_community_subtree(tree):
    event = make_event(tree.t1, eligible_region=tree.t1)
    inside = tree.user(home_community=tree.k2)
    outside = tree.user(home_community=tree.k3)

    services.register(actor=inside, event_id=event.pk)
    assert _code(lambda: services.register(actor=outside, event_id=event.pk)) == "not_eligible"


@pytest.mark.parametrize(("answers", "code"), [
    ({}, "invalid_answers"),  # the required question
    ({"size": "XXL"}, "invalid_answers"),  # not a choice
    ({"size": "M", "shoe": 42}, "unknown_field"),  # a question the event does not ask
    ({"size": "M", "note": 5}, "invalid_answers"),  # text expected
])
def test_bad_answers_are_refused_and_nothing_is_written(tree, answers, code):
    event = make_event(tree.k1, form_fields=QUESTIONS)

    assert _code(lambda: services.register(actor=tree.resident, event_id=event.pk,
                                           answers=answers)) == code
    assert not Registration.objects.exists()
    assert Event.objects.get(pk=event.pk).registered == 0


def test_good_answers_are_kept(tree):
    event = make_event(tree.k1, form_fields=QUESTIONS)

    reg = services.register(actor=tree.resident, event_id=event.pk,
                            answers={"size": "M", "note": " 素食 "})

    assert reg.answers == {"size": "M", "note": "素食"}


def test_registration_outside_its_window_or_unpublished_is_refused(tree):
    closed = make_event(tree.k1, starts_in_days=-1)
    draft = make_event(tree.k1, status=EventStatus.DRAFT)

    assert _code(lambda: services.register(actor=tree.resident, event_id=closed.pk)) \
        == "registration_closed"
    assert _code(lambda: services.register(actor=tree.resident, event_id=draft.pk)) \
        == "event_not_found"


def test_team_registration_keeps_the_roster_and_refuses_a_second_team_of_the_name(tree):
    event = make_event(tree.k1, entry="team", team_min=2, team_max=5)
    mate = tree.user()
    captain = tree.user(nickname="队长")

    reg = services.register(actor=captain, event_id=event.pk, team_name="南湖跑团",
                            members=[{"name": "队友", "phone": mate.phone}])

    assert [m["user_id"] for m in reg.roster] == [captain.pk, mate.pk]
    assert set(TeamMember.objects.values_list("user_id", flat=True)) == {captain.pk, mate.pk}
    assert _code(lambda: services.register(actor=tree.user(), event_id=event.pk,
                                           team_name="南湖跑团",
                                           members=[{"name": "x"}])) == "team_already_registered"
    assert _code(lambda: services.register(actor=tree.user(), event_id=event.pk,
                                           team_name="另一队",
                                           members=[{"name": "y", "phone": mate.phone}])) \
        == "member_already_registered"
    assert Event.objects.get(pk=event.pk).registered == 1


def test_a_team_too_small_is_refused(tree):
    event = make_event(tree.k1, entry="team", team_min=3, team_max=5)

    assert _code(lambda: services.register(actor=tree.resident, event_id=event.pk,
                                           team_name="两人队", members=[{"name": "a"}])) \
        == "invalid_roster"


def test_organiser_questions_are_validated(tree):
    assert _code(lambda: services.clean_form_fields([{"key": "Bad Key", "label": "x"}])) \
        == "invalid"
    assert _code(lambda: services.clean_form_fields([{"key": "a", "label": "x",
                                                      "type": "choice"}])) == "invalid"
    assert services.clean_form_fields([{"key": "a", "label": " 号码 ", "type": "number"}]) \
        == [{"key": "a", "label": "号码", "type": "number", "required": False, "choices": []}]
