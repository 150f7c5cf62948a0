"""Scope-matrix cases of the groups' staff operations (collected by tests/test_scope_matrix.py):
a group in community k2 (inside town t1), governed by t1's staff and above."""

from __future__ import annotations

from tests.scope import Case, ids


def _pending(tree):
    from sportsman.groups.models import Group
    from sportsman.groups.tests.fixtures import make_group

    group = make_group(tree, name="待批社群")
    Group.objects.filter(pk=group.pk).update(status="pending")
    return {"group": group}


def _active(tree):
    from sportsman.groups.tests.fixtures import make_group

    return {"group": make_group(tree, name="健步走")}


def _reported(tree):
    from sportsman.groups import space
    from sportsman.groups.tests.fixtures import leader_of, make_group, member

    group = make_group(tree, name="排舞群")
    post = space.create_post(actor=leader_of(group), group_id=group.pk, text="广告")
    report = space.report(actor=member(tree, group), group_id=group.pk, post_id=post.pk,
                          reason="广告")
    return {"group": group, "post": post, "report": report}


def _status(state) -> str:
    state["group"].refresh_from_db()
    return state["group"].status


def _handled(tree, state) -> bool:
    state["report"].refresh_from_db()
    return state["report"].status == "upheld"


def _rule_set(tree, state) -> bool:
    from sportsman.groups.models import CreationRule

    return CreationRule.objects.filter(region=tree.t1, needs_approval=True).exists()


def _starred(tree, state) -> bool:
    from sportsman.groups.models import StarGroup

    return StarGroup.objects.filter(group=state["group"], region=tree.t1).exists()


def _year() -> int:
    from django.utils import timezone

    return timezone.localdate().year


CASES: list[Case] = [
    Case("groups.console list (sees a k2 group)", op="GET /console/groups", setup=_pending,
         call=lambda c, t, s: c.get("/api/v1/console/groups?status=pending"),
         sees=lambda r, t, s: r.status_code == 200 and s["group"].pk in ids(r)),
    Case("groups.review a k2 group", op="POST /console/groups/{group_id}/review",
         setup=_pending,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/groups/{s['group'].pk}/review",
                                     {"approve": True}),
         changed=lambda t, s: _status(s) == "active"),
    Case("groups.close a k2 group", op="POST /console/groups/{group_id}/close", setup=_active,
         call=lambda c, t, s: c.post(f"/api/v1/console/groups/{s['group'].pk}/close"),
         changed=lambda t, s: _status(s) == "closed"),
    Case("groups.creation rule of t1", op="PUT /console/regions/{region_id}/group-rule",
         call=lambda c, t, s: c.json("put", f"/api/v1/console/regions/{t.t1.pk}/group-rule",
                                     {"needs_approval": True}),
         changed=_rule_set),
    Case("groups.reports (sees a report in a k2 group)", op="GET /console/group-reports",
         setup=_reported,
         call=lambda c, t, s: c.get("/api/v1/console/group-reports"),
         sees=lambda r, t, s: r.status_code == 200 and s["report"].pk in ids(r)),
    Case("groups.handle a report in a k2 group", op="POST /console/group-reports/{report_id}",
         setup=_reported,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/group-reports/{s['report'].pk}",
                                     {"uphold": True}),
         changed=_handled),
    Case("groups.star groups of t1", op="PUT /console/group-stars", setup=_active,
         call=lambda c, t, s: c.json("put", "/api/v1/console/group-stars", {
             "region_id": t.t1.pk, "year": _year(), "group_ids": [s["group"].pk]}),
         changed=_starred),
]


def _active_resident(tree):
    import datetime as dt

    from django.utils import timezone

    from sportsman.activity.records import record_session
    from sportsman.groups.tests.fixtures import resident

    person = resident(tree, nickname="健身达人")
    # early this local day, over before now (the cases run at midday): this year's rankings
    start = timezone.localtime().replace(hour=0, minute=2, second=0, microsecond=0)
    record_session(user_id=person.pk, source="group", source_key=f"group:matrix:{person.pk}",
                   sport_id=None, started_at=start, ended_at=start + dt.timedelta(minutes=25),
                   verified=True)
    return {"person": person}


def _fitness_star(tree, state) -> bool:
    from sportsman.groups.models import FitnessStar

    return FitnessStar.objects.filter(user=state["person"], region=tree.t1).exists()


CASES += [
    Case("groups.fitness star candidates of t1", op="GET /console/fitness-stars/candidates",
         setup=_active_resident, midday=True,
         call=lambda c, t, s: c.get(f"/api/v1/console/fitness-stars/candidates"
                                    f"?region={t.t1.pk}&year={_year()}"),
         sees=lambda r, t, s: r.status_code == 200 and s["person"].pk in {
             row["user_id"] for row in r.json()}),
    Case("groups.fitness stars of t1", op="PUT /console/fitness-stars", setup=_active_resident,
         midday=True,
         call=lambda c, t, s: c.json("put", "/api/v1/console/fitness-stars", {
             "region_id": t.t1.pk, "year": _year(), "user_ids": [s["person"].pk]}),
         changed=_fitness_star),
]
