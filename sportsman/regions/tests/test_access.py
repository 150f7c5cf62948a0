"""The access module: a role held on a region covers its subtree and nothing outside it."""

from __future__ import annotations

import pytest

from sportsman.core.errors import Forbidden, NotAuthenticated
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region, RoleAssignment

pytestmark = pytest.mark.django_db


def test_role_covers_its_subtree_and_nothing_outside(tree):
    access = Access(tree.town_admin)
    assert access.can(Perm.REGION_VIEW, tree.t1)
    assert access.can(Perm.REGION_VIEW, tree.k1)
    assert not access.can(Perm.REGION_VIEW, tree.t2)
    assert not access.can(Perm.REGION_VIEW, tree.d1)
    assert not access.can(Perm.REGION_VIEW, tree.k4)


def test_scoped_queryset_holds_exactly_the_subtree(tree):
    regions = set(Access(tree.district_admin).regions(Perm.REGION_VIEW))
    assert regions == {tree.d1, tree.t1, tree.t2, tree.k1, tree.k2, tree.k3}


def test_permission_comes_only_from_roles_that_carry_it(tree):
    assert Access(tree.city_admin).can(Perm.AUDIT_VIEW, tree.k1)
    assert not Access(tree.district_admin).can(Perm.AUDIT_VIEW, tree.d1)
    assert not Access(tree.venue_manager).can(Perm.RESIDENT_VIEW, tree.k1)
    assert Access(tree.venue_manager).can(Perm.CONSOLE, tree.k1)


def test_nested_grants_collapse_to_the_topmost(tree):
    RoleAssignment.objects.create(user=tree.town_admin, role="district_admin", region=tree.d1)
    roots = Access(tree.town_admin).roots(Perm.REGION_VIEW)
    assert [g.region_id for g in roots] == [tree.d1.pk]


def test_grants_on_two_branches_scope_to_both(tree):
    RoleAssignment.objects.create(user=tree.town_admin, role="town_admin", region=tree.t3)
    ids = set(Access(tree.town_admin).regions(Perm.REGION_VIEW).values_list("id", flat=True))
    assert ids == {tree.t1.pk, tree.k1.pk, tree.k2.pk, tree.t3.pk, tree.k4.pk}


def test_resident_and_anonymous_hold_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    assert not Access(tree.resident).regions(Perm.REGION_VIEW).exists()
    with pytest.raises(Forbidden):
        Access(tree.resident).require(Perm.REGION_VIEW, tree.k1)
    with pytest.raises(NotAuthenticated):
        Access(AnonymousUser()).require(Perm.REGION_VIEW, tree.k1)


def test_scope_filters_by_a_related_region_field(tree):
    from sportsman.accounts.models import User

    tree.user(home_community=tree.k4)
    visible = Access(tree.town_admin).scope(User.objects.all(), Perm.RESIDENT_VIEW,
                                            field="home_community")
    assert list(visible) == [tree.resident]


def test_a_sibling_with_a_common_id_prefix_is_not_inside(db):
    # "/1/" must not cover "/12/": paths end with a slash.
    a = Region.objects.create(code="330400000000", edition=2023, name="a", level="city", path="/1/")
    b = Region.objects.create(code="330500000000", edition=2023, name="b", level="city", path="/12/")
    assert not a.contains(b)


def test_access_is_built_with_one_query(tree, django_assert_num_queries):
    access = Access(tree.district_admin)
    with django_assert_num_queries(1):
        for _ in range(5):
            access.can(Perm.REGION_VIEW, tree.k1)
            access.roots(Perm.RESIDENT_VIEW)


def test_own_holders_are_the_staff_of_exactly_each_region(tree):
    from sportsman.regions.access import Perm, own_holders

    tree.sibling_town_admin.is_active = False
    tree.sibling_town_admin.save(update_fields=["is_active"])
    found = own_holders(Perm.COCKPIT_VIEW, [tree.t1.pk, tree.t2.pk, tree.k1.pk, tree.k3.pk])
    # Not the district or city administrators above them; not a deactivated account; not a
    # venue manager (no cockpit).
    assert found == {tree.t1.pk: [tree.town_admin.pk], tree.t2.pk: [],
                     tree.k1.pk: [tree.community_admin.pk], tree.k3.pk: []}
