"""Staff campaigns: exact reach against an independent recount, never outside the sender's
region, opt-out, caps and quiet hours under a burst, resume after a crash, clicks, figures,
refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from sportsman.notifications import campaigns
from sportsman.notifications.models import (
    Campaign,
    CampaignRecipient,
    Delivery,
    Notification,
    Preference,
    PushSubscription,
    QuietHours,
)
from sportsman.regions.access import Access

pytestmark = pytest.mark.django_db


class Town:
    """Residents of varied age, sex, interests, activity, groups and events in k1, k2 (town
    t1), k3 (town t2, just outside t1) and the other city."""

    def __init__(self, tree) -> None:
        from sportsman.accounts.models import User
        from sportsman.activity.models import UserDay
        from sportsman.core.models import Sport
        from sportsman.events.models import Event, Registration
        from sportsman.groups.models import Group, Membership

        self.tree = tree
        User.objects.filter(pk=tree.resident.pk).update(is_active=False)  # inactive: never told
        self.run = Sport.objects.get_or_create(slug="t-run", defaults={"name_zh": "跑步"})[0]
        self.swim = Sport.objects.get_or_create(slug="t-swim", defaults={"name_zh": "游泳"})[0]
        year = timezone.localdate().year
        self.people = []
        communities = [tree.k1, tree.k2, tree.k3, tree.other_district]
        for i in range(40):
            u = tree.user(home_community=communities[i % 4], nickname=f"r{i}",
                          sex="F" if i % 3 else "M", birth_year=year - (20 + i * 2))
            if i % 2:
                u.interests.add(self.run)
            if i % 5 == 0:
                u.interests.add(self.swim)
            self.people.append(u)
        self.group = Group.objects.create(name="晨跑团", sport=self.run, region=tree.t1,
                                          invite_code="inv-campaigns")
        self.members = [u for i, u in enumerate(self.people) if i % 3 == 0]
        for u in self.members:
            Membership.objects.create(group=self.group, user=u, status="active")
        today = timezone.localdate()
        soon = timezone.now()
        self.event = Event.objects.create(
            title="城市马拉松", region=tree.t1, level="town", organiser_name="新嘉街道",
            starts_at=soon + dt.timedelta(days=9), ends_at=soon + dt.timedelta(days=9, hours=3),
            registration_opens_at=soon, registration_closes_at=soon + dt.timedelta(days=8),
            capacity=100)
        self.registrants = [u for i, u in enumerate(self.people) if i % 4 in (0, 1) and i < 20]
        for u in self.registrants:
            Registration.objects.create(event=self.event, user=u)
        for i, u in enumerate(self.people):  # days active in the last 30: i % 12
            for d in range(i % 12):
                UserDay.objects.create(user=u, day=today - dt.timedelta(days=d), minutes=30)

    def recount(self, region, *, age=None, sex=None, sports=None, group=False, event=False,
                activity=None) -> set[int]:
        """The audience by plain Python over the people, without the query under test."""
        year = timezone.localdate().year
        out = set()
        for i, u in enumerate(self.people):
            u.refresh_from_db()
            if not u.home_community.path.startswith(region.path):
                continue
            if age and not (u.birth_year and age[0] <= year - u.birth_year <= age[1]):
                continue
            if sex and u.sex != sex:
                continue
            if sports and not set(u.interests.values_list("pk", flat=True)) & set(sports):
                continue
            if group and u not in self.members:
                continue
            if event and u not in self.registrants:
                continue
            days = i % 12
            if activity == "inactive" and days:
                continue
            if activity == "occasional" and not 1 <= days <= 7:
                continue
            if activity == "regular" and days < 8:
                continue
            out.add(u.pk)
        return out


@pytest.fixture
def town(tree):
    return Town(tree)


def _send(actor, region, spec=None, **kw):
    access = Access(actor)
    c = campaigns.create_campaign(access=access, region_id=region.pk, title=kw.pop("title", "周末约跑"),
                                  spec=spec or {}, **kw)
    campaigns.send_campaign(access=access, campaign_id=c.pk)
    campaigns.run_campaign(c.pk)
    c.refresh_from_db()
    return c


def _reached(c) -> set[int]:
    return set(campaigns.recipients_sent(c))


@pytest.mark.parametrize("spec,expect", [
    ({}, {}),
    ({"age_min": 30, "age_max": 60}, {"age": (30, 60)}),
    ({"sex": "F", "sports": ["run"]}, {"sex": "F", "sports": ["run"]}),
    ({"sources": {"group": "group"}}, {"group": True}),
    ({"sources": {"event": "event"}, "sex": "M"}, {"event": True, "sex": "M"}),
    ({"sources": {"activity": "occasional"}}, {"activity": "occasional"}),
    ({"sources": {"activity": "inactive"}, "sports": ["swim"]},
     {"activity": "inactive", "sports": ["swim"]}),
    ({"sources": {"activity": "regular", "group": "group"}, "age_max": 70},
     {"activity": "regular", "group": True, "age": (0, 70)}),
])
def test_a_campaign_reaches_exactly_the_recounted_residents(town, spec, expect):
    tree = town.tree
    sport_ids = {"run": town.run.pk, "swim": town.swim.pk}
    if "sports" in spec:
        spec = {**spec, "sports": [sport_ids[s] for s in spec["sports"]]}
        expect = {**expect, "sports": [sport_ids[s] for s in expect["sports"]]}
    if "sources" in spec:
        ids = {"group": town.group.pk, "event": town.event.pk}
        spec = {**spec, "sources": {k: ids.get(v, v) for k, v in spec["sources"].items()}}
    wanted = town.recount(tree.d1, **expect)
    assert campaigns.preview(access=Access(tree.district_admin), region_id=tree.d1.pk,
                             spec=spec).count == len(wanted)
    c = _send(tree.district_admin, tree.d1, spec)
    assert _reached(c) == wanted
    assert c.sent_count == len(wanted) and c.status == "sent"
    assert set(Notification.objects.filter(dedupe_key=f"campaign:{c.pk}")
               .values_list("user_id", flat=True)) == wanted


def test_a_campaign_never_reaches_outside_the_senders_region(town):
    tree = town.tree
    # The town admin of t1 names the whole city: the region is refused outright...
    from sportsman.core.errors import NotFound

    with pytest.raises(NotFound):
        campaigns.create_campaign(access=Access(tree.town_admin), region_id=tree.city.pk,
                                  title="全市")
    # ...and a campaign on t1 reaches k1 and k2 only, not the resident just outside in k3.
    c = _send(tree.town_admin, tree.t1)
    reached = _reached(c)
    assert reached == town.recount(tree.t1)
    k3 = {u.pk for u in town.people if u.home_community_id == tree.k3.pk}
    assert k3 and not reached & k3
    # Another city's admin on the other city reaches none of ours.
    other = _send(tree.other_city_admin, tree.other_city)
    assert _reached(other) == town.recount(tree.other_city)
    assert not _reached(other) & town.recount(tree.city)


def test_a_sender_who_lost_the_role_before_sending_reaches_nobody(town):
    from sportsman.regions.models import RoleAssignment

    tree = town.tree
    access = Access(tree.town_admin)
    c = campaigns.create_campaign(access=access, region_id=tree.t1.pk, title="x")
    campaigns.send_campaign(access=access, campaign_id=c.pk)
    RoleAssignment.objects.filter(user=tree.town_admin).delete()
    campaigns.run_campaign(c.pk)
    assert _reached(c) == set()


def test_residents_who_opted_out_of_the_category_are_left_out(town):
    tree = town.tree
    out = [u for u in town.people if u.home_community_id == tree.k1.pk][:3]
    for u in out:
        for ch in ("in_app", "webpush"):
            Preference.objects.create(user=u, category="campaign", channel=ch, enabled=False)
    c = _send(tree.town_admin, tree.t1)
    assert _reached(c) == town.recount(tree.t1) - {u.pk for u in out}
    assert c.opted_out_count == 3
    # Another category still reaches them.
    c2 = _send(tree.town_admin, tree.t1, category="event")
    assert {u.pk for u in out} <= _reached(c2)


def test_caps_and_quiet_hours_hold_under_a_burst_of_campaigns(town, settings):
    settings.CAMPAIGN_CAP = 2
    tree = town.tree
    k1 = [u for u in town.people if u.home_community_id == tree.k1.pk]
    for u in k1:
        PushSubscription.objects.create(user=u, endpoint=f"https://push.example.org/{u.pk}",
                                        p256dh="k", auth="a")
    quiet = k1[0]
    now = timezone.now()
    from sportsman.notifications.quiet import LOCAL_TZ

    start = (now.astimezone(LOCAL_TZ) - dt.timedelta(hours=1)).time().replace(second=0,
                                                                              microsecond=0)
    end = (now.astimezone(LOCAL_TZ) + dt.timedelta(hours=2)).time().replace(second=0,
                                                                            microsecond=0)
    QuietHours.objects.create(user=quiet, enabled=True, start=start, end=end)
    burst = [_send(tree.town_admin, tree.t1, title=f"第{i}条") for i in range(5)]
    for u in town.people:
        got = CampaignRecipient.objects.filter(user=u, outcome="sent").count()
        assert got <= 2
    for u in k1:
        assert CampaignRecipient.objects.filter(user=u, outcome="sent").count() == 2
        assert Notification.objects.filter(user=u, data__campaign__isnull=False).count() == 2
    assert sum(c.capped_count for c in burst) == 3 * len(town.recount(tree.t1))
    held = Delivery.objects.filter(notification__user=quiet, channel="webpush")
    assert held.count() == 2
    assert all(d.not_before > now + dt.timedelta(minutes=90) for d in held)
    others = Delivery.objects.filter(notification__user=k1[1], channel="webpush")
    assert all(d.not_before <= timezone.now() for d in others)


def test_a_crashed_run_resumes_without_duplicates(town, monkeypatch):
    tree = town.tree
    monkeypatch.setattr(campaigns, "CHUNK", 3)
    access = Access(tree.district_admin)
    c = campaigns.create_campaign(access=access, region_id=tree.d1.pk, title="续传")
    campaigns.send_campaign(access=access, campaign_id=c.pk)
    campaigns.run_campaign(c.pk, stop_after=2)  # the worker dies after two chunks
    assert CampaignRecipient.objects.filter(campaign=c).count() == 6

    calls = {"n": 0}
    real = campaigns.notify

    def crash_once(**kw):
        calls["n"] += 1
        real(**kw)
        if calls["n"] == 1:
            raise RuntimeError("worker lost mid-chunk")

    monkeypatch.setattr(campaigns, "notify", crash_once)
    with pytest.raises(RuntimeError):
        campaigns.run_campaign(c.pk)
    assert CampaignRecipient.objects.filter(campaign=c).count() == 6  # the chunk rolled back
    assert campaigns.start_due() == [c.pk]  # the sweep finds it still sending
    campaigns.run_campaign(c.pk)
    campaigns.run_campaign(c.pk)
    c.refresh_from_db()
    wanted = town.recount(tree.d1)
    assert c.status == "sent" and _reached(c) == wanted and c.sent_count == len(wanted)
    assert Notification.objects.filter(dedupe_key=f"campaign:{c.pk}").count() == len(wanted)


def test_clicks_are_counted_once_and_redirect_only_to_this_site(town, client):
    tree = town.tree
    c = _send(tree.town_admin, tree.t1, link="/events/")
    someone = town.people[0]
    assert someone.pk in _reached(c)
    client.force_login(someone)
    for _i in range(2):
        answer = client.get(campaigns.click_path(c.pk))
        assert answer.status_code == 302 and answer["Location"] == "/events/"
    figures = campaigns.figures_of([c])[c.pk]
    assert figures.clicked == 1 and figures.read == 1 and figures.sent == c.sent_count
    # A stored link gone bad (edited in the database) still never leaves the site.
    Campaign.objects.filter(pk=c.pk).update(link="//evil.example.org/")
    assert client.get(campaigns.click_path(c.pk))["Location"] == "/notifications/"
    # Outside the audience: not found.
    outsider = next(u for u in town.people if u.home_community_id == tree.k3.pk)
    client.force_login(outsider)
    assert client.get(campaigns.click_path(c.pk)).status_code == 404


@pytest.mark.parametrize("kw,code", [
    ({"title": ""}, "invalid_title"),
    ({"link": "https://evil.example.org/"}, "invalid_link"),
    ({"category": "account"}, "campaign_category"),
    ({"spec": {"age_min": 70, "age_max": 20}}, "invalid_audience"),
    ({"spec": {"sources": {"group": 999999}}}, "invalid_audience"),
    ({"spec": {"sources": {"activity": "sometimes"}}}, "invalid_audience"),
    ({"spec": {"colour": "red"}}, "invalid_audience"),
])
def test_bad_input_is_refused_with_a_code_and_changes_nothing(tree, kw, code):
    from sportsman.core.errors import DomainError

    args = {"title": "好", **kw}
    with pytest.raises(DomainError) as caught:
        campaigns.create_campaign(access=Access(tree.town_admin), region_id=tree.t1.pk, **args)
    assert caught.value.code == code
    assert str(caught.value.message)
    assert not Campaign.objects.exists()


def test_only_a_draft_is_sent_and_a_sent_campaign_cannot_be_cancelled(town):
    from sportsman.core.errors import DomainError

    tree = town.tree
    c = _send(tree.town_admin, tree.t1)
    for action in (campaigns.send_campaign, campaigns.cancel_campaign):
        with pytest.raises(DomainError) as caught:
            action(access=Access(tree.town_admin), campaign_id=c.pk)
        assert caught.value.code == "campaign_state"


def test_a_scheduled_campaign_starts_when_due_and_a_cancelled_one_never(town):
    tree = town.tree
    access = Access(tree.town_admin)
    later = timezone.now() + dt.timedelta(hours=1)
    a = campaigns.create_campaign(access=access, region_id=tree.t1.pk, title="a")
    b = campaigns.create_campaign(access=access, region_id=tree.t1.pk, title="b")
    for c in (a, b):
        campaigns.send_campaign(access=access, campaign_id=c.pk, send_at=later)
    campaigns.cancel_campaign(access=access, campaign_id=b.pk)
    assert campaigns.start_due() == []
    assert campaigns.start_due(later + dt.timedelta(seconds=1)) == [a.pk]
    for cid in (a.pk, b.pk):
        campaigns.run_campaign(cid)
    a.refresh_from_db()
    assert a.status == "sent" and _reached(a) == town.recount(tree.t1)
    assert not CampaignRecipient.objects.filter(campaign=b).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_campaigns_to_the_same_residents_keep_the_cap(tree, settings):
    """Four campaigns materialise at once for the same residents; the cap is 2."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the race is PostgreSQL's (SQLite writes run one at a time)")
    settings.CAMPAIGN_CAP = 2
    people = [tree.user(home_community=tree.k1) for _i in range(30)]
    access = Access(tree.town_admin)
    ids = []
    for i in range(4):
        c = campaigns.create_campaign(access=access, region_id=tree.t1.pk, title=f"并发{i}")
        campaigns.send_campaign(access=access, campaign_id=c.pk)
        ids.append(c.pk)
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def run(cid: int) -> None:
        try:
            barrier.wait()
            campaigns.run_campaign(cid)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for u in people:
        assert CampaignRecipient.objects.filter(user=u, outcome="sent").count() == 2
    assert CampaignRecipient.objects.filter(outcome="capped").count() == 2 * (len(people) + 1)
    assert Campaign.objects.filter(pk__in=ids, status="sent").count() == 4


def test_cockpit_figures_count_sent_read_and_clicked_per_community(town, client):
    from sportsman.core import figures as core_figures
    from sportsman.notifications import figures  # noqa: F401  (declares the metrics)

    tree = town.tree
    c = _send(tree.town_admin, tree.t1, link="/events/")
    reader = town.people[0]
    client.force_login(reader)
    client.get(campaigns.click_path(c.pk))
    today = timezone.localdate()
    rows = {key: list(core_figures.get(key).compute(today - dt.timedelta(days=1),
                                                     today + dt.timedelta(days=1)))
            for key in ("campaign_sent", "campaign_read", "campaign_clicked")}
    assert sum(v for _r, _d, v in rows["campaign_sent"]) == c.sent_count
    assert [(r, v) for r, _d, v in rows["campaign_clicked"]] == [(reader.home_community_id, 1)]
    assert [(r, v) for r, _d, v in rows["campaign_read"]] == [(reader.home_community_id, 1)]


def test_console_pages_list_compose_preview_and_send(town, client):
    tree = town.tree
    client.force_login(tree.town_admin)
    answer = client.post("/console/campaigns/preview", {"region_id": tree.t1.pk, "sex": "F"})
    assert answer.status_code == 200
    assert f'data-count="{len(town.recount(tree.t1, sex="F"))}"' in answer.content.decode()
    bad = client.post("/console/campaigns/preview", {"region_id": tree.t1.pk, "age_min": "90",
                                                      "age_max": "10"})
    assert 'data-code="invalid_audience"' in bad.content.decode()
    answer = client.post("/console/campaigns/new", {"region_id": tree.t1.pk, "title": "页面",
                                                    "category": "campaign", "sex": "F"})
    assert answer.status_code == 302
    c = Campaign.objects.get(title="页面")
    assert c.audience == {"sex": "F"}
    assert client.post(f"/console/campaigns/{c.pk}/", {"action": "send"}).status_code == 302
    campaigns.run_campaign(c.pk)
    page = client.get("/console/campaigns/")
    assert page.status_code == 200 and f'data-campaign="{c.pk}"' in page.content.decode()
    client.force_login(tree.sibling_town_admin)
    assert client.get(f"/console/campaigns/{c.pk}/").status_code == 404


def test_api_create_and_send_are_idempotent_and_refusals_have_codes(town, api_client):
    tree = town.tree
    client = api_client.as_user(tree.town_admin)
    body = {"region_id": tree.t1.pk, "title": "接口", "audience": {"sex": "M"}}
    first = client.json("post", "/api/v1/console/campaigns", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.json("post", "/api/v1/console/campaigns", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Campaign.objects.filter(title="接口").count() == 1
    cid = first.json()["id"]
    for _i in range(2):
        sent = client.json("post", f"/api/v1/console/campaigns/{cid}/send", {},
                           HTTP_IDEMPOTENCY_KEY="s-1")
        assert sent.status_code == 200 and sent.json()["status"] == "sending"
    bad = client.json("post", "/api/v1/console/campaigns",
                      {**body, "audience": {"sources": {"group": 987654}}})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_audience"
    assert "audience.sources.group" in bad.json()["fields"]
    listed = client.get("/api/v1/console/campaigns")
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["items"]] == [cid]


def test_campaign_list_api_query_count_does_not_grow(town, api_client, django_assert_max_num_queries):
    tree = town.tree
    client = api_client.as_user(tree.town_admin)
    for i in range(6):
        _send(tree.town_admin, tree.t1, title=f"列表{i}")
    with django_assert_max_num_queries(8):
        answer = client.get("/api/v1/console/campaigns")
    assert len(answer.json()["items"]) == 6


def test_the_console_menu_leads_campaign_staff_to_campaigns(town, client):
    tree = town.tree
    client.force_login(tree.town_admin)
    assert b'id="nav-campaigns"' in client.get("/console/").content
    client.force_login(tree.resident)
    assert client.get("/console/campaigns/").status_code != 200
