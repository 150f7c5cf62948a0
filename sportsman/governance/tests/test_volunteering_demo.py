"""The volunteering of the small demo city: teams with members in towns and communities, past
opportunities with approved hours that earned points once each, some hours awaiting approval,
and upcoming opportunities with sign-ups."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_small_demo_city_has_volunteers_with_points():
    from django.db.models import Count
    from django.utils import timezone

    from sportsman.core import crypto, demo_city
    from sportsman.governance import volunteering as vol
    from sportsman.governance.models import Opportunity, VolunteerSignup, VolunteerTeam
    from sportsman.rewards.models import PointEntry

    city = demo_city.generate(scale="small", seed=3, progress=False)

    assert VolunteerTeam.objects.count() == city.made["volunteer_teams"] >= 5
    assert {t.region.level for t in VolunteerTeam.objects.select_related("region")} == {
        "town", "community"}
    for team in VolunteerTeam.objects.annotate(n=Count("memberships")).filter(
            memberships__status="active"):
        assert team.memberships.filter(role="leader", status="active").count() == 1
    for opp in Opportunity.objects.annotate(n=Count("signups")):
        assert opp.taken == opp.n <= opp.capacity
    approved = VolunteerSignup.objects.filter(status="approved", hours__gt=0)
    assert approved.exists() and VolunteerSignup.objects.filter(status="checked_out").exists()
    keys = set(PointEntry.objects.filter(source="volunteer").values_list("idempotency_key",
                                                                         flat=True))
    assert keys and keys <= {vol.hours_key(pk) for pk in approved.values_list("pk", flat=True)}
    assert Opportunity.objects.filter(starts_at__gt=timezone.now(), taken__gt=0).exists()
    from sportsman.accounts.models import User

    demo = User.objects.get(phone_hash=crypto.keyed_hash("13800000000"))
    assert vol.my_totals(demo)["hours"] > 0
