"""Recommendations: they follow behaviour, opt-out is immediate, cold start works, serving
never trains, bad input gets codes, pages render in zh-Hans."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.accounts.models import Consent
from sportsman.core.models import Sport
from sportsman.facilities.models import Visit
from sportsman.facilities.tests.factories import make_facility
from sportsman.recommend import services
from sportsman.recommend.models import Recommendation


def _sport(slug: str) -> Sport:
    return Sport.objects.get_or_create(slug=slug, defaults={"name_zh": slug, "name_en": slug})[0]


def _consent(user, granted=True):
    Consent.objects.create(user=user, purpose="recommend", version="t", granted=granted)


def _visits(user, facility, n, *, sport=None, days_ago=30):
    start = timezone.now() - dt.timedelta(days=days_ago)
    Visit.objects.bulk_create([Visit(
        user=user, facility=facility, sport=sport, source="facility_qr",
        started_at=start + dt.timedelta(days=i, hours=1), closed_by="user",
        ended_at=start + dt.timedelta(days=i, hours=2)) for i in range(n)])


@pytest.fixture
def city(tree):
    badminton, swimming = _sport("badminton"), _sport("swimming")
    places = {}
    for name, region, sport in [("A", tree.k1, badminton), ("D", tree.k3, badminton),
                                ("B", tree.k1, swimming), ("E", tree.k3, swimming)]:
        f = make_facility(region, name=f"场地{name}", units=0)
        f.sports.add(sport)
        places[name] = f
    # Two kinds of neighbours: badminton players (A and D), swimmers (B and E).
    for i in range(8):
        u = tree.user(home_community=tree.k2, nickname=f"b{i}")
        _visits(u, places["A"], 3, sport=badminton)
        _visits(u, places["D"], 3, sport=badminton, days_ago=20)
        s = tree.user(home_community=tree.k2, nickname=f"s{i}")
        _visits(s, places["B"], 3, sport=swimming)
        _visits(s, places["E"], 3, sport=swimming, days_ago=20)
    me = tree.user(home_community=tree.k2, nickname="me")
    _consent(me)
    return {"me": me, "places": places, "badminton": badminton, "swimming": swimming,
            "tree": tree}


def _facility_order(user):
    return list(Recommendation.objects.filter(user=user, kind="facility").order_by("rank")
                .values_list("object_id", flat=True))


def test_recommendations_change_when_behaviour_changes(city):
    me, p = city["me"], city["places"]
    _visits(me, p["A"], 4, sport=city["badminton"])
    services.recompute_all()
    before = _facility_order(me)
    assert before.index(p["D"].pk) < before.index(p["E"].pk)
    # The resident takes up swimming: many visits to B, and the next recompute says so.
    _visits(me, p["B"], 12, sport=city["swimming"], days_ago=14)
    services.recompute_all()
    after = _facility_order(me)
    assert after.index(p["E"].pk) < after.index(p["D"].pk)
    assert Recommendation.objects.filter(user=me, object_id=p["E"].pk,
                                         kind="facility").get().model_version_id


def test_one_resident_recompute_reflects_new_visits_without_training(city, monkeypatch):
    me, p = city["me"], city["places"]
    services.recompute_all()
    _visits(me, p["B"], 12, sport=city["swimming"], days_ago=14)

    def no_training(*args, **kwargs):
        raise AssertionError("the one-resident recompute must not train")

    monkeypatch.setattr("sportsman.recommend.engine.train", no_training)
    monkeypatch.setattr("implicit.cpu.als.AlternatingLeastSquares.fit", no_training)
    assert services.recompute_user(me.pk) > 0
    order = _facility_order(me)
    assert order.index(p["E"].pk) < order.index(p["D"].pk)


def test_cold_start_uses_interests_and_home(city):
    tree = city["tree"]
    newcomer = tree.user(home_community=tree.k3, nickname="new")
    newcomer.interests.add(city["swimming"])
    _consent(newcomer)
    services.recompute_all()
    rows = list(Recommendation.objects.filter(user=newcomer, kind="facility").order_by("rank"))
    assert rows[0].object_id == city["places"]["E"].pk  # swimming, in the home community
    assert rows[0].reason in ("interest", "near_home")
    assert "interests" in rows[0].params["used"]
    assert not {"visits", "similar_residents"} & set(rows[0].params["used"])


def test_serving_reads_rows_only(city, api_client, django_assert_max_num_queries, monkeypatch):
    me = city["me"]
    _visits(me, city["places"]["A"], 4, sport=city["badminton"])
    services.recompute_all()
    client = api_client.as_user(me)

    def no_training(*args, **kwargs):
        raise AssertionError("serving must not train")

    monkeypatch.setattr("sportsman.recommend.engine.train", no_training)
    monkeypatch.setattr("sportsman.recommend.engine.score_batch", no_training)
    monkeypatch.setattr("implicit.cpu.als.AlternatingLeastSquares.fit", no_training)
    with django_assert_max_num_queries(5):
        answer = client.get("/api/v1/recommendations?limit=2")
    assert answer.status_code == 200
    body = answer.json()
    assert body["personalised"] is True and len(body["items"]) == 2
    assert body["next_cursor"]
    more = client.get(f"/api/v1/recommendations?limit=2&cursor={body['next_cursor']}").json()
    assert {i["rank"] for i in more["items"]}.isdisjoint({i["rank"] for i in body["items"]})
    only = client.get("/api/v1/recommendations?kind=facility").json()["items"]
    assert only and {i["kind"] for i in only} == {"facility"}


def test_a_personal_page_costs_the_token_and_one_statement(city, api_client,
                                                          django_assert_num_queries):
    me = city["me"]
    _visits(me, city["places"]["A"], 4, sport=city["badminton"])
    services.recompute_all()
    client = api_client.as_user(me)
    first = client.get("/api/v1/recommendations?limit=3").json()
    with django_assert_num_queries(2):
        again = client.get("/api/v1/recommendations?limit=3").json()
    assert again == first and first["personalised"] is True and len(first["items"]) == 3


def test_the_lean_answer_is_what_the_schema_makes_of_the_same_rows(city, api_client):
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from sportsman.recommend.api import ForYouOut, RecommendationOut
    from sportsman.recommend.explain import data_used, reason_text
    from sportsman.recommend.models import PopularChoice

    me = city["me"]
    _visits(me, city["places"]["A"], 4, sport=city["badminton"])
    services.recompute_all()
    top = Recommendation.objects.filter(user=me, kind="facility").order_by("rank").first()
    assert top is not None
    Recommendation.objects.filter(pk=top.pk).update(params={
        **top.params, "slot_id": 77, "slot_start": "2026-12-08T10:00:00.123456+00:00"})
    client = api_client.as_user(me)

    def expected(rows, personal, limit):
        items = [RecommendationOut(
            kind=r.kind, object_id=r.object_id, rank=r.rank, score=r.score, title=r.title,
            link=r.link, reason=r.reason if personal else "popular",
            reason_text=reason_text(r.reason if personal else "popular", r.params),
            personal=personal, slot_id=r.params.get("slot_id"),
            slot_start=r.params.get("slot_start"), data_used=data_used(r.params),
            computed_at=r.computed_at) for r in rows[:limit]]
        page = ForYouOut(personalised=personal, items=items, next_cursor=None)
        body = json.loads(json.dumps(page.model_dump(), cls=DjangoJSONEncoder))
        body.pop("next_cursor")
        return body

    def rows_of(personal, kind):
        source = (Recommendation.objects.filter(user=me) if personal else
                  PopularChoice.objects.filter(community_id=me.home_community_id))
        return list((source.filter(kind=kind) if kind else source).order_by("rank"))

    for consented in (True, False):
        if not consented:
            _consent(me, granted=False)
        for kind in ("", "facility", "group"):
            rows = rows_of(consented, kind)
            # consented but nothing of this kind computed: the non-personal choices
            personal = consented and bool(rows)
            rows = rows if personal else rows_of(False, kind)
            for model_row in rows:  # PopularChoice has no reason of its own
                model_row.reason = getattr(model_row, "reason", "popular")
            got = client.get(f"/api/v1/recommendations?limit=4&kind={kind}").json()
            got.pop("next_cursor")
            assert got == expected(rows, personal, 4), (consented, kind)
            if consented and kind == "facility":
                assert got["items"][0]["slot_start"] == "2026-12-08T10:00:00.123Z"


def test_opt_out_stops_personal_recommendations_at_once(city, api_client, client):
    me = city["me"]
    _visits(me, city["places"]["A"], 4, sport=city["badminton"])
    services.recompute_all()
    api = api_client.as_user(me)
    assert api.get("/api/v1/recommendations").json()["personalised"] is True
    answer = api.json("put", "/api/v1/recommendations/personalisation", {"on": False})
    assert answer.status_code == 200
    assert not Recommendation.objects.filter(user=me).exists()
    body = api.get("/api/v1/recommendations").json()
    assert body["personalised"] is False
    assert body["items"] and {i["reason"] for i in body["items"]} == {"popular"}
    assert all(i["personal"] is False for i in body["items"])
    client.force_login(me)
    page = client.get("/for-you/why/")
    assert page.status_code == 200
    assert b'data-consented="0"' in page.content
    assert b'data-reason="habit"' not in page.content


def test_withdrawing_consent_through_accounts_takes_effect_on_the_next_request(city,
                                                                               api_client):
    me = city["me"]
    services.recompute_all()
    api = api_client.as_user(me)
    assert api.get("/api/v1/recommendations").json()["personalised"] is True
    _consent(me, granted=False)  # e.g. PUT /api/v1/me/consents/recommend
    assert api.get("/api/v1/recommendations").json()["personalised"] is False


@pytest.mark.parametrize(("query", "code"), [
    ("kind=stadium", "unknown_kind"),
    ("cursor=%21%21%21", "bad_cursor"),
    ("cursor=eDE", "bad_cursor"),
])
def test_bad_input_gets_a_code(city, api_client, query, code):
    answer = api_client.as_user(city["me"]).get(f"/api/v1/recommendations?{query}")
    assert answer.status_code == 400
    assert answer.json()["code"] == code


@pytest.mark.parametrize("query", ["limit=0", "limit=51", "limit=x"])
def test_bad_limit_is_refused(city, api_client, query):
    answer = api_client.as_user(city["me"]).get(f"/api/v1/recommendations?{query}")
    assert answer.status_code in (400, 422)
    assert answer.json()["code"]


def test_anonymous_is_refused(db, api_client):
    answer = api_client.get("/api/v1/recommendations")
    assert answer.status_code == 401


def test_personalisation_input_is_checked(city, api_client):
    answer = api_client.as_user(city["me"]).json(
        "put", "/api/v1/recommendations/personalisation", {"on": True, "extra": 1})
    assert answer.status_code in (400, 422)
    assert Consent.objects.filter(user=city["me"]).count() == 1


def test_pages_render_in_zh_hans(city, client):
    me = city["me"]
    _visits(me, city["places"]["A"], 4, sport=city["badminton"])
    services.recompute_all()
    client.force_login(me)
    client.cookies["django_language"] = "zh-hans"
    for url in ("/for-you/", "/for-you/?kind=group", "/for-you/?kind=bogus", "/for-you/why/",
                "/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert page.status_code == 200, url
        assert b'lang="zh-hans"' in page.content
    assert b'data-kind="facility"' in client.get("/for-you/").content
    assert b"for-you-strip" in client.get("/").content


def test_switch_page_turns_personalisation_off_and_on(city, client):
    me = city["me"]
    services.recompute_all()
    client.force_login(me)
    client.post("/for-you/personalisation/", {"on": "0"})
    assert not services.is_personalised(me)
    client.post("/for-you/personalisation/", {"on": "1"})
    assert services.is_personalised(me)
