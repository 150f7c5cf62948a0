"""The index and assessment API: the shapes, idempotent writes, refusals in the one error shape,
and no N+1 on the score sheet."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.cockpit.models.assessment import Assessment, IndexConfig, ItemScore
from sportsman.cockpit.tests.scope_cases_assessment import (
    configure,
    put_figures,
    t1_assessment,
    this_month,
)

pytestmark = pytest.mark.django_db


def _url(path: str) -> str:
    return f"/api/v1/cockpit/{path}"


def test_create_with_an_idempotency_key_replays_and_without_one_conflicts(tree, api_client):
    put_figures(tree)
    configure(tree)
    client = api_client.as_user(tree.town_admin)
    body = {"period": this_month().key, "manual_items": [{"name": "组织保障", "max_score": 10}]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-t1-1"}

    first = client.json("post", _url(f"{tree.t1.code}/assessments"), body, **headers)
    again = client.json("post", _url(f"{tree.t1.code}/assessments"), body, **headers)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Assessment.objects.count() == 1
    other = client.json("post", _url(f"{tree.t1.code}/assessments"), body)
    assert other.status_code == 409 and other.json()["code"] == "assessment_exists"
    detail = first.json()
    assert detail["status"] == "draft" and detail["missing"] == 2 and detail["can_manage"]
    assert [i["max_score"] for i in detail["items"]] == [45.0, 27.0, 18.0, 10.0]
    k1 = next(e for e in detail["entries"] if e["region"]["code"] == tree.k1.code)
    assert (k1["total"], k1["rank"]) == (81.0, 1)
    assert [c["points"] for c in k1["cells"]] == [45.0, 27.0, 9.0, None]


def test_bad_input_gets_the_error_shape_and_changes_nothing(tree, api_client):
    put_figures(tree)
    client = api_client.as_user(tree.town_admin)
    bad_period = client.json("post", _url(f"{tree.t1.code}/assessments"), {"period": "2026-13"})
    assert bad_period.status_code == 400 and bad_period.json()["code"] == "bad_period"
    bad_items = client.json("post", _url(f"{tree.t1.code}/assessments"), {
        "period": this_month().key, "manual_items": [{"name": "", "max_score": 10}]})
    assert bad_items.status_code == 400
    assert bad_items.json()["code"] == "bad_manual_items"
    assert "manual_items.0.name" in bad_items.json()["fields"]
    unknown = client.json("post", _url(f"{tree.t1.code}/assessments"),
                          {"period": this_month().key, "colour": "red"})
    assert unknown.status_code == 400
    assert not Assessment.objects.exists()


def test_scores_are_put_all_or_nothing(tree, api_client):
    a = t1_assessment(tree)
    item = a.items.get(kind="manual")
    client = api_client.as_user(tree.town_admin)
    url = _url(f"assessments/{a.pk}/scores")

    refused = client.json("put", url, {"scores": [
        {"region": tree.k1.code, "item": item.pk, "points": 5},
        {"region": tree.k2.code, "item": item.pk, "points": 11},
        {"region": tree.k3.code, "item": item.pk, "points": 1}]})

    assert refused.status_code == 400 and refused.json()["code"] == "bad_scores"
    assert set(refused.json()["fields"]) == {"scores.1.points", "scores.2.region"}
    assert not ItemScore.objects.filter(item=item, points__isnull=False).exists()

    done = client.json("put", url, {"scores": [
        {"region": tree.k1.code, "item": item.pk, "points": 5, "note": "好"},
        {"region": tree.k2.code, "item": item.pk, "points": "9.5"}]})
    assert done.status_code == 200 and done.json()["missing"] == 0
    totals = {e["region"]["code"]: e["total"] for e in done.json()["entries"]}
    assert totals == {tree.k1.code: 86.0, tree.k2.code: 27.5}


def test_publish_then_publish_again_conflicts_and_a_subunit_reads_it(tree, api_client):
    a = t1_assessment(tree, scored={"k1": 8, "k2": 6})
    client = api_client.as_user(tree.town_admin)

    first = client.post(_url(f"assessments/{a.pk}/publish"))
    again = client.post(_url(f"assessments/{a.pk}/publish"))

    assert first.status_code == 200 and first.json()["status"] == "published"
    assert again.status_code == 409 and again.json()["code"] == "assessment_state"
    frozen = client.json("put", _url(f"assessments/{a.pk}/scores"), {"scores": [
        {"region": tree.k1.code, "item": a.items.get(kind="manual").pk, "points": 1}]})
    assert frozen.status_code == 409
    k1 = api_client.as_user(tree.community_admin).get(_url(f"assessments/{a.pk}"))
    assert k1.status_code == 200 and k1.json()["can_manage"] is False
    received = api_client.as_user(tree.community_admin).get(
        _url(f"{tree.k1.code}/assessments?scope=received"))
    assert [x["id"] for x in received.json()["items"]] == [a.pk]
    revised = client.json("post", _url(f"assessments/{a.pk}/revise"), {"reason": "更正"})
    assert revised.status_code == 201 and revised.json()["revision"] == 2
    assert revised.json()["supersedes"] == a.pk


def test_the_list_filters_by_kind_and_status(tree, api_client):
    a = t1_assessment(tree)
    client = api_client.as_user(tree.district_admin)
    made = client.get(_url(f"{tree.t1.code}/assessments?grain=month&status=draft"))
    assert [x["id"] for x in made.json()["items"]] == [a.pk]
    assert made.json()["items"][0]["period"] == a.period
    none = client.get(_url(f"{tree.t1.code}/assessments?grain=year"))
    assert none.json()["items"] == []


def test_the_score_sheet_costs_the_same_queries_whatever_its_size(tree, api_client):
    a = t1_assessment(tree, manual=(("组织保障", 5),))
    client = api_client.as_user(tree.town_admin)
    with CaptureQueriesContext(connection) as small:
        assert client.get(_url(f"assessments/{a.pk}")).status_code == 200
    client.json("put", _url(f"assessments/{a.pk}/items"), {"manual_items": [
        {"name": f"项目{n}", "max_score": 2} for n in range(6)]})
    with CaptureQueriesContext(connection) as big:
        assert client.get(_url(f"assessments/{a.pk}")).status_code == 200
    assert len(big) == len(small)


def test_the_index_and_its_configuration(tree, api_client):
    put_figures(tree)
    city = api_client.as_user(tree.city_admin)
    empty = city.get(_url(f"{tree.city.code}/index-config"))
    assert empty.status_code == 200 and empty.json()["version"] is None
    assert "exercise_minutes_per_resident" in {c["key"] for c in empty.json()["available"]}
    bad = city.json("put", _url(f"{tree.city.code}/index-config"), {"indicators": [
        {"figure": "nope", "weight": 1}]})
    assert bad.status_code == 400 and "indicators.0.figure" in bad.json()["fields"]
    saved = city.json("put", _url(f"{tree.city.code}/index-config"), {"indicators": [
        {"figure": "active_share_30d", "weight": 5},
        {"figure": "exercise_minutes_per_resident", "weight": 3},
        {"figure": "regular_share", "weight": 2, "normalisation": "target", "target": 40}],
        "note": "试行"}, HTTP_IDEMPOTENCY_KEY="config-1")
    assert saved.status_code == 200 and saved.json()["version"] == 1
    assert [i["weight"] for i in saved.json()["indicators"]] == [50.0, 30.0, 20.0]
    assert IndexConfig.objects.count() == 1
    assert city.json("put", _url(f"{tree.d1.code}/index-config"), {"indicators": [
        {"figure": "utilisation", "weight": 1}]}).json()["code"] == "not_a_city"

    got = api_client.as_user(tree.district_admin).get(
        _url(f"{tree.d1.code}/index?period={this_month().key}"))
    body = got.json()
    assert got.status_code == 200 and body["config_version"] == 1
    assert [(c["region"]["code"], c["index"], c["rank"]) for c in body["children"]] == [
        (tree.t1.code, 100.0, 1), (tree.t2.code, 5.0, 2)]
    town = api_client.as_user(tree.town_admin).get(_url(f"{tree.t1.code}/index"))
    assert town.json()["index"] == 100.0 and town.json()["rank"] == 1
    assert [p["points"] for p in town.json()["parts"]] == [50.0, 30.0, 20.0]


def test_the_list_costs_the_same_queries_whatever_its_length(tree, api_client):
    from sportsman.cockpit import assessment as svc
    from sportsman.cockpit import periods
    from sportsman.regions.access import access_for_user

    t1_assessment(tree)
    client = api_client.as_user(tree.town_admin)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(_url(f"{tree.t1.code}/assessments")).json()["items"]) == 1
    for key in ("2026-01", "2026-Q1", "2025"):
        svc.create_assessment(actor=access_for_user(tree.town_admin), region=tree.t1,
                              period=periods.parse(key), manual_items=[])
    with CaptureQueriesContext(connection) as four:
        assert len(client.get(_url(f"{tree.t1.code}/assessments")).json()["items"]) == 4
    assert len(four) == len(one)
