"""The demo city's supervision tasks: from the city to the districts and from 南湖区 to its
towns, some answered, one accepted and closed, one overdue on both cockpits."""

from __future__ import annotations

import pytest

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.models import SupervisionTask, TaskAssignment
from sportsman.cockpit.tests.scope_cases_supervision import private_media  # noqa: F401
from sportsman.core import demo_city

pytestmark = pytest.mark.django_db


def test_the_demo_city_has_supervision_tasks_in_every_state():
    city = demo_city.generate(scale="small", seed=3, progress=False)

    assert city.made["supervision_tasks"] == 5
    by_title = {t.title: t for t in SupervisionTask.objects.select_related("issuer_region")}
    assert by_title["清理逾期未办结的群众上报问题"].issuer_region.name == "嘉兴市"
    assert by_title["健身路径器材安全排查"].issuer_region.name == "南湖区"
    assert by_title["全民健身设施数据核查"].status == "closed"
    statuses = {(a.task.title, a.region.name): a.status
                for a in TaskAssignment.objects.select_related("task", "region")}
    assert statuses[("清理逾期未办结的群众上报问题", "秀洲区")] == "submitted"
    assert statuses[("提升学校体育场地开放利用率", "秀洲区")] == "accepted"
    assert statuses[("健身路径器材安全排查", "东栅街道")] == "returned"
    nanhu, jx = city.regions["330402000000"], city.regions["330400000000"]
    assert sv.panel(nanhu).assigned.overdue == 1
    assert [x.title for x in sv.panel(jx).issued.overdue_items] == ["提升学校体育场地开放利用率"]
    assert sv.panel(nanhu).issued.open == 2
    late = TaskAssignment.objects.get(task__title="提升学校体育场地开放利用率", region=nanhu)
    assert sv.is_overdue(late)
    assert TaskAssignment.objects.filter(evidence__isnull=False).distinct().count() == 3
