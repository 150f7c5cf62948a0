"""The audit log: append-only in the database; browsed and exported by city administrators only,
each within their own city."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from sportsman.core import audit
from sportsman.core.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit"


def entry(actor=None, *, action="region.update", region=None, kind=AuditEntry.Kind.WRITE,
          object_type="regions.region", object_id="1", data=None) -> AuditEntry:
    return audit.record(actor=actor, action=action, kind=kind, object_type=object_type,
                        object_id=object_id, region=region, data=data)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- append-only -------------------------------------------------------------------------------

def test_the_database_refuses_to_update_or_delete_audit_entries(tree):
    e = entry(tree.district_admin, region=tree.d1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=e.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=e.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = %s WHERE id = %s", ["forged", e.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
    e.refresh_from_db()
    assert e.action == "region.update"
    assert AuditEntry.objects.count() == 1


def test_saving_an_existing_entry_again_is_refused(tree):
    e = entry(tree.district_admin, region=tree.d1)
    e.action = "forged"
    with pytest.raises(ValueError, match="append-only"):
        e.save()


def test_the_api_has_no_way_to_change_the_log(tree, api_client):
    client = api_client.as_user(tree.city_admin)
    e = entry(tree.district_admin, region=tree.d1)
    for method in ("post", "put", "patch", "delete"):
        assert client.json(method, URL, {}).status_code == 405
        assert client.json(method, f"{URL}/{e.pk}", {}).status_code in (404, 405)


# --- who may browse ----------------------------------------------------------------------------

def test_district_admin_resident_and_anonymous_may_not_browse(tree, api_client):
    entry(tree.district_admin, region=tree.d1)
    for user in (tree.district_admin, tree.town_admin, tree.community_admin, tree.venue_manager,
                 tree.resident):
        response = api_client.as_user(user).get(URL)
        assert response.status_code == 403, user
        assert response.json()["code"] == "forbidden"
    assert api_client.get(URL).status_code == 401
    assert api_client.as_user(tree.district_admin).get(f"{URL}/export.xlsx").status_code == 403


def test_city_admin_sees_their_city_and_another_city_admin_sees_none_of_it(tree, api_client):
    ours = [entry(tree.district_admin, region=tree.d1),
            entry(tree.community_admin, region=tree.k1),
            entry(tree.city_admin, region=tree.city)]
    theirs = entry(tree.other_city_admin, region=tree.other_district)

    seen = ids(api_client.as_user(tree.city_admin).get(URL))
    assert sorted(seen) == sorted(e.pk for e in ours)
    assert ids(api_client.as_user(tree.other_city_admin).get(URL)) == [theirs.pk]
    # Asking for the other city's region explicitly: not found, as if it did not exist.
    response = api_client.as_user(tree.other_city_admin).get(URL, {"region": tree.d1.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_entries_without_a_region_are_shown_only_to_a_scope_covering_every_top_region(
        tree, api_client):
    from sportsman.regions.models import RoleAssignment

    platform = entry(None, action="account.deleted", object_type="accounts.user")
    local = entry(tree.district_admin, region=tree.d1)
    # Two cities side by side: neither city's administrator sees platform-wide entries.
    assert ids(api_client.as_user(tree.city_admin).get(URL)) == [local.pk]
    assert ids(api_client.as_user(tree.other_city_admin).get(URL)) == []
    # An administrator over every top-level region does.
    RoleAssignment.objects.create(user=tree.city_admin, role="city_admin", region=tree.other_city)
    assert sorted(ids(api_client.as_user(tree.city_admin).get(URL))) == sorted(
        [platform.pk, local.pk])


# --- filters and paging ------------------------------------------------------------------------

def test_filters_narrow_by_actor_action_kind_object_and_region_subtree(tree, api_client):
    a = entry(tree.district_admin, action="region.update", region=tree.d1)
    b = entry(tree.town_admin, action="role.grant", region=tree.t1, object_type="regions.role")
    c = entry(tree.community_admin, action="view.phone", kind=AuditEntry.Kind.VIEW,
              region=tree.k1, object_type="accounts.user", object_id="42")
    d = entry(tree.sibling_district_admin, action="view.profile", kind=AuditEntry.Kind.VIEW,
              region=tree.k4, object_type="accounts.user")
    client = api_client.as_user(tree.city_admin)

    def query(**params):
        return sorted(ids(client.get(URL, params)))

    assert query(actor_id=tree.town_admin.pk) == [b.pk]
    assert query(action="role.grant") == [b.pk]
    assert query(action="view.*") == sorted([c.pk, d.pk])
    assert query(kind="view") == sorted([c.pk, d.pk])
    assert query(object_type="accounts.user", object_id="42") == [c.pk]
    assert query(region=tree.d1.pk) == sorted([a.pk, b.pk, c.pk])
    assert query(region=tree.t1.pk) == sorted([b.pk, c.pk])
    assert query(region=tree.d2.pk) == [d.pk]
    bad = client.get(URL, {"kind": "nonsense"})
    assert bad.status_code == 400


def test_date_filters_take_whole_local_days(tree, api_client, monkeypatch):
    tz = timezone.get_default_timezone()
    made = {}
    for label, moment in [("before", datetime(2026, 5, 1, 23, 59)),
                          ("first", datetime(2026, 5, 2, 0, 0)),
                          ("last", datetime(2026, 5, 3, 23, 59)),
                          ("after", datetime(2026, 5, 4, 0, 0))]:
        at = timezone.make_aware(moment, tz)
        monkeypatch.setattr(timezone, "now", lambda at=at: at)
        made[label] = entry(tree.district_admin, region=tree.d1).pk
    monkeypatch.undo()
    client = api_client.as_user(tree.city_admin)
    got = ids(client.get(URL, {"date_from": "2026-05-02", "date_to": "2026-05-03"}))
    assert sorted(got) == sorted([made["first"], made["last"]])
    reversed_range = client.get(URL, {"date_from": "2026-05-03", "date_to": "2026-05-02"})
    assert reversed_range.status_code == 400
    assert "date_from" in reversed_range.json()["fields"]


def test_keyset_pages_walk_every_entry_once_even_with_equal_times(tree, api_client, monkeypatch):
    same = timezone.now() - timedelta(hours=1)
    created = [entry(tree.district_admin, region=tree.d1).pk for _ in range(2)]
    monkeypatch.setattr(timezone, "now", lambda: same)
    created += [entry(tree.district_admin, region=tree.d1).pk for _ in range(5)]
    monkeypatch.undo()
    client = api_client.as_user(tree.city_admin)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = client.get(URL, params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    # newest first: the two recent entries (higher ids), then the five of an hour ago
    assert seen == sorted(created[:2], reverse=True) + sorted(created[2:], reverse=True)


def test_a_forged_cursor_is_refused(tree, api_client):
    response = api_client.as_user(tree.city_admin).get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_listing_costs_the_same_queries_for_few_and_many_entries(
        tree, api_client, django_assert_max_num_queries):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    client = api_client.as_user(tree.city_admin)
    entry(tree.district_admin, region=tree.d1)
    with CaptureQueriesContext(conn) as few:
        assert len(ids(client.get(URL))) == 1
    for user, region in [(tree.town_admin, tree.t1), (tree.community_admin, tree.k1),
                         (None, tree.k2)] * 5:
        entry(user, region=region)
    with CaptureQueriesContext(conn) as many:
        assert len(ids(client.get(URL))) == 16
    assert len(many) == len(few)


def test_items_name_the_actor_and_region(tree, api_client):
    e = entry(tree.district_admin, region=tree.d1, data={"field": "name"})
    item = api_client.as_user(tree.city_admin).get(URL).json()["items"][0]
    assert item["id"] == e.pk
    assert item["actor_id"] == tree.district_admin.pk
    assert item["actor_name"] == tree.district_admin.masked_phone
    assert (item["region_code"], item["region_name"]) == (tree.d1.code, tree.d1.name)
    assert item["data"] == {"field": "name"}


# --- export ------------------------------------------------------------------------------------

def test_export_holds_the_filtered_rows_as_plain_text_and_is_itself_audited(tree, api_client):
    from openpyxl import load_workbook

    entry(tree.district_admin, region=tree.d1, action="region.update",
          data={"name": "=HYPERLINK(\"http://x\",\"y\")"})
    entry(tree.town_admin, region=tree.t1, action="role.grant")
    entry(tree.other_city_admin, region=tree.other_district, action="region.update")
    response = api_client.as_user(tree.city_admin).get(f"{URL}/export.xlsx",
                                                       {"action": "region.update"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 1  # this city's region.update only
    details = rows[0][11]
    assert details.data_type == "s"
    assert details.value.startswith('{"name": "=HYPERLINK')

    exported = AuditEntry.objects.get(action="audit.export")
    assert exported.kind == AuditEntry.Kind.VIEW
    assert exported.actor_id == tree.city_admin.pk
    assert exported.region_id == tree.city.pk
    assert exported.data == {"filters": {"action": "region.update"}, "rows": 1}
