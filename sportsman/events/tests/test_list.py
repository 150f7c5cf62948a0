"""The events list's lean path: the same answers as the model-and-schema path it replaced (an
oracle built from Event instances, ``event_out``, Ninja's validation and its renderer), a fixed
number of statements per page whatever the filters, and a plan that walks the (start, id) index
instead of sorting every visible event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Q
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.api import api
from sportsman.core.models import Sport
from sportsman.events import selectors
from sportsman.events.api.common import event_out
from sportsman.events.api.schemas import EventItemOut, EventPageOut
from sportsman.events.models import Event
from sportsman.events.tests.factories import make_event
from sportsman.regions.models import subtree_q

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(tree):
    run = Sport.objects.create(slug="list-run", name_zh="跑步", name_en="running",
                               family="endurance")
    swim = Sport.objects.create(slug="list-swim", name_zh="游泳", name_en="swimming",
                                family="endurance")
    made = []
    for i in range(7):
        e = make_event(tree.k1 if i % 2 else tree.k3, title=f"社区赛{i}", starts_in_days=1 + i,
                       sport=run if i % 3 else None, capacity=5 + i)
        made.append(e)
    final = make_event(tree.city, title="市级总决赛", level="city", starts_in_days=9,
                       sport=swim, place="体育中心")
    heat = make_event(tree.t1, title="街道预赛", level="town", starts_in_days=2, parent=final,
                      registered=3, capacity=3)
    # the same start as another event (the id breaks the tie), times with microseconds
    twin = make_event(tree.k1, title="同时开始", starts_in_days=2)
    twin.starts_at = heat.starts_at
    twin.registration_closes_at = heat.registration_closes_at + dt.timedelta(microseconds=123456)
    twin.save()
    past = make_event(tree.d2, title="已结束", level="district", starts_in_days=-3,
                      status="finished")
    make_event(tree.k2, title="已取消", starts_in_days=4, status="cancelled",
               cancel_reason="天气")
    make_event(tree.k1, title="草稿", status="draft")
    make_event(tree.k1, title="待审", status="pending")
    make_event(tree.city, title="线上挑战", level="city", mode="online",
               challenge_metric="minutes", starts_in_days=-1, hours=24 * 30)
    return {"run": run, "past": past, "heat": heat, "final": final}


def _oracle(query: Q, limit: int, statuses=("published", "cancelled", "finished")) -> bytes:
    """What the list answered before the lean path: model instances (region and sport joined),
    ``event_out``'s fields of the item schema, validated and rendered by Ninja."""
    qs = Event.objects.filter(query).select_related("region", "sport", "facility")
    if statuses is not None:
        qs = qs.filter(status__in=statuses)
    rows = list(qs.order_by("starts_at", "id")[:limit + 1])
    items = [{k: v for k, v in event_out(e).items() if k in EventItemOut.model_fields}
             for e in rows[:limit]]
    cursor = (f"{int(rows[limit - 1].starts_at.timestamp() * 1_000_000)}.{rows[limit - 1].pk}"
              if len(rows) > limit else None)
    page = EventPageOut.model_validate({"items": items, "next_cursor": cursor}).model_dump()
    request = RequestFactory().get("/")
    return api.create_response(request, page, status=200).content


def test_every_page_is_answered_byte_for_byte_as_before(tree, api_client, events):
    now = timezone.now()
    cases = [
        ({}, Q()),
        ({"limit": 3}, Q()),
        ({"limit": 100}, Q()),
        ({"sport": "list-run"}, Q(sport__slug="list-run")),
        ({"level": "community"}, Q(level="community")),
        ({"mode": "online"}, Q(mode="online")),
        ({"region": tree.t1.pk}, subtree_q(tree.t1.path, "region")),
        ({"region": tree.d1.pk, "sport": "list-run"},
         subtree_q(tree.d1.path, "region") & Q(sport__slug="list-run")),
        ({"upcoming": "true"}, Q(ends_at__gt=now)),
        ({"upcoming": "false"}, Q(ends_at__lte=now)),
        ({"sport": "nothing"}, Q(pk__in=[])),
    ]
    for params, query in cases:
        limit = params.get("limit", 20)
        answer = api_client.get("/api/v1/events", params)
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/json; charset=utf-8"
        # "upcoming" moves with the clock: both sides only differ if an event ends in between
        assert answer.content == _oracle(query, limit), params
        assert EventPageOut.model_validate(answer.json())


def test_following_the_cursor_walks_every_event_once_in_order(tree, api_client, events) -> None:
    seen: list[int] = []
    params: dict = {"limit": 2}
    pages = 0
    while True:
        body = api_client.get("/api/v1/events", params).json()
        seen += [e["id"] for e in body["items"]]
        pages += 1
        if not body["next_cursor"]:
            break
        params = {"limit": 2, "cursor": body["next_cursor"]}
    expected = list(Event.objects.filter(status__in=("published", "cancelled", "finished"))
                    .order_by("starts_at", "id").values_list("pk", flat=True))
    assert seen == expected and pages == (len(expected) + 1) // 2
    assert api_client.get("/api/v1/events", {"cursor": "x.y"}).json()["code"] \
        == "invalid_cursor"


def test_the_staff_list_shows_every_status_of_my_regions_only(tree, api_client, events):
    town = api_client.as_user(tree.town_admin)  # 新嘉街道: k1, k2 and the heat in t1
    body = town.get("/api/v1/staff/events", {"limit": 100}).json()
    titles = {e["title"] for e in body["items"]}
    assert {"草稿", "待审", "已取消", "街道预赛"} <= titles
    assert "市级总决赛" not in titles and "已结束" not in titles
    in_scope = subtree_q(tree.t1.path, "region")
    assert town.get("/api/v1/staff/events", {"limit": 4}).content \
        == _oracle(in_scope, 4, statuses=None)
    nobody = api_client.as_user(tree.resident).get("/api/v1/staff/events")
    assert nobody.status_code == 403


@pytest.mark.parametrize(("params", "statements"), [
    ({}, 1),
    ({"limit": 100}, 1),
    ({"sport": "list-run", "level": "community", "mode": "offline", "upcoming": "true"}, 1),
    ({"region": "REGION"}, 2),  # the region's path, then the page
])
def test_a_page_takes_a_fixed_number_of_statements(tree, api_client, events, params,
                                                   statements):
    params = {k: (tree.d1.pk if v == "REGION" else v) for k, v in params.items()}
    first = api_client.get("/api/v1/events", {**params, "limit": 2}).json()
    assert first["next_cursor"]
    for query in (params, {**params, "limit": 2, "cursor": first["next_cursor"]}):
        with CaptureQueriesContext(connection) as queries:
            answer = api_client.get("/api/v1/events", query)
        assert answer.status_code == 200 and answer.json()["items"]
        assert len(queries) == statements, [q["sql"] for q in queries]


def test_the_page_the_resident_sees_takes_one_statement_for_its_events(tree, client, events):
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/events/")
    assert page.status_code == 200 and "社区赛1" in page.content.decode()
    assert sum("events_event" in q["sql"] for q in queries) == 1


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return " | ".join(str(row[-1]) for row in cursor.fetchall())
        # a test table is tiny, where a scan and a sort are cheaper (at 10,000 events the
        # planner walks event_start_id by itself): ask whether an index serves the order
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return " | ".join(row[0] for row in cursor.fetchall())


def _page_sql(**filters) -> str:
    with CaptureQueriesContext(connection) as queries:
        selectors.list_events(limit=20, **filters)
    return queries.captured_queries[-1]["sql"]


@pytest.mark.parametrize("filters", [{}, {"upcoming": False}, {"upcoming": True},
                                     {"mode": "offline"}])
def test_a_page_walks_the_start_index_without_sorting(events, filters):
    plan = _plan(_page_sql(**filters))
    assert "event_start_id" in plan and "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_the_coming_events_page_starts_at_the_first_coming_event(events):
    plan = _plan(_page_sql(upcoming=True))
    assert "event_start_id" in plan and "event_end_start" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort " not in plan, plan
