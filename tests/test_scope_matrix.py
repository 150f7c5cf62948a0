"""The scope matrix: every staff operation, run as staff of the right region, of a sibling region,
of the parent and of a child, as a resident and as an anonymous visitor.

Each case acts on something inside town t1 (新嘉街道) — see ``Tree`` in conftest.py. "Allowed"
means a 2xx answer that shows or changes the target; "refused" means 401 (anonymous), 403/404, or a
2xx list that does not contain the target — and, for writes, nothing changed.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.scope import ACTORS, CITY_LEVEL, Case, ids, xlsx_text

pytestmark = pytest.mark.django_db


def _role_setup(tree):
    from sportsman.regions.models import RoleAssignment

    return {"assignment": RoleAssignment.objects.get(user=tree.sibling_community_admin),
            "newcomer": tree.user()}


def _k2_resident(tree):
    return {"resident": tree.user(home_community=tree.k2, nickname="k2-resident")}


def _t1_audit_entry(tree):
    from sportsman.core.audit import record

    return {"entry": record(actor=tree.town_admin, action="matrix.probe", region=tree.t1)}


def _audited_views(tree, state) -> bool:
    from sportsman.core.models import AuditEntry

    return AuditEntry.objects.filter(kind="view", object_id=str(state["resident"].pk)).exists()


CASES: list[Case] = [
    Case("regions.children of t1", op="GET /regions/{region_id}/children",
         call=lambda c, t, s: c.get(f"/api/v1/regions/{t.t1.pk}/children"),
         sees=lambda r, t, s: r.status_code == 200 and t.k2.pk in ids(r)),
    Case("regions.mine", op="GET /regions/mine",
         call=lambda c, t, s: c.get("/api/v1/regions/mine"),
         sees=lambda r, t, s: r.status_code == 200 and bool(
             ids(r) & {t.t1.pk, t.d1.pk, t.city.pk}),
         allowed={"right", "parent"}),
    Case("roles.list (sees k2's community admin)", op="GET /roles",
         setup=_role_setup,
         call=lambda c, t, s: c.get("/api/v1/roles"),
         sees=lambda r, t, s: r.status_code == 200 and s["assignment"].pk in ids(r)),
    Case("roles.grant on k2", op="POST /roles",
         setup=_role_setup,
         call=lambda c, t, s: c.json("post", "/api/v1/roles", {
             "user_id": s["newcomer"].pk, "role": "community_admin", "region_id": t.k2.pk}),
         changed=lambda t, s: s["newcomer"].role_assignments.exists()),
    Case("roles.revoke on k2", op="DELETE /roles/{assignment_id}",
         setup=_role_setup,
         call=lambda c, t, s: c.delete(f"/api/v1/roles/{s['assignment'].pk}"),
         changed=lambda t, s: not type(s["assignment"]).objects.filter(
             pk=s["assignment"].pk).exists()),
    Case("residents.list (sees a k2 resident)", op="GET /residents",
         setup=_k2_resident,
         call=lambda c, t, s: c.get("/api/v1/residents"),
         sees=lambda r, t, s: r.status_code == 200 and s["resident"].pk in ids(r)),
    Case("residents.detail of a k2 resident", op="GET /residents/{user_id}",
         setup=_k2_resident,
         call=lambda c, t, s: c.get(f"/api/v1/residents/{s['resident'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["resident"].pk),
    Case("residents.reveal-phone of a k2 resident", op="POST /residents/{user_id}/reveal-phone",
         setup=_k2_resident,
         call=lambda c, t, s: c.post(f"/api/v1/residents/{s['resident'].pk}/reveal-phone"),
         changed=_audited_views),
    Case("audit.list (sees an entry in t1)", op="GET /audit",
         setup=_t1_audit_entry,
         call=lambda c, t, s: c.get("/api/v1/audit"),
         sees=lambda r, t, s: r.status_code == 200 and s["entry"].pk in ids(r),
         cast=CITY_LEVEL),
    Case("audit.export.xlsx (holds an entry in t1)", op="GET /audit/export.xlsx",
         setup=_t1_audit_entry,
         call=lambda c, t, s: c.get("/api/v1/audit/export.xlsx"),
         sees=lambda r, t, s: r.status_code == 200 and b"matrix.probe" in xlsx_text(r),
         cast=CITY_LEVEL),
]


def _app_cases() -> list[Case]:
    """Cases that apps keep beside their own tests (``sportsman/<app>/tests/scope_cases*.py``)."""
    root = Path(__file__).resolve().parent.parent
    found: list[Case] = []
    for module_file in sorted(root.glob("sportsman/*/tests/scope_cases*.py")):
        name = ".".join(module_file.relative_to(root).with_suffix("").parts)
        found += importlib.import_module(name).CASES
    return found


CASES += _app_cases()


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scope_matrix(request, tree, api_client, case: Case, actor: str):
    if case.midday:
        request.getfixturevalue("midday")
    state = case.setup(tree) if case.setup else {}
    who = case.cast[actor]
    client = api_client.as_user(getattr(tree, who)) if who else api_client
    response = case.call(client, tree, state)
    allowed = actor in case.allowed
    if actor == "anonymous":
        assert response.status_code == 401, response.content
    elif allowed:
        assert 200 <= response.status_code < 300, (actor, response.status_code, response.content)
    else:
        assert response.status_code in (200, 204, 403, 404), (actor, response.status_code)
    if case.sees is not None:
        assert case.sees(response, tree, state) is allowed, (actor, response.content[:300])
    if case.changed is not None:
        assert case.changed(tree, state) is allowed, actor


def test_every_scoped_api_operation_is_in_the_matrix():
    """A new scoped operation must get a case above."""
    from sportsman.regions.access import mark_of
    from tests.test_access_guard import api_operations

    scoped = {f"{method} {re.sub('/+', '/', '/' + path)}"
              for path, op in api_operations() if mark_of(op.view_func)[0] == "scoped"
              for method in op.methods}
    missing = sorted(scoped - {case.op for case in CASES})
    assert not missing, "scoped operations missing from the matrix: " + ", ".join(missing)
