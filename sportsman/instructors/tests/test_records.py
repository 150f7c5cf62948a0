"""Session records: exactly once, attendance, the verified exercise record through the domain
event (once, even replayed), the instructor's counters, rating once, and the exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from sportsman.activity.models import ActivityRecord
from sportsman.core.events import dispatch
from sportsman.instructors import booking, exports, records
from sportsman.instructors.models import GuidanceBooking, Instructor, SessionPhoto
from sportsman.instructors.tests.factories import make_instructor
from sportsman.instructors.tests.test_booking import DAY, NOW, at, code

pytestmark = pytest.mark.django_db

AFTER = at(DAY, 10, 5)


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _group(tree, teacher, people=3):
    first = booking.book(actor=tree.resident, instructor_id=teacher.pk, kind="group",
                         group_size=4, sport="badminton", starts_at=at(DAY, 9),
                         ends_at=at(DAY, 10), now=NOW)
    others = [tree.user(home_community=tree.k2) for _ in range(people - 1)]
    for u in others:
        booking.book(actor=u, instructor_id=teacher.pk, session_id=first.session.pk, now=NOW)
    booking.confirm(actor=teacher.user, session_id=first.session.pk)
    return first.session, [tree.resident, *others]


def test_recording_marks_attendance_counts_service_and_makes_verified_records_once(
        tree, django_capture_on_commit_callbacks):
    teacher = make_instructor(tree)
    session, people = _group(tree, teacher)
    came = [people[0].pk, people[1].pk]

    with django_capture_on_commit_callbacks(execute=False):
        made = records.record_session(actor=teacher.user, session_id=session.pk,
                                      content="握拍与发高远球", attended=came, notes="注意热身",
                                      photos=[_photo()], now=AFTER)
    assert (made.minutes, made.attendees) == (60, 2)
    assert SessionPhoto.objects.filter(record=made).count() == 1
    statuses = dict(GuidanceBooking.objects.filter(session=session)
                    .values_list("user_id", "status"))
    assert statuses == {people[0].pk: "attended", people[1].pk: "attended",
                        people[2].pk: "absent"}
    teacher.refresh_from_db()
    assert (teacher.sessions, teacher.service_minutes) == (1, 60)

    dispatch()
    dispatch()  # a replay changes nothing
    rows = ActivityRecord.objects.filter(source="instructor")
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(came)
    assert all(r.is_verified for r in rows)
    assert {r.source_key for r in rows} == {f"instructor:{session.pk}:{u}" for u in came}

    # a second save (a retry) is refused and changes nothing
    assert code(lambda: records.record_session(actor=teacher.user, session_id=session.pk,
                                               content="再记一次", attended=came,
                                               now=AFTER)) == "session_already_recorded"
    dispatch()
    teacher.refresh_from_db()
    assert (teacher.sessions, teacher.service_minutes) == (1, 60)
    assert ActivityRecord.objects.filter(source="instructor").count() == 2


def test_a_session_is_recorded_only_by_its_instructor_after_it_began(tree):
    teacher = make_instructor(tree)
    session, people = _group(tree, teacher, people=1)
    assert code(lambda: records.record_session(actor=teacher.user, session_id=session.pk,
                                               content="x", attended=[people[0].pk],
                                               now=NOW)) == "session_not_started"
    assert code(lambda: records.record_session(actor=tree.user(), session_id=session.pk,
                                               content="x", attended=[], now=AFTER)) \
        == "not_an_instructor"
    assert code(lambda: records.record_session(actor=teacher.user, session_id=session.pk,
                                               content="x", attended=[tree.user().pk],
                                               now=AFTER)) == "not_booked"
    assert code(lambda: records.record_session(actor=teacher.user, session_id=session.pk,
                                               content="x", attended=[],
                                               photos=[b"not a photo"], now=AFTER)) \
        == "photo_invalid"
    assert not hasattr(Instructor.objects.get(pk=teacher.pk), "record")


def test_residents_who_came_rate_once(tree):
    teacher = make_instructor(tree)
    session, people = _group(tree, teacher, people=2)
    records.record_session(actor=teacher.user, session_id=session.pk, content="步法",
                           attended=[people[0].pk], now=AFTER)
    mine = GuidanceBooking.objects.get(session=session, user=people[0])
    absent = GuidanceBooking.objects.get(session=session, user=people[1])

    records.rate(actor=people[0], booking_id=mine.pk, stars=4)
    assert code(lambda: records.rate(actor=people[0], booking_id=mine.pk, stars=5)) \
        == "already_rated"
    assert code(lambda: records.rate(actor=people[1], booking_id=absent.pk, stars=5)) \
        == "not_attended"
    assert code(lambda: records.rate(actor=people[1], booking_id=mine.pk, stars=5)) \
        == "guidance_booking_not_found"
    teacher.refresh_from_db()
    assert (teacher.rating_sum, teacher.rating_count) == (4, 1)


def test_guidance_records_export_to_xlsx_and_pdf(tree):
    from openpyxl import load_workbook

    from sportsman.events.tests.test_checkin_results import pdf_characters

    teacher = make_instructor(tree, name="王指导员")
    session, people = _group(tree, teacher, people=2)
    session.place = "花园社区羽毛球馆"
    session.save(update_fields=["place"])
    records.record_session(actor=teacher.user, session_id=session.pk, content="握拍发球",
                           attended=[p.pk for p in people], now=AFTER)

    book = load_workbook(io.BytesIO(exports.workbook(exports.of_instructor(teacher))))
    sheet = book.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2
    row = values[1]
    assert row[0] == dt.datetime(2026, 6, 2) and row[1] == "09:00–10:00"
    assert row[2:8] == ["王指导员", "花园社区羽毛球馆", "羽毛球", "握拍发球", 2, 60]
    assert exports.of_instructor(teacher, year=2025).count() == 0

    pdf = exports.pdf(exports.of_instructor(teacher), title="王指导员指导记录", uncompressed=True)
    assert pdf.startswith(b"%PDF-")
    assert set("王指导员花园社区羽毛球馆握拍发球") <= pdf_characters(pdf)


def test_a_years_records_follow_local_dates_at_the_turn_of_the_year(tree):
    """23:30 on 31 December is still that year locally (15:30 UTC); 00:30 on 1 January is the
    new year locally though still the old one in UTC."""
    from sportsman.instructors.models import GuidanceSession, SessionRecord
    from sportsman.instructors.registry import zone

    teacher = make_instructor(tree)
    for at_ in (dt.datetime(2026, 12, 31, 23, 30, tzinfo=zone()),
                dt.datetime(2027, 1, 1, 0, 30, tzinfo=zone())):
        session = GuidanceSession.objects.create(instructor=teacher, starts_at=at_,
                                                 ends_at=at_ + dt.timedelta(minutes=45),
                                                 status="recorded", taken=1)
        SessionRecord.objects.create(session=session, content=f"{at_:%m%d}", minutes=45)
    assert [s.record.content for s in exports.of_instructor(teacher, year=2026)] == ["1231"]
    assert [s.record.content for s in exports.of_instructor(teacher, year=2027)] == ["0101"]
    from sportsman.instructors.registry import promotion_progress

    years = {y.year: y.sessions for y in promotion_progress(
        teacher, today=dt.date(2027, 1, 1)).years}
    assert years == {2026: 1, 2027: 1}
