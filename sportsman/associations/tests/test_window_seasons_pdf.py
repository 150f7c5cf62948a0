"""Annual inspection seasons (opened once per region and year, every association due told in
batches, overdue ones flagged) and the decision document (a PDF in the CJK font with the
association, the kind, the decision, the receipt number and the date)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import TestCase
from django.utils import timezone

from sportsman.associations import documents, window
from sportsman.associations.models import InspectionSeason
from sportsman.associations.tests.fixtures_window import annual_data, make_association, submitted
from sportsman.core.errors import DomainError
from sportsman.events.tests.test_checkin_results import pdf_characters
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def test_a_season_tells_every_association_due_and_flags_the_overdue(tree):
    from django_tasks_db.models import DBTaskResult

    year = timezone.localdate().year - 1
    due = dt.date(year + 1, 3, 31)
    ours = [make_association(tree, name=f"新嘉协会{i}") for i in range(3)]
    team, _captain = make_association(tree, name="花园晨练队", legal_status="grassroots")
    away, _other = make_association(tree, tree.k4, name="新塍体育协会")
    assert _code(lambda: window.open_season(actor=tree.town_admin, region_id=tree.t1.pk,
                                            year=year + 1, due_on=due)) == "year_not_over"
    assert _code(lambda: window.open_season(actor=tree.town_admin, region_id=tree.t1.pk,
                                            year=year, due_on=dt.date(year, 12, 1))) == \
        "invalid_due_date"
    assert _code(lambda: window.open_season(actor=tree.sibling_town_admin,
                                            region_id=tree.t1.pk, year=year,
                                            due_on=due)) == "not_found"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(window, "SEASON_BATCH", 2)  # two notification batches
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            season = window.open_season(actor=tree.town_admin, region_id=tree.t1.pk, year=year,
                                        due_on=due)
        for callback in callbacks:
            callback()
        assert DBTaskResult.objects.filter(
            task_path="sportsman.associations.tasks.notify_season").count() == 1
        assert window.notify_season_now(season.pk) == 3
        assert window.notify_season_now(season.pk) == 3  # a retry tells nobody twice
    told = set(Notification.objects.filter(data__season_id=season.pk)
               .values_list("user_id", flat=True))
    assert told == {m.pk for _a, m in ours}
    assert InspectionSeason.objects.get(pk=season.pk).notified == 3
    assert _code(lambda: window.open_season(actor=tree.district_admin, region_id=tree.t1.pk,
                                            year=year, due_on=due)) == "season_exists"
    assert window.annual_due(tree.k2, year) == due
    assert window.annual_due(tree.k4, year) == dt.date(year + 1, 3, 31)  # the default

    submitted(ours[0][0], ours[0][1], data=annual_data(year=year))
    with time_machine.travel(dt.datetime(year + 1, 3, 31, 23, 30, tzinfo=LOCAL), tick=False):
        rows = window.season_rows(season)
        assert not any(r["overdue"] for r in rows)
    with time_machine.travel(dt.datetime(year + 1, 4, 1, 0, 30, tzinfo=LOCAL), tick=False):
        rows = window.season_rows(season)
        flagged = {r["association"].pk for r in rows if r["overdue"]}
        assert flagged == {ours[1][0].pk, ours[2][0].pk}
        assert [r["association"].pk for r in window.season_rows(season, overdue_only=True)] \
            and rows[0]["overdue"]
    assert team.pk not in {r["association"].pk for r in rows}
    assert away.pk not in {r["association"].pk for r in rows}


def test_the_decision_document_carries_the_chinese_text(tree):
    assoc, manager = make_association(tree, name="嘉兴市南湖区老年人体育协会")
    app = submitted(assoc, manager)
    assert _code(lambda: documents.result_pdf(app)) == "no_result_yet"
    app = window.transition_application(actor=tree.town_admin, application_id=app.pk,
                                        action="accept")
    app = window.transition_application(actor=tree.district_admin, application_id=app.pk,
                                        action="approve", result="basic")
    pdf = documents.result_pdf(app, uncompressed=True)
    assert pdf.startswith(b"%PDF-")
    assert re.search(rb"/BaseFont\s*/\w+\+Noto-?(Sans|Serif)-?CJK", pdf)
    day = timezone.localtime(app.decided_at).strftime("%Y-%m-%d")
    text = pdf_characters(pdf)
    assert set(assoc.name) <= text
    assert set("年度检查准予基本合格") <= text
    assert set(app.receipt_no) | set(day) <= text


@pytest.mark.parametrize(("clock", "opens"), [
    (dt.datetime(2026, 12, 31, 23, 30, tzinfo=LOCAL), False),  # the year is not over locally
    (dt.datetime(2027, 1, 1, 0, 30, tzinfo=LOCAL), True),  # over locally, not yet in UTC
])
def test_a_season_opens_when_the_year_is_over_in_local_time(tree, clock, opens):
    make_association(tree)
    with time_machine.travel(clock, tick=False):
        if not opens:
            assert _code(lambda: window.open_season(
                actor=tree.town_admin, region_id=tree.t1.pk, year=2026,
                due_on=dt.date(2027, 3, 31))) == "year_not_over"
            assert not InspectionSeason.objects.exists()
            return
        season = window.open_season(actor=tree.town_admin, region_id=tree.t1.pk, year=2026,
                                    due_on=dt.date(2027, 3, 31))
        assert window.annual_due(tree.k2, 2026) == season.due_on
        assert window.notify_season_now(season.pk) == 1
        rows = window.season_rows(season)
        assert [r["overdue"] for r in rows] == [False]
