"""Assessment pages through the Django test client: the list with the index panel, opening a
draft, the score sheet with inline manual scores (errors kept on the page), manual items,
recompute, publishing after confirmation, the printable ranking and its xlsx, corrections, the
city's index configuration — and who is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from sportsman.cockpit.models.assessment import Assessment, IndexConfig, ItemScore
from sportsman.cockpit.tests.scope_cases_assessment import (
    configure,
    put_figures,
    t1_assessment,
    this_month,
)
from tests.scope import xlsx_text

pytestmark = pytest.mark.django_db


def _client(user, region=None) -> Client:
    client = Client()
    client.force_login(user)
    if region is not None:
        assert client.post(reverse("console:switch_region"),
                           {"region": region.pk}).status_code == 302
    return client


def _page(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.content.decode()


def test_the_nav_and_the_list_show_the_index_and_the_assessments(tree):
    a = t1_assessment(tree)
    town = _client(tree.town_admin)
    home = _page(town.get(reverse("console:home")))
    assert 'id="nav-assessments"' in home
    page = _page(town.get(reverse("cockpit:assessments")))
    assert f'id="assessment-{a.pk}"' in page and 'id="cockpit-index"' in page
    assert 'id="index-value">100.0<' in page and 'id="new-assessment"' in page
    community = _page(_client(tree.community_admin).get(reverse("cockpit:assessments")))
    assert 'id="nav-assessments"' not in community and f"assessment-{a.pk}" not in community
    assert 'id="made"' not in community and 'id="received"' in community
    assert _client(tree.venue_manager).get(reverse("cockpit:assessments")).status_code == 403


def test_opening_a_draft_from_the_page(tree):
    put_figures(tree)
    configure(tree)
    town = _client(tree.town_admin)
    form = _page(town.get(reverse("cockpit:assessment_new")))
    assert f'value="{this_month().key}"' in form

    bad = _page(town.post(reverse("cockpit:assessment_new"), {
        "period": this_month().key, "item-name-0": "组织保障", "item-max-0": "0"}), 400)
    assert "组织保障" in bad and 'class="error"' in bad
    assert not Assessment.objects.exists()

    done = town.post(reverse("cockpit:assessment_new"), {
        "period": this_month().key, "item-name-0": "组织保障", "item-max-0": "10"})
    a = Assessment.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("cockpit:assessment",
                                                                   args=[a.pk])
    again = _page(town.post(reverse("cockpit:assessment_new"),
                            {"period": this_month().key}), 409)
    assert "form-errors" in again and Assessment.objects.count() == 1


def test_scores_are_entered_inline_and_errors_keep_the_input(tree):
    a = t1_assessment(tree)
    item = a.items.get(kind="manual")
    entries = {e.region_id: e.pk for e in a.entries.all()}
    k1, k2 = f"{entries[tree.k1.pk]}-{item.pk}", f"{entries[tree.k2.pk]}-{item.pk}"
    town = _client(tree.town_admin)
    sheet = _page(town.get(reverse("cockpit:assessment", args=[a.pk])))
    assert f'name="p-{k1}"' in sheet and 'id="publish-link"' in sheet

    bad = _page(town.post(reverse("cockpit:assessment", args=[a.pk]), {
        f"p-{k1}": "7", f"n-{k1}": "", f"p-{k2}": "12", f"n-{k2}": "太多"}), 400)
    assert 'value="12"' in bad and 'value="太多"' in bad and 'class="error"' in bad
    assert not ItemScore.objects.filter(item=item, points__isnull=False).exists()

    done = town.post(reverse("cockpit:assessment", args=[a.pk]), {
        f"p-{k1}": "7", f"n-{k1}": "按时报送", f"p-{k2}": "9", f"n-{k2}": ""})
    assert done.status_code == 302
    assert ItemScore.objects.get(item=item, entry__region=tree.k1).note == "按时报送"
    sheet = _page(town.get(reverse("cockpit:assessment", args=[a.pk])))
    assert 'id="missing">0<' in sheet


def test_manual_items_and_recompute_from_the_sheet(tree):
    a = t1_assessment(tree)
    town = _client(tree.town_admin)
    bad = _page(town.post(reverse("cockpit:assessment_items", args=[a.pk]), {
        "item-name-0": "组织保障", "item-max-0": "10", "item-name-1": "组织保障",
        "item-max-1": "5"}), 400)
    assert 'class="error"' in bad
    done = town.post(reverse("cockpit:assessment_items", args=[a.pk]), {
        "item-name-0": "组织保障", "item-max-0": "10", "item-name-2": "宣传推广",
        "item-max-2": "5"})
    assert done.status_code == 302
    assert list(a.items.filter(kind="manual").values_list("name", flat=True)) == [
        "组织保障", "宣传推广"]
    Assessment.objects.filter(pk=a.pk).update(computed_at=None)
    assert town.post(reverse("cockpit:assessment_recompute", args=[a.pk])).status_code == 302
    assert Assessment.objects.get(pk=a.pk).computed_at is not None


def test_publishing_after_a_confirmation_then_the_ranking_and_its_xlsx(tree):
    a = t1_assessment(tree, scored={"k1": 8, "k2": 6})
    town = _client(tree.town_admin)
    confirm = _page(town.get(reverse("cockpit:assessment_publish", args=[a.pk])))
    assert 'id="confirm-publish"' in confirm and "disabled" not in confirm
    assert Assessment.objects.get(pk=a.pk).status == "draft"  # a GET changes nothing

    done = town.post(reverse("cockpit:assessment_publish", args=[a.pk]))
    assert done.status_code == 302
    assert done["Location"] == reverse("cockpit:assessment_ranking", args=[a.pk])
    assert Assessment.objects.get(pk=a.pk).status == "published"

    ranking = _page(_client(tree.community_admin).get(done["Location"]))
    assert "花园社区" in ranking and 'data-rank="1"' in ranking and "89.00" in ranking
    assert "print-only" in ranking
    sheet = _page(town.get(reverse("cockpit:assessment", args=[a.pk])))
    assert "name=\"p-" not in sheet and 'id="revise-link"' in sheet
    xlsx = town.get(reverse("cockpit:assessment_xlsx", args=[a.pk]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    text = xlsx_text(xlsx)
    assert "花园社区".encode() in text and "组织保障".encode() in text
    assert b"89" in text


def test_a_correction_from_the_page(tree):
    a = t1_assessment(tree, published=True)
    town = _client(tree.town_admin)
    assert 'id="open-correction"' in _page(town.get(reverse("cockpit:assessment_revise",
                                                            args=[a.pk])))
    assert town.post(reverse("cockpit:assessment_revise", args=[a.pk]),
                     {"reason": ""}).status_code == 400
    done = town.post(reverse("cockpit:assessment_revise", args=[a.pk]), {"reason": "数据更正"})
    new = Assessment.objects.get(supersedes=a)
    assert done["Location"] == reverse("cockpit:assessment", args=[new.pk])
    page = _page(town.get(done["Location"]))
    assert "数据更正" in page and 'id="publish-link"' in page
    old = _page(town.get(reverse("cockpit:assessment", args=[a.pk])))
    assert 'id="corrected"' in old


def test_others_are_refused(tree):
    a = t1_assessment(tree)
    sibling = _client(tree.sibling_town_admin)
    for name in ("cockpit:assessment", "cockpit:assessment_ranking", "cockpit:assessment_xlsx",
                 "cockpit:assessment_publish"):
        assert sibling.get(reverse(name, args=[a.pk])).status_code == 404, name
    assert sibling.post(reverse("cockpit:assessment_publish", args=[a.pk])).status_code == 404
    community = _client(tree.community_admin)
    assert community.get(reverse("cockpit:assessment", args=[a.pk])).status_code == 404
    assert community.post(reverse("cockpit:assessment_recompute",
                                  args=[a.pk])).status_code == 403
    assert Assessment.objects.get(pk=a.pk).status == "draft"
    anonymous = Client().get(reverse("cockpit:assessment", args=[a.pk]))
    assert anonymous.status_code == 302


def test_the_city_configures_the_index_on_its_page(tree):
    city = _client(tree.city_admin)
    page = _page(city.get(reverse("cockpit:index_config")))
    assert 'id="save-config"' in page and 'value="regular_share" selected' in page  # suggested
    bad = _page(city.post(reverse("cockpit:index_config"), {
        "ind-figure-0": "utilisation", "ind-weight-0": "0", "ind-direction-0": "higher",
        "ind-normalisation-0": "minmax"}), 400)
    assert 'class="error"' in bad and not IndexConfig.objects.exists()
    done = city.post(reverse("cockpit:index_config"), {
        "ind-figure-0": "utilisation", "ind-weight-0": "2", "ind-direction-0": "higher",
        "ind-normalisation-0": "minmax",
        "ind-figure-3": "regular_share", "ind-weight-3": "1", "ind-direction-3": "higher",
        "ind-normalisation-3": "target", "ind-target-3": "38.5", "note": "试行"})
    assert done.status_code == 302
    config = IndexConfig.objects.get()
    assert [(i.figure, float(i.weight), i.target) for i in config.indicators.all()] == [
        ("utilisation", 66.67, None), ("regular_share", 33.33, Decimal("38.5"))]
    page = _page(city.get(reverse("cockpit:index_config")))
    assert 'id="current-config"' in page and 'id="config-history"' in page and "试行" in page
    assert _client(tree.district_admin).get(reverse("cockpit:index_config")).status_code == 403
