"""The staff view of residents: scoped to the actor's subtree, phones masked, reveals audited."""

from __future__ import annotations

import pytest

from sportsman.accounts import services
from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry
from sportsman.regions.access import Access

pytestmark = pytest.mark.django_db


def _ids(user, **kw) -> set[int]:
    return set(services.list_residents_for(Access(user), **kw).values_list("id", flat=True))


def test_residents_are_scoped_to_the_actors_subtree(tree):
    k3_resident = tree.user(home_community=tree.k3, nickname="k3")
    k4_resident = tree.user(home_community=tree.k4, nickname="k4")
    assert _ids(tree.town_admin) == {tree.resident.pk}
    assert _ids(tree.sibling_town_admin) == {k3_resident.pk}
    assert _ids(tree.district_admin) == {tree.resident.pk, k3_resident.pk}
    assert _ids(tree.city_admin) == {tree.resident.pk, k3_resident.pk, k4_resident.pk}
    assert _ids(tree.community_admin) == {tree.resident.pk}
    assert _ids(tree.sibling_community_admin) == set()
    assert _ids(tree.other_city_admin) == set()
    assert _ids(tree.venue_manager) == set()  # holds no RESIDENT_VIEW
    assert _ids(tree.resident) == set()


def test_region_filter_narrows_and_cannot_widen(tree):
    tree.user(home_community=tree.k3)
    assert _ids(tree.district_admin, region_id=tree.t1.pk) == {tree.resident.pk}
    assert _ids(tree.town_admin, region_id=tree.d1.pk) == set()  # above my scope
    assert _ids(tree.town_admin, region_id=tree.t2.pk) == set()  # beside my scope


def test_nickname_search(tree):
    tree.user(home_community=tree.k1, nickname="晨跑小王")
    assert len(_ids(tree.town_admin, q="小王")) == 1


def test_reveal_phone_records_an_audit_view(tree):
    phone = services.reveal_phone(access=Access(tree.town_admin), actor=tree.town_admin,
                                  user_id=tree.resident.pk)
    assert phone == tree.resident.phone
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.action, entry.actor_id, entry.object_type, entry.object_id,
            entry.region_id) == ("view", "view.phone", tree.town_admin.pk, "accounts.user",
                                 str(tree.resident.pk), tree.k1.pk)


def test_reveal_outside_scope_is_not_found_and_not_audited(tree):
    with pytest.raises(DomainError) as exc:
        services.reveal_phone(access=Access(tree.sibling_town_admin),
                              actor=tree.sibling_town_admin, user_id=tree.resident.pk)
    assert exc.value.code == "not_found"
    assert not AuditEntry.objects.exists()


# --- the API --------------------------------------------------------------------------------


def test_api_list_shows_masked_phones_only(api_client, tree):
    r = api_client.as_user(tree.town_admin).get("/api/v1/residents")
    assert r.status_code == 200, r.content
    [item] = r.json()["items"]
    phone = tree.resident.phone
    assert item["phone_masked"] == f"{phone[:3]}****{phone[-4:]}"
    assert phone not in r.content.decode()
    assert item["home_community"]["code"] == tree.k1.code
    assert not AuditEntry.objects.exists()


def test_api_list_pages_by_cursor(api_client, tree):
    for i in range(4):
        tree.user(home_community=tree.k2, nickname=f"r{i}")
    client = api_client.as_user(tree.town_admin)
    seen: list[int] = []
    cursor = None
    while True:
        url = "/api/v1/residents?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(_ids(tree.town_admin))
    assert len(seen) == 5


def test_api_list_query_count_does_not_grow_with_rows(api_client, tree, django_assert_num_queries):
    client = api_client.as_user(tree.city_admin)
    with django_assert_num_queries(2):  # token with grants, the page (regions joined)
        client.get("/api/v1/residents")
    for _ in range(10):
        tree.user(home_community=tree.k3)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/residents").json()["items"]) == 11


@pytest.mark.parametrize("who,status", [
    ("town_admin", 200), ("district_admin", 200), ("city_admin", 200),
    ("community_admin", 200), ("sibling_town_admin", 404), ("sibling_community_admin", 404),
    ("other_city_admin", 404), ("venue_manager", 403), ("resident", 403), (None, 401),
])
def test_api_detail_and_reveal_matrix(api_client, tree, who, status):
    client = api_client.as_user(getattr(tree, who) if who else None)
    detail = client.get(f"/api/v1/residents/{tree.resident.pk}")
    reveal = client.post(f"/api/v1/residents/{tree.resident.pk}/reveal-phone")
    assert (detail.status_code, reveal.status_code) == (status, status)
    if status == 200:
        assert detail.json()["phone_masked"] != tree.resident.phone
        assert reveal.json() == {"phone": tree.resident.phone}
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert actions == {"view.profile", "view.phone"}
    else:
        assert not AuditEntry.objects.exists()


def test_api_list_filters_by_region(api_client, tree):
    tree.user(home_community=tree.k3)
    client = api_client.as_user(tree.district_admin)
    body = client.get(f"/api/v1/residents?region={tree.t1.pk}").json()
    assert [i["id"] for i in body["items"]] == [tree.resident.pk]
