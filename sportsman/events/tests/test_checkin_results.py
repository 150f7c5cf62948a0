"""Check-in by QR code, the exercise record it makes, results and rankings, qualifiers advancing
into the next round, certificates, and the event's life cycle."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sportsman.activity.models import ActivityRecord, Source
from sportsman.core.errors import DomainError
from sportsman.core.events import dispatch
from sportsman.core.models import AuditEntry, DomainEvent
from sportsman.events import certificates, services
from sportsman.events.models import Event, EventStatus, Registration, RegStatus
from sportsman.events.tests.factories import make_event
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db


def pdf_characters(pdf: bytes) -> set[str]:
    """The characters the embedded fonts map back to (ToUnicode ``bfchar``/``bfrange``)."""
    out = set()
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", pdf, re.S):
        for hex_text in re.findall(rb"<[0-9a-fA-F]+>\s*<([0-9a-fA-F]+)>", block):
            out.add(bytes.fromhex(hex_text.decode()).decode("utf-16-be", errors="ignore"))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", pdf, re.S):
        for lo, hi, first in re.findall(
                rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            out.update(chr(int(first, 16) + i) for i in range(int(hi, 16) - int(lo, 16) + 1))
    return out


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def test_a_scan_checks_in_once_and_becomes_a_verified_session(tree):
    event = make_event(tree.k1, starts_in_days=-0.2, hours=2)  # scanned late: ended already
    event.registration_closes_at = event.starts_at
    event.save()
    reg = Registration.objects.create(event=event, user=tree.resident)

    done = services.check_in(actor=tree.town_admin, code=f"SPE:{reg.code}", event_id=event.pk)

    assert done.status == RegStatus.CHECKED_IN
    assert DomainEvent.objects.filter(name="events.attended").count() == 1
    assert AuditEntry.objects.filter(action="event.check_in").exists()
    assert _code(lambda: services.check_in(actor=tree.town_admin, code=reg.code)) \
        == "already_checked_in"
    dispatch()
    dispatch()  # a replay records nothing more
    record = ActivityRecord.objects.get(user=tree.resident)
    assert (record.source, record.source_key, record.is_verified) == (
        Source.EVENT, f"event:{reg.pk}", True)
    assert record.started_at == event.starts_at
    assert record.ended_at == event.starts_at + dt.timedelta(hours=2)


def test_staff_outside_the_region_cannot_check_in_and_the_code_looks_missing(tree):
    event = make_event(tree.k1)
    reg = Registration.objects.create(event=event, user=tree.resident)

    assert _code(lambda: services.check_in(actor=tree.sibling_town_admin, code=reg.code)) \
        == "registration_not_found"
    assert _code(lambda: services.check_in(actor=tree.town_admin, code=reg.code,
                                           event_id=event.pk + 1)) == "wrong_event"
    assert Registration.objects.get(pk=reg.pk).status == RegStatus.REGISTERED


def test_a_waitlisted_registration_cannot_be_checked_in(tree):
    event = make_event(tree.k1)
    reg = Registration.objects.create(event=event, user=tree.resident,
                                      status=RegStatus.WAITLISTED)

    assert _code(lambda: services.check_in(actor=tree.town_admin, code=reg.code)) \
        == "not_checkable"


def _checked_in(event, n, tree):
    regs = []
    for _ in range(n):
        regs.append(Registration.objects.create(event=event, user=tree.user(),
                                                status=RegStatus.CHECKED_IN))
    Event.objects.filter(pk=event.pk).update(registered=n)
    return regs


def test_results_rank_competition_style_in_the_events_order(tree):
    event = make_event(tree.k1, result_order="lower")
    a, b, c = _checked_in(event, 3, tree)

    services.enter_results(actor=tree.town_admin, event_id=event.pk, results=[
        {"registration_id": a.pk, "score": 61.5}, {"registration_id": b.pk, "score": 58.0},
        {"registration_id": c.pk, "score": 61.5}])

    ranks = dict(Registration.objects.values_list("pk", "rank"))
    assert (ranks[b.pk], ranks[a.pk], ranks[c.pk]) == (1, 2, 2)


def test_results_for_a_registration_not_checked_in_are_refused_as_a_whole(tree):
    event = make_event(tree.k1)
    (a,) = _checked_in(event, 1, tree)
    absent = Registration.objects.create(event=event, user=tree.user())

    assert _code(lambda: services.enter_results(actor=tree.town_admin, event_id=event.pk,
                                                results=[{"registration_id": a.pk, "score": 1},
                                                         {"registration_id": absent.pk,
                                                          "score": 2}])) == "bad_results"
    assert Registration.objects.get(pk=a.pk).score is None


def test_qualifiers_of_a_town_round_advance_once_into_the_district_round(tree):
    final = make_event(tree.d1, title="南湖区决赛", capacity=2, qualifiers_only=True)
    heat = make_event(tree.t1, title="新嘉街道预赛", parent=final)
    a, b, c = _checked_in(heat, 3, tree)
    services.enter_results(actor=tree.town_admin, event_id=heat.pk, results=[
        {"registration_id": r.pk, "score": s} for r, s in ((a, 9), (b, 8), (c, 7))])

    advanced = services.mark_qualifiers(actor=tree.town_admin, event_id=heat.pk,
                                        registration_ids=[a.pk, b.pk])
    again = services.mark_qualifiers(actor=tree.town_admin, event_id=heat.pk,
                                     registration_ids=[a.pk, b.pk])

    assert [r.user_id for r in advanced] == [a.user_id, b.user_id] and again == []
    assert Event.objects.get(pk=final.pk).registered == 2
    assert Registration.objects.get(advanced_from=a).event_id == final.pk
    assert Notification.objects.filter(user=a.user, category="event").exists() is False  # after commit
    assert _code(lambda: services.mark_qualifiers(actor=tree.town_admin, event_id=heat.pk,
                                                  registration_ids=[c.pk])) == "next_round_full"
    assert not Registration.objects.filter(advanced_from=c).exists()


def test_a_certificate_is_a_pdf_in_the_cjk_font_once_taken_part(tree):
    event = make_event(tree.k1, title="嘉兴市第五届全民运动会")
    reg = Registration.objects.create(event=event, user=tree.user(nickname="王小明"),
                                      status=RegStatus.CHECKED_IN, rank=1, score=98)

    pdf = certificates.pdf(reg, uncompressed=True)

    assert pdf.startswith(b"%PDF-")
    assert re.search(rb"/BaseFont\s*/\w+\+Noto-?(Sans|Serif)-?CJK", pdf)
    assert set("王小明嘉兴市") <= pdf_characters(pdf)
    assert "王小明" in certificates.html(reg) and "嘉兴市第五届全民运动会" in certificates.html(reg)
    pending = Registration.objects.create(event=event, user=tree.user())
    assert _code(lambda: certificates.pdf(pending)) == "no_certificate"


def test_life_cycle_follows_the_transition_table_and_is_audited(tree):
    event = services.create_event(
        actor=tree.town_admin, region_id=tree.t1.pk, title="新嘉街道广场舞比赛",
        starts_at=dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC),
        registration_opens_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        registration_closes_at=dt.datetime(2027, 2, 28, tzinfo=dt.UTC), capacity=30)
    assert (event.level, event.status, event.organiser_name) == ("town", "draft", "新嘉街道")

    services.file_event(actor=tree.town_admin, event_id=event.pk)
    services.publish_event(actor=tree.town_admin, event_id=event.pk)
    services.cancel_event(actor=tree.town_admin, event_id=event.pk, reason="天气")

    assert Event.objects.get(pk=event.pk).status == EventStatus.CANCELLED
    assert _code(lambda: services.publish_event(actor=tree.town_admin, event_id=event.pk)) \
        == "invalid_transition"
    assert list(AuditEntry.objects.filter(object_id=str(event.pk)).order_by("id")
                .values_list("action", flat=True)) == [
        "event.create", "event.file", "event.publish", "event.cancel"]


def test_creating_with_bad_values_writes_nothing(tree):
    base = {"title": "x", "starts_at": dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC),
            "ends_at": dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC),
            "registration_opens_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "registration_closes_at": dt.datetime(2027, 2, 28, tzinfo=dt.UTC), "capacity": 5}

    assert _code(lambda: services.create_event(actor=tree.town_admin, region_id=tree.t1.pk,
                                               **base)) == "invalid"
    assert _code(lambda: services.create_event(actor=tree.town_admin, region_id=tree.t1.pk,
                                               colour="red", **base)) == "unknown_field"
    assert _code(lambda: services.create_event(actor=tree.sibling_town_admin,
                                               region_id=tree.t1.pk, **base)) == "forbidden"
    assert not Event.objects.exists()
