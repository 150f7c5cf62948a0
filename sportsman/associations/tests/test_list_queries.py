"""The console's and the directory's lists of associations and instructors cost the same number
of queries for two rows as for six: no list reads a row's relations one row at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sportsman.associations import board
from sportsman.associations import evaluation as ev
from sportsman.associations.tests import fixtures_evaluation as fe
from sportsman.associations.tests.fixtures_window import make_association, submitted
from sportsman.instructors.tests.factories import make_instructor

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return c


def _associations(tree: Any, n: int, start: int) -> list[Any]:
    made = []
    for i in range(start, start + n):
        region = (tree.k1, tree.k2)[i % 2]
        manager = tree.user(home_community=region, nickname=f"秘书长{i}")
        made.append(make_association(tree, region, name=f"第{i}篮球协会", manager=manager))
    return made


def _applications(tree: Any, n: int, start: int) -> None:
    for association, manager in _associations(tree, n, start):
        submitted(association, manager)


def _evaluations(tree: Any, n: int, start: int) -> None:
    season = getattr(tree, "_season", None) or fe.make_season(tree)
    tree._season = season
    for i in range(start, start + n):
        manager = tree.user(home_community=tree.k2, nickname=f"会长{i}")
        association = fe.make_association(tree, region=(tree.k1, tree.k2)[i % 2],
                                          name=f"第{i}足球协会", manager=manager)
        ev.start(actor=manager, association_id=association.pk, season_id=season.pk)


def _notices(tree: Any, n: int, start: int) -> None:
    _associations(tree, 1, start + 100)
    for i in range(start, start + n):
        board.publish_notice(actor=tree.town_admin, region_id=tree.t1.pk, kind="training",
                             title=f"通知{i}", body="请按时参加")


def _instructors(tree: Any, n: int, start: int) -> None:
    for i in range(start, start + n):
        make_instructor(tree, (tree.k1, tree.k2)[i % 2], name=f"指导员{i}")


LISTS: list[tuple[str, Callable[[Any, int, int], None], str, str]] = [
    ("association directory", _applications, "associations:directory", ""),
    ("association console", _applications, "associations:console", "town_admin"),
    ("application inbox", _applications, "associations:console_inbox", "town_admin"),
    ("evaluation console", _evaluations, "associations:evaluation_console", "district_admin"),
    ("notices console", _notices, "associations:notices_console", "town_admin"),
    ("instructor console", _instructors, "instructors:console", "town_admin"),
]


def _queries(client: Client, url: str) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as seen:
        page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return len(seen), page.content


@pytest.mark.parametrize(("name", "make", "url_name", "who"), LISTS, ids=[x[0] for x in LISTS])
def test_a_list_costs_the_same_queries_for_two_rows_and_six(tree, name, make, url_name, who):
    client = _client(getattr(tree, who) if who else None)
    url = reverse(url_name)
    make(tree, 2, 0)
    _queries(client, url)  # warm: the session, the scope
    two, small = _queries(client, url)
    make(tree, 4, 2)
    six, large = _queries(client, url)
    assert len(large) > len(small)  # the new rows are on the page
    assert six == two, f"{name}: {two} queries for two rows, {six} for six"
