"""OpenActive open data: the sync's diff and counter, RPDE paging and its envelope, only public
data, the dataset site; every item of a seeded set through @openactive/data-model-validator and
the live feeds through @openactive/rpde-validator (tools/openactive; skipped without node)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from sportsman.core.models import Sport
from sportsman.facilities.models import Slot
from sportsman.facilities.tests.factories import make_facility
from sportsman.groups.models import Group, GroupActivity
from sportsman.interfaces import feeds
from sportsman.interfaces.models import FeedItem

TOOLS = Path(__file__).resolve().parents[3] / "tools" / "openactive"
HAS_VALIDATORS = shutil.which("node") is not None and (TOOLS / "node_modules").is_dir()
needs_node = pytest.mark.skipif(not HAS_VALIDATORS, reason="node or tools/openactive missing")


def sport(slug: str) -> Sport:
    # transactional tests flush the catalogue the migrations seed: put back what we use
    names = {"badminton": "羽毛球", "square-dance": "广场舞", "xiangqi": "象棋", "running": "跑步"}
    return Sport.objects.get_or_create(slug=slug, defaults={"name_zh": names[slug],
                                                            "name_en": slug,
                                                            "family": "other"})[0]


def seed(tree) -> dict:
    """Two facilities (one with two units and slots), a square-dance group with activities, an
    event, and a chess group (not physical activity: never published)."""
    from sportsman.events.tests.factories import make_event

    facility = make_facility(tree.k1, units=2, unit_capacity=4, price_cents=1500,
                             contact_name="王经理", contact_phone="13800000000")
    facility.sports.add(sport("badminton"))
    make_facility(tree.k2, name="长水健身步道", category="trail", units=0)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=2)
    for unit in facility.units.all():
        for h in range(3):
            Slot.objects.create(unit=unit, facility=facility, capacity=4, booked=h,
                                start=start + dt.timedelta(hours=h),
                                end=start + dt.timedelta(hours=h + 1))
    dance = Group.objects.create(name="南湖广场舞队", sport=sport("square-dance"),
                                 region=tree.k1, status="active", invite_code="inv-dance",
                                 lat=30.75, lng=120.75, description="每晚七点")
    chess = Group.objects.create(name="象棋社", sport=sport("xiangqi"),
                                 region=tree.k1, status="active", invite_code="inv-chess")
    acts = [GroupActivity.objects.create(group=g, title=f"活动{i}", capacity=20, taken=i,
                                         starts_at=start + dt.timedelta(days=i),
                                         ends_at=start + dt.timedelta(days=i, hours=1),
                                         check_in_code=f"code-{g.pk}-{i}", place="南湖")
            for g in (dance, chess) for i in range(2)]
    event = make_event(tree.t1, sport=sport("running"), age_min=18, facility=facility)
    return {"facility": facility, "dance": dance, "chess": chess, "acts": acts, "event": event}


def all_items(client, kind: str) -> list[dict]:
    url, out = f"/openactive/{kind}/", []
    while True:
        body = client.get(url).json()
        out += body["items"]
        if not body["items"]:
            return out
        url = body["next"].split("testserver", 1)[1]


def test_sync_publishes_only_physical_public_items_without_personal_data(tree, client):
    s = seed(tree)
    result = feeds.sync()
    assert result.per_kind == {"facility-uses": 2, "slots": 6, "session-series": 2,
                               "scheduled-sessions": 3}
    ids = set(FeedItem.objects.values_list("item_id", flat=True))
    assert f"group-{s['dance'].pk}" in ids and f"group-{s['chess'].pk}" not in ids
    text = "".join(FeedItem.objects.values_list("data", flat=True))
    assert "13800000000" not in text and "王经理" not in text
    facility = json.loads(FeedItem.objects.get(item_id=f"facility-{s['facility'].pk}").data)
    assert [u["identifier"] for u in facility["individualFacilityUse"]] == [
        f"unit-{u.pk}" for u in s["facility"].units.order_by("position")]
    assert facility["activity"][0]["prefLabel"] == "羽毛球"


def test_a_second_sync_writes_nothing_and_a_change_gets_a_higher_modified(tree):
    s = seed(tree)
    feeds.sync()
    top = max(FeedItem.objects.values_list("modified", flat=True))
    assert feeds.sync().per_kind == {"facility-uses": 0, "slots": 0, "session-series": 0,
                                     "scheduled-sessions": 0}
    Group.objects.filter(pk=s["dance"].pk).update(name="南湖排舞队")
    feeds.sync()
    item = FeedItem.objects.get(kind="session-series", item_id=f"group-{s['dance'].pk}")
    assert item.modified == top + 1 and "南湖排舞队" in item.data


def test_vanished_and_no_longer_public_items_become_deleted_without_data(tree, client):
    s = seed(tree)
    feeds.sync()
    Group.objects.filter(pk=s["dance"].pk).update(status="closed")
    feeds.sync()
    items = {i["id"]: i for i in all_items(client, "session-series")}
    deleted = items[f"group-{s['dance'].pk}"]
    assert deleted == {"state": "deleted", "kind": "SessionSeries",
                       "id": f"group-{s['dance'].pk}", "modified": deleted["modified"]}
    sessions = {i["id"]: i["state"] for i in all_items(client, "scheduled-sessions")}
    assert sessions[f"activity-{s['acts'][0].pk}"] == "deleted"
    # published again: updated, with a new modified
    Group.objects.filter(pk=s["dance"].pk).update(status="active")
    feeds.sync()
    again = {i["id"]: i for i in all_items(client, "session-series")}[f"group-{s['dance'].pk}"]
    assert again["state"] == "updated" and again["modified"] > deleted["modified"]


def test_pages_follow_modified_then_id_with_absolute_next_and_rpde_headers(tree, client,
                                                                            monkeypatch):
    seed(tree)
    feeds.sync()
    monkeypatch.setattr(feeds, "PAGE_SIZE", 4)
    monkeypatch.setattr(feeds.page, "__defaults__", (4,))
    first = client.get("/openactive/slots/")
    assert first["Content-Type"] == "application/json; charset=utf-8"
    assert first["Cache-Control"] == "public, max-age=3600"
    body = first.json()
    assert body["license"] == feeds.LICENSE and len(body["items"]) == 4
    keys = [(i["modified"], i["id"]) for i in body["items"]]
    assert keys == sorted(keys)
    assert body["next"] == (f"http://testserver/openactive/slots/?afterTimestamp={keys[-1][0]}"
                            f"&afterId={keys[-1][1]}")
    second = client.get(body["next"].removeprefix("http://testserver")).json()
    assert len(second["items"]) == 2 and second["items"][0]["modified"] > keys[-1][0]
    last_url = second["next"].removeprefix("http://testserver")
    last = client.get(last_url)
    assert last.json()["items"] == [] and last.json()["next"] == second["next"]
    assert last["Cache-Control"] == "public, max-age=8"


@pytest.mark.parametrize("query", ["afterTimestamp=x&afterId=a", "afterTimestamp=3",
                                   "afterId=slot-1"])
def test_a_bad_cursor_is_refused_with_a_code(db, client, query):
    response = client.get(f"/openactive/slots/?{query}")
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


def test_an_unknown_feed_is_not_found(db, client):
    assert client.get("/openactive/people/").status_code == 404


def test_dataset_site_embeds_the_dataset_with_every_feed(tree, client):
    seed(tree)
    feeds.sync()
    response = client.get("/openactive/")
    assert response.status_code == 200
    html = response.content.decode()
    ld = json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert ld["@type"] == "Dataset" and ld["license"] == feeds.LICENSE
    assert [d["additionalType"] for d in ld["distribution"]] == [
        "https://openactive.io/FacilityUse", "https://openactive.io/Slot",
        "https://openactive.io/SessionSeries", "https://openactive.io/ScheduledSession"]
    assert ld["inLanguage"] == ["zh-CN"] and "dateModified" in ld
    assert html.count("/openactive/slots/") >= 2  # in the JSON-LD and the table


def node(mode: str, arg: str) -> dict:
    done = subprocess.run(["node", str(TOOLS / "validate.js"), mode, arg], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_node
def test_every_item_passes_the_openactive_data_model_validator(tree, tmp_path):
    seed(tree)
    feeds.sync()
    items = [json.loads(d) for d in FeedItem.objects.exclude(data="").values_list("data",
                                                                                   flat=True)]
    assert {i["@type"] for i in items} == {"FacilityUse", "Slot", "SessionSeries",
                                           "ScheduledSession"}
    file = tmp_path / "items.json"
    file.write_text(json.dumps({"items": items}), encoding="utf-8")
    out = node("items", str(file))
    assert out["failures"] == [], json.dumps(out["failures"], ensure_ascii=False, indent=1)


@needs_node
def test_the_dataset_passes_the_data_model_validator(tree, tmp_path, rf):
    from sportsman.interfaces.views_openactive import dataset

    file = tmp_path / "dataset.json"
    file.write_text(json.dumps({"items": [dataset(rf.get("/openactive/"))],
                                "mode": "DatasetSite"}), encoding="utf-8")
    out = node("items", str(file))
    assert out["failures"] == [], json.dumps(out["failures"], ensure_ascii=False, indent=1)


@needs_node
def test_the_feeds_pass_the_rpde_validator_before_and_after_changes(transactional_db,
                                                                    live_server, tree,
                                                                    monkeypatch):
    s = seed(tree)
    monkeypatch.setattr(feeds.page, "__defaults__", (2,))  # several pages from a small set
    feeds.sync()

    def check() -> None:
        for kind in ("facility-uses", "slots", "session-series", "scheduled-sessions"):
            out = node("rpde", f"{live_server.url}/openactive/{kind}/")
            assert out["failures"] == [], (kind, out["failures"])

    check()
    Group.objects.filter(pk=s["dance"].pk).update(name="南湖排舞队")
    Slot.objects.filter(facility=s["facility"]).order_by("id").first().delete()
    GroupActivity.objects.filter(pk=s["acts"][1].pk).update(status="cancelled")
    feeds.sync()
    assert FeedItem.objects.filter(is_deleted=True).count() == 1
    check()
