"""Role management: administrators hand out roles inside their own subtree only, audited."""

from __future__ import annotations

import pytest

from sportsman.core.models import AuditEntry
from sportsman.regions.models import RoleAssignment

pytestmark = pytest.mark.django_db


def test_town_admin_grants_a_community_admin_inside_the_town(tree, api_client):
    newcomer = tree.user()
    response = api_client.as_user(tree.town_admin).json(
        "post", "/api/v1/roles", {"user_id": newcomer.pk, "role": "community_admin",
                                  "region_id": tree.k2.pk})
    assert response.status_code == 201, response.content
    assert RoleAssignment.objects.filter(user=newcomer, role="community_admin",
                                         region=tree.k2).exists()
    entry = AuditEntry.objects.get(action="role.grant")
    assert entry.actor == tree.town_admin and entry.region == tree.k2


def test_granting_in_a_sibling_town_is_not_found_and_writes_nothing(tree, api_client):
    newcomer = tree.user()
    before = RoleAssignment.objects.count()
    response = api_client.as_user(tree.sibling_town_admin).json(
        "post", "/api/v1/roles", {"user_id": newcomer.pk, "role": "community_admin",
                                  "region_id": tree.k1.pk})
    assert response.status_code == 404
    assert RoleAssignment.objects.count() == before
    assert not AuditEntry.objects.exists()


def test_an_admin_cannot_grant_their_own_seat(tree, api_client):
    newcomer = tree.user()
    response = api_client.as_user(tree.town_admin).json(
        "post", "/api/v1/roles", {"user_id": newcomer.pk, "role": "town_admin",
                                  "region_id": tree.t1.pk})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_a_non_admin_role_on_the_own_region_is_allowed(tree, api_client):
    newcomer = tree.user()
    response = api_client.as_user(tree.town_admin).json(
        "post", "/api/v1/roles", {"user_id": newcomer.pk, "role": "venue_manager",
                                  "region_id": tree.t1.pk})
    assert response.status_code == 201


@pytest.mark.parametrize(("payload", "code"), [
    ({"role": "emperor"}, "unknown_role"),
    ({"role": "town_admin"}, "role_level_mismatch"),  # a town admin seat on a community
    ({"extra": 1}, "unknown_field"),
])
def test_bad_grants_are_refused_with_a_code(tree, api_client, payload, code):
    newcomer = tree.user()
    body = {"user_id": newcomer.pk, "role": "community_admin", "region_id": tree.k1.pk, **payload}
    before = RoleAssignment.objects.count()
    response = api_client.as_user(tree.district_admin).json("post", "/api/v1/roles", body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert RoleAssignment.objects.count() == before


def test_a_duplicate_grant_conflicts(tree, api_client):
    body = {"user_id": tree.community_admin.pk, "role": "community_admin", "region_id": tree.k1.pk}
    response = api_client.as_user(tree.town_admin).json("post", "/api/v1/roles", body)
    assert response.status_code == 409
    assert response.json()["code"] == "role_exists"


def test_revoke_inside_scope_and_not_outside(tree, api_client):
    assignment = RoleAssignment.objects.get(user=tree.community_admin)
    outsider = api_client.as_user(tree.sibling_town_admin)
    assert outsider.delete(f"/api/v1/roles/{assignment.pk}").status_code == 404
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    response = api_client.as_user(tree.town_admin).delete(f"/api/v1/roles/{assignment.pk}")
    assert response.status_code == 204
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.filter(action="role.revoke").count() == 1


def test_list_shows_only_my_subtree(tree, api_client):
    response = api_client.as_user(tree.town_admin).get("/api/v1/roles")
    regions = {row["region_id"] for row in response.json()}
    assert regions == {tree.t1.pk, tree.k1.pk, tree.k2.pk}


def test_residents_and_venue_managers_may_not_manage_roles(tree, api_client):
    assert api_client.as_user(tree.resident).get("/api/v1/roles").status_code == 403
    assert api_client.as_user(tree.venue_manager).get("/api/v1/roles").status_code == 403
    assert api_client.get("/api/v1/roles").status_code == 401


def test_a_retried_grant_with_the_same_key_is_granted_once(tree, api_client):
    newcomer = tree.user()
    client = api_client.as_user(tree.town_admin)
    body = {"user_id": newcomer.pk, "role": "community_admin", "region_id": tree.k2.pk}
    first = client.json("post", "/api/v1/roles", body, HTTP_IDEMPOTENCY_KEY="grant-1")
    again = client.json("post", "/api/v1/roles", body, HTTP_IDEMPOTENCY_KEY="grant-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert RoleAssignment.objects.filter(user=newcomer).count() == 1
    assert AuditEntry.objects.filter(action="role.grant").count() == 1
    other = client.json("post", "/api/v1/roles", {**body, "region_id": tree.k1.pk},
                        HTTP_IDEMPOTENCY_KEY="grant-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_role_list_costs_the_same_queries_for_many_rows(tree, api_client,
                                                        django_assert_max_num_queries):
    from sportsman.regions.models import RoleAssignment as RA

    client = api_client.as_user(tree.town_admin)
    client.get("/api/v1/roles")  # warm: token and grants
    for _ in range(15):
        RA.objects.create(user=tree.user(), role="venue_manager", region=tree.k2)
    with django_assert_max_num_queries(3):  # token with grants, the page (users and regions joined)
        response = client.get("/api/v1/roles")
    assert len(response.json()) >= 15
