"""Supervision task pages, through the Django test client: the list with its two tabs, filters,
overdue badges, export and print layout; issuing (``?to=`` preselects a unit, "all"); the task
page with the review actions and cancelling; the unit's page with progress, evidence and
submission — and the same refusals as the services, shown on the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.models import SupervisionTask, TaskEvidence, TaskReport
from sportsman.cockpit.tests.scope_cases_supervision import (
    PDF,
    assignment_of,
    issue,
    jpeg,
    private_media,  # noqa: F401
)
from tests.scope import xlsx_text

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _client(user, region=None) -> Client:
    client = Client()
    client.force_login(user)
    if region is not None:
        r = client.post(reverse("console:switch_region"), {"region": region.pk})
        assert r.status_code == 302
    return client


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_nav_shows_supervision_to_administrators_only(tree):
    page = _page(_client(tree.town_admin).get(reverse("console:home")))
    assert reverse("cockpit:tasks") in page
    venue = _page(_client(tree.venue_manager).get(reverse("console:home")))
    assert reverse("cockpit:tasks") not in venue
    assert _client(tree.venue_manager).get(reverse("cockpit:tasks")).status_code == 403
    anonymous = Client().get(reverse("cockpit:tasks"))
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]


def test_the_list_has_two_tabs_filters_and_overdue_badges(tree):
    late = issue(tree, targets=[tree.t1, tree.t2], title="已逾期的督办")
    SupervisionTask.objects.filter(pk=late.pk).update(deadline=TODAY - dt.timedelta(days=2))
    fresh = issue(tree, title="新的督办")
    city = issue(tree, by=tree.city_admin, issuer=tree.city, targets=[tree.d1], title="市级督办")
    client = _client(tree.district_admin)

    issued = _page(client.get(reverse("cockpit:tasks")))
    assert 'id="tab-issued"' in issued and 'id="tab-assigned"' in issued
    assert f'id="task-{late.pk}"' in issued and f'id="task-{fresh.pk}"' in issued
    assert f'id="task-{city.pk}"' not in issued
    row = issued.split(f'id="task-{late.pk}"')[1].split("</tr>")[0]
    assert 'class="badge"' in row
    assert 'id="new-task"' in issued and 'class="print-only"' in issued

    assigned = _page(client.get(reverse("cockpit:tasks") + "?tab=assigned"))
    assert f'id="task-{city.pk}"' in assigned and f'id="task-{late.pk}"' not in assigned
    assert f'id="open-assignment-{assignment_of(city, tree.d1).pk}"' in assigned

    bogus = _page(client.get(reverse("cockpit:tasks") + "?tab=assigned&status=bogus"))
    assert f'id="task-{city.pk}"' in bogus  # a bad filter is dropped, the tab kept

    only_late = _page(client.get(reverse("cockpit:tasks") + "?tab=issued&overdue=yes"))
    assert f'id="task-{late.pk}"' in only_late and f'id="task-{fresh.pk}"' not in only_late


def test_the_list_pages_older_tasks(tree, monkeypatch):
    from sportsman.cockpit.views import supervision as pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    made = [issue(tree, title=f"督办{i}") for i in range(3)]
    client = _client(tree.district_admin)
    first = _page(client.get(reverse("cockpit:tasks") + "?status=open"))
    assert f'id="task-{made[2].pk}"' in first and f'id="task-{made[0].pk}"' not in first
    link = re.search(r'id="next-page" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "status=open" in link
    second = _page(client.get(reverse("cockpit:tasks") + "?" + link))
    assert f'id="task-{made[0].pk}"' in second and f'id="task-{made[2].pk}"' not in second
    assert 'id="next-page"' not in second


def test_a_sibling_town_sees_nothing_of_t1s_task(tree):
    task = issue(tree)
    a = assignment_of(task, tree.t1)
    client = _client(tree.sibling_town_admin)
    page = _page(client.get(reverse("cockpit:tasks") + "?tab=assigned"))
    assert f'id="task-{task.pk}"' not in page
    assert client.get(reverse("cockpit:task", args=[task.pk])).status_code == 404
    assert client.get(reverse("cockpit:assignment", args=[a.pk])).status_code == 404
    r = client.post(reverse("cockpit:assignment_submit", args=[a.pk]), {"text": "冒充"})
    assert r.status_code == 404
    r = client.post(reverse("cockpit:assignment_review", args=[a.pk]), {"decision": "accept"})
    assert r.status_code == 404
    a.refresh_from_db()
    assert a.status == "issued"


def test_the_export_holds_the_filtered_list(tree):
    issue(tree, targets=[tree.t1, tree.t2], title="导出的督办")
    r = _client(tree.district_admin).get(reverse("cockpit:tasks_export") + "?tab=issued")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    text = xlsx_text(r)
    assert "导出的督办".encode() in text and "东栅街道".encode() in text
    empty = _client(tree.town_admin).get(reverse("cockpit:tasks_export") + "?tab=issued")
    assert "导出的督办".encode() not in xlsx_text(empty)


def test_issuing_from_the_form_with_a_preselected_unit(tree):
    client = _client(tree.city_admin)
    form = _page(client.get(reverse("cockpit:task_new") + f"?to={tree.d1.code}"))
    assert re.search(rf'value="{tree.d1.code}"[^>]*checked', form)
    assert not re.search(rf'value="{tree.d2.code}"[^>]*checked', form)
    assert 'id="id_title"' in form and 'id="id_deadline"' in form and 'id="issue-task"' in form

    r = client.post(reverse("cockpit:task_new") + f"?to={tree.d1.code}", {
        "title": "提升学校场地开放利用率", "category": "school_grounds", "body": "每周报告",
        "deadline": (TODAY + dt.timedelta(days=20)).isoformat(), "targets": [tree.d1.code]})

    task = SupervisionTask.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("cockpit:task", args=[task.pk])
    assert task.issuer_region == tree.city
    assert list(task.assignments.values_list("region_id", flat=True)) == [tree.d1.pk]


def test_all_units_and_the_to_link_from_a_districts_own_console(tree):
    # The console stands on d1 (drilled down): ?to=d1 makes the city the issuer
    client = _client(tree.city_admin, region=tree.d1)
    page = _page(client.get(reverse("cockpit:task_new") + f"?to={tree.d1.code}"))
    assert "嘉兴市" in page
    client.post(reverse("cockpit:task_new") + f"?to={tree.d1.code}", {
        "title": "市对区", "category": "events", "deadline": TODAY.isoformat(),
        "targets": [tree.d1.code]})
    assert SupervisionTask.objects.get(title="市对区").issuer_region == tree.city
    # Without ?to the district's own towns are offered; "all" takes every one
    client.post(reverse("cockpit:task_new"), {
        "title": "区对街道", "category": "participation",
        "deadline": TODAY.isoformat(), "all_targets": "on"})
    task = SupervisionTask.objects.get(title="区对街道")
    assert task.issuer_region == tree.d1
    assert set(task.assignments.values_list("region_id", flat=True)) == {tree.t1.pk, tree.t2.pk}


def test_a_to_link_to_ones_own_region_issues_to_its_units(tree):
    # d1's administrator on d1's cockpit: the city is not theirs, so d1 issues to its towns
    page = _page(_client(tree.district_admin).get(reverse("cockpit:task_new")
                                                  + f"?to={tree.d1.code}"))
    assert "南湖区" in page and f'value="{tree.t1.code}"' in page
    assert f'value="{tree.d1.code}"' not in page
    # a code outside one's regions preselects nothing
    other = _page(_client(tree.district_admin).get(reverse("cockpit:task_new")
                                                   + f"?to={tree.t3.code}"))
    assert f'value="{tree.t3.code}"' not in other and "checked" not in other.split(
        'id="targets"')[1].split("</fieldset>")[0]


def test_a_bad_form_shows_the_refusal_and_writes_nothing(tree):
    client = _client(tree.district_admin)
    r = client.post(reverse("cockpit:task_new"), {
        "title": "没有单位", "category": "events",
        "deadline": (TODAY - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 400
    page = r.content.decode()
    assert 'id="id_targets_error"' in page and 'id="id_deadline_error"' in page
    assert "没有单位" in page  # what was typed stays
    assert not SupervisionTask.objects.exists()
    foreign = client.post(reverse("cockpit:task_new"), {
        "title": "越权", "category": "events", "deadline": TODAY.isoformat(),
        "targets": [tree.t3.code]})
    assert foreign.status_code == 400 and not SupervisionTask.objects.exists()


def test_the_unit_reports_hands_in_and_submits_on_its_page(tree):
    task = issue(tree)
    a = assignment_of(task, tree.t1)
    client = _client(tree.town_admin)
    url = reverse("cockpit:assignment", args=[a.pk])
    page = _page(client.get(url))
    for element in ('id="progress-form"', 'id="id_progress"', 'id="id_text"', 'id="id_files"',
                    'id="evidence-form"', 'id="id_evidence_files"', 'id="submit-form"',
                    'id="id_submit_text"', 'id="id_submit_files"', 'id="submit-assignment"'):
        assert element in page
    assert 'id="review-' not in page

    r = client.post(reverse("cockpit:assignment_progress", args=[a.pk]), {
        "progress": "60", "text": "已清理 6 条",
        "files": [SimpleUploadedFile("现场.jpg", jpeg("Cam"), "image/jpeg")]})
    assert r.status_code == 302 and r["Location"] == url
    a.refresh_from_db()
    assert (a.status, a.progress) == ("in_progress", 60)
    assert TaskEvidence.objects.get().report.kind == "progress"

    bad = client.post(reverse("cockpit:assignment_progress", args=[a.pk]), {
        "progress": "70", "text": "再报",
        "files": [SimpleUploadedFile("x.txt", b"plain text", "text/plain")]})
    assert bad.status_code == 400 and "再报" in bad.content.decode()
    assert TaskReport.objects.count() == 1
    wrong = client.post(reverse("cockpit:assignment_progress", args=[a.pk]),
                        {"progress": "170", "text": "x"})
    assert wrong.status_code == 400 and 'id="id_progress_error"' in wrong.content.decode()

    up = client.post(reverse("cockpit:assignment_evidence", args=[a.pk]), {
        "files": [SimpleUploadedFile("台账.pdf", PDF, "application/pdf")]})
    assert up.status_code == 302 and TaskEvidence.objects.count() == 2
    nofile = client.post(reverse("cockpit:assignment_evidence", args=[a.pk]), {})
    assert nofile.status_code == 400 and 'id="evidence-error"' in nofile.content.decode()

    done = client.post(reverse("cockpit:assignment_submit", args=[a.pk]), {"text": "全部清零"})
    assert done.status_code == 302
    a.refresh_from_db()
    assert a.status == "submitted"
    after = _page(client.get(url))
    assert 'id="submit-form"' not in after and "全部清零" in after
    evidence = TaskEvidence.objects.order_by("id").first()
    assert f"/api/v1/cockpit/evidence/{evidence.pk}" in after
    assert client.get(f"/api/v1/cockpit/evidence/{evidence.pk}").status_code == 200


def test_the_issuer_returns_and_accepts_from_the_task_page(tree):
    task = issue(tree, targets=[tree.t1, tree.t2])
    a = assignment_of(task, tree.t1)
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="完成")
    client = _client(tree.district_admin)
    task_url = reverse("cockpit:task", args=[task.pk])
    page = _page(client.get(task_url))
    assert f'id="review-{a.pk}"' in page and f'id="accept-{a.pk}"' in page
    assert f'id="id_comment_{a.pk}"' in page and 'id="cancel-form"' in page
    review = reverse("cockpit:assignment_review", args=[a.pk])

    empty = client.post(review, {"decision": "return", "comment": "", "next": task_url})
    assert empty.status_code == 302 and empty["Location"] == task_url
    a.refresh_from_db()
    assert a.status == "submitted"
    client.post(review, {"decision": "return", "comment": "请补充照片", "next": task_url})
    a.refresh_from_db()
    assert (a.status, a.last_comment) == ("returned", "请补充照片")
    unit_page = _page(_client(tree.town_admin).get(reverse("cockpit:assignment", args=[a.pk])))
    assert 'id="return-comment"' in unit_page and "请补充照片" in unit_page

    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="已补充")
    r = client.post(review, {"decision": "accept", "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == reverse("cockpit:assignment", args=[a.pk])
    a.refresh_from_db()
    assert a.status == "accepted"
    # the unit itself cannot review: a 403 page, nothing changed
    b = assignment_of(task, tree.t2)
    sv.submit(actor=tree.sibling_town_admin, assignment_id=b.pk, text="完成")
    refused = _client(tree.sibling_town_admin).post(
        reverse("cockpit:assignment_review", args=[b.pk]), {"decision": "accept"})
    assert refused.status_code == 403
    b.refresh_from_db()
    assert b.status == "submitted"


def test_cancelling_from_the_task_page(tree):
    task = issue(tree)
    client = _client(tree.district_admin)
    url = reverse("cockpit:task_cancel", args=[task.pk])
    client.post(url, {"reason": ""})
    task.refresh_from_db()
    assert task.status == "open"
    r = client.post(url, {"reason": "工作调整"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.status == "cancelled"
    page = _page(client.get(reverse("cockpit:task", args=[task.pk])))
    assert "工作调整" in page and 'id="cancel-form"' not in page
    assert _client(tree.town_admin).post(url, {"reason": "x"}).status_code == 403


def test_pages_render_in_chinese_and_english(tree):
    task = issue(tree)
    for lang in ("zh-hans", "en"):
        client = _client(tree.district_admin)
        client.cookies["django_language"] = lang
        for url in (reverse("cockpit:tasks"), reverse("cockpit:task_new"),
                    reverse("cockpit:task", args=[task.pk]),
                    reverse("cockpit:assignment", args=[assignment_of(task, tree.t1).pk])):
            assert client.get(url).status_code == 200
