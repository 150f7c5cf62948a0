"""Scope-matrix cases of the sensitive-word list (collected by tests/test_scope_matrix.py): the
list of 嘉兴市, kept by its city staff; another city's staff and district staff are refused."""

from __future__ import annotations

from tests.scope import CITY_LEVEL, Case, ids


def _word(tree):
    from sportsman.core.models import SensitiveWord

    return {"word": SensitiveWord.objects.create(word="代开发票", region=tree.city)}


def _added(tree, state) -> bool:
    from sportsman.core.models import SensitiveWord

    return SensitiveWord.objects.filter(word="刷单", region=tree.city).exists()


def _removed(tree, state) -> bool:
    from sportsman.core.models import SensitiveWord

    return not SensitiveWord.objects.filter(pk=state["word"].pk).exists()


CASES: list[Case] = [
    Case("wording.list (sees the city's word)", op="GET /console/sensitive-words", setup=_word,
         call=lambda c, t, s: c.get("/api/v1/console/sensitive-words"),
         sees=lambda r, t, s: r.status_code == 200 and s["word"].pk in ids(r), cast=CITY_LEVEL),
    Case("wording.add to the city's list", op="POST /console/sensitive-words",
         call=lambda c, t, s: c.json("post", "/api/v1/console/sensitive-words",
                                     {"region_id": t.city.pk, "word": "刷单"}),
         changed=_added, cast=CITY_LEVEL),
    Case("wording.remove from the city's list", op="DELETE /console/sensitive-words/{word_id}",
         setup=_word,
         call=lambda c, t, s: c.delete(f"/api/v1/console/sensitive-words/{s['word'].pk}"),
         changed=_removed, cast=CITY_LEVEL),
]
