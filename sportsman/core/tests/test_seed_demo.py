"""The demo city: deterministic from its seed, loaded once, demo logins placed over the demo
resident's home, generated residents able to log in."""

from __future__ import annotations

import io
from collections import Counter
from types import SimpleNamespace

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from sportsman.accounts.models import User
from sportsman.core import demo_city
from sportsman.core.demo import DEMO_HOME_COMMUNITY, DEMO_LOGINS, DEMO_PASSWORD, DEMO_STAFF
from sportsman.core.models import Sport
from sportsman.regions.access import access_for_user
from sportsman.regions.models import LEVEL_DEPTH, Region, RoleAssignment
from sportsman.regions.selectors import find_by_code
from sportsman.regions.services import kind_of

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", *args, stdout=out, stderr=io.StringIO(),
                 verbosity=0)
    return out.getvalue()


def _wipe() -> None:
    from sportsman.cockpit.models import Assessment, IndexConfig, MonthlyReport, SupervisionTask
    from sportsman.facilities.models import Booking, Facility, Visit
    from sportsman.rewards.models import (
        Merchant,
        PointEntry,
        Reward,
        RewardOrder,
        Voucher,
        VoucherCampaign,
    )

    # Rows of later steps that protect their regions and users.
    Assessment.objects.update(supersedes=None)
    for cockpit_model in (SupervisionTask, Assessment, IndexConfig, MonthlyReport):
        cockpit_model.objects.all().delete()
    from sportsman.events.models import Event
    from sportsman.groups.models import Group, StarGroup

    while Event.objects.exists():  # the rounds of a cascade protect their parents: leaves first
        Event.objects.exclude(pk__in=Event.objects.filter(parent__isnull=False)
                              .values("parent_id")).delete()
    for model in (StarGroup, Group, Event, Voucher, VoucherCampaign, RewardOrder, Reward,
                  Merchant):
        model.objects.all().delete()
    from django.apps import apps

    # governance's rows, associations, clinics, test stations and exchange jobs protect their
    # regions
    for label in ("governance", "associations", "health", "fitness", "interfaces"):
        for protecting in reversed(list(apps.get_app_config(label).get_models())):
            protecting._default_manager.all().delete()
    PointEntry.objects.filter(reverses__isnull=False).delete()
    from sportsman.instructors.models import GuidanceSession, Instructor

    for instructors_model in (GuidanceSession, Instructor):  # instructors protect their regions
        instructors_model.objects.all().delete()
    Visit.objects.all().delete()
    Booking.objects.all().delete()
    Facility.objects.all().delete()
    User.interests.through.objects.all().delete()
    RoleAssignment.objects.all().delete()
    User.objects.all().delete()
    for level in sorted(LEVEL_DEPTH, key=lambda lv: LEVEL_DEPTH[lv], reverse=True):
        Region.objects.filter(level=level).delete()


def test_same_seed_gives_the_same_city_and_another_seed_another():
    demo_city.generate(scale="small", seed=7, progress=False)
    first = demo_city.fingerprint()
    _wipe()
    demo_city.generate(scale="small", seed=7, progress=False)
    assert demo_city.fingerprint() == first
    _wipe()
    demo_city.generate(scale="small", seed=8, progress=False)
    assert demo_city.fingerprint() != first


def test_if_empty_does_not_load_twice_and_a_plain_second_run_is_refused():
    _seed("--if-empty")
    users, regions = User.objects.count(), Region.objects.count()
    assert users == demo_city.SMALL_RESIDENTS + len(DEMO_STAFF)
    assert "already loaded" in _seed("--if-empty")
    with pytest.raises(CommandError, match="already loaded"):
        _seed()
    assert (User.objects.count(), Region.objects.count()) == (users, regions)


def test_small_city_shape_and_legal_codes():
    _seed()
    communities = Region.objects.filter(level="community").select_related("parent")
    assert communities.count() == 6
    assert Region.objects.filter(level="district").count() == 2
    assert Region.objects.filter(level="town").count() == 3
    assert communities.filter(is_synthetic=False).count() == 3
    for community in communities:
        assert community.code.startswith(community.parent.code[:9])
        assert kind_of(community.code, "community") == community.kind_note
        assert community.urban_rural_class
    homes = Counter(User.objects.values_list("home_community__level", flat=True))
    assert homes == {"community": User.objects.count()}


def test_demo_logins_hold_their_roles_over_the_residents_home():
    _seed()
    resident = User.objects.get_by_phone("13800000000")
    home = resident.home_community
    assert home.code == DEMO_HOME_COMMUNITY and home.name == "花园社区"
    assert access_for_user(resident).grants == []
    expected = {"13800000001": ("community_admin", "330402009034"),
                "13800000002": ("town_admin", "330402009000"),
                "13800000003": ("district_admin", "330402000000"),
                "13800000004": ("city_admin", "330400000000"),
                "13800000005": ("venue_manager", "330402009034"),
                "13800000006": ("merchant", "330402009000"),
                "13800000010": ("association_admin", "330400000000"),
                "13800000011": ("instructor", "330402009034"),
                "13800000012": ("evaluator", "330400000000")}
    assert {p for p, _ in DEMO_LOGINS} == {"13800000000", *expected}
    for phone, (role, code) in expected.items():
        grants = list(access_for_user(User.objects.get_by_phone(phone)).grants)
        assert [(g.role, g.region_code) for g in grants] == [(role, code)]
        assert home.path.startswith(grants[0].path)  # the role's region holds the home
    sibling = list(access_for_user(User.objects.get_by_phone("13800000015")).grants)
    assert [(g.role, g.region_code) for g in sibling] == [("town_admin", "330402013000")]
    assert not home.path.startswith(sibling[0].path)
    roles = {g.role for phone, *_ in DEMO_STAFF
             for g in access_for_user(User.objects.get_by_phone(phone)).grants}
    assert roles == {"city_admin", "district_admin", "town_admin", "community_admin",
                     "venue_manager", "association_admin", "instructor", "evaluator",
                     "merchant", "volunteer_leader"}


def test_generated_and_demo_residents_log_in_with_the_demo_password():
    _seed()
    first = authenticate(None, phone="13900000000", password=DEMO_PASSWORD)
    assert first is not None and first.phone == "13900000000"
    last = f"{13900000000 + demo_city.SMALL_RESIDENTS - 1}"
    assert authenticate(None, phone=last, password=DEMO_PASSWORD) is not None
    assert authenticate(None, phone="13800000004", password=DEMO_PASSWORD) is not None
    assert authenticate(None, phone="13900000000", password="wrong-password") is None
    # One hash for everyone: hashing per row would take most of an hour at jx scale.
    assert User.objects.values("password").distinct().count() == 1


def test_jx_tree_has_the_real_districts_and_towns_and_85_communities():
    city = demo_city.DemoCity(scale="jx", seed=1, progress=False)
    demo_city.step_regions(city)
    assert Region.objects.filter(level="district", is_synthetic=False).count() == 7
    assert Region.objects.filter(level="town", is_synthetic=False).count() == 72
    communities = Region.objects.filter(level="community").select_related("parent")
    assert communities.count() == 85
    assert communities.filter(is_synthetic=True).count() == 80
    assert all(c.parent.level == "town" and c.code.startswith(c.parent.code[:9])
               and kind_of(c.code, "community") for c in communities)
    assert find_by_code("330482101025").urban_rural_class == "121"
    assert find_by_code("330402015").management_zone == "湘家荡度假区"


def test_jx_residents_have_a_realistic_mix():
    # The generator alone (no database writes): the full 48,958 in about a second.
    sports = list(Sport.objects.order_by("slug"))
    city = demo_city.DemoCity(scale="jx", seed=1, progress=False)
    city.communities = [SimpleNamespace(pk=i, urban_rural_class=cls)
                        for i, cls in enumerate(["111", "121", "220"] * 28 + ["111"])]
    people = list(demo_city._residents(city, sports))
    assert len(people) == demo_city.JX_RESIDENTS == 48_958
    assert people[0][0]["phone"] == "13900000000"
    ages = [demo_city.REFERENCE_YEAR - p["birth_year"] for p, _ in people]
    assert min(ages) >= 14 and max(ages) <= 90
    assert 0.25 < sum(a >= 60 for a in ages) / len(ages) < 0.4
    assert 0.5 < sum(p["sex"] == "F" for p, _ in people) / len(people) < 0.56
    assert len({p["home_community_id"] for p, _ in people}) == 85

    def older_share(group):
        picked = [sports[i] for _, chosen in group for i in chosen]
        return sum(s.skews_older for s in picked) / len(picked)

    old = [(p, c) for (p, c), a in zip(people, ages, strict=True) if a >= 60]
    young = [(p, c) for (p, c), a in zip(people, ages, strict=True) if a < 40]
    assert older_share(old) > older_share(young) + 0.3


def test_a_clash_with_existing_accounts_loads_nothing():
    User.objects.create_user("13900000005", "some-password")
    with pytest.raises(CommandError, match="nothing was loaded"):
        _seed()
    assert not Region.objects.exists()
    assert User.objects.count() == 1
