"""Scope-matrix cases of volunteering's staff operations (collected by
tests/test_scope_matrix.py): a volunteer team in community k2 (inside town t1), run by t1's staff
and above, as well as by its own resident leader."""

from __future__ import annotations

from tests.scope import Case, ids


def _team(tree):
    from sportsman.governance.tests.fixtures_volunteering import make_team

    return {"team": make_team(tree, name="新南志愿队")}


def _attended(tree):
    from sportsman.governance.tests.fixtures_volunteering import attended, make_team

    team = make_team(tree, name="新南志愿队")
    return {"team": team, "signup": attended(tree, team)}


def _applied(tree):
    from sportsman.governance import volunteering as vol
    from sportsman.governance.tests.fixtures_volunteering import make_team, resident

    team = make_team(tree, name="新南志愿队")
    applicant = resident(tree, nickname="申请人")
    vol.apply(actor=applicant, team_id=team.pk)
    return {"team": team, "applicant": applicant}


def _offer(tree):
    from sportsman.governance.tests.fixtures_volunteering import make_opportunity, make_team

    team = make_team(tree, name="新南志愿队")
    return {"team": team, "opportunity": make_opportunity(team)}


def _accepted(tree, state) -> bool:
    from sportsman.governance import volunteering as vol

    return vol.is_member(state["applicant"], state["team"].pk)


def _called_off(tree, state) -> bool:
    state["opportunity"].refresh_from_db()
    return state["opportunity"].status == "cancelled"


def _created(tree, state) -> bool:
    from sportsman.governance.models import VolunteerTeam

    return VolunteerTeam.objects.filter(region=tree.k2, name="矩阵志愿队").exists()


def _closed(tree, state) -> bool:
    state["team"].refresh_from_db()
    return state["team"].status == "closed"


def _decided(tree, state) -> bool:
    state["signup"].refresh_from_db()
    return state["signup"].status == "approved"


def _offered(tree, state) -> bool:
    return state["team"].opportunities.filter(title="矩阵巡查").exists()


def _opportunity_body() -> dict:
    import datetime as dt

    from django.utils import timezone

    start = timezone.now() + dt.timedelta(days=3)
    return {"kind": "facility_patrol", "title": "矩阵巡查", "place": "新南公园",
            "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "capacity": 4}


CASES: list[Case] = [
    Case("volunteering.console teams (sees a k2 team)", op="GET /console/volunteer-teams",
         setup=_team, call=lambda c, t, s: c.get("/api/v1/console/volunteer-teams"),
         sees=lambda r, t, s: r.status_code == 200 and s["team"].pk in ids(r)),
    Case("volunteering.found a team in k2", op="POST /console/volunteer-teams",
         call=lambda c, t, s: c.json("post", "/api/v1/console/volunteer-teams",
                                     {"region_id": t.k2.pk, "name": "矩阵志愿队"}),
         changed=_created),
    Case("volunteering.close a k2 team", op="POST /console/volunteer-teams/{team_id}/close",
         setup=_team,
         call=lambda c, t, s: c.post(f"/api/v1/console/volunteer-teams/{s['team'].pk}/close"),
         changed=_closed),
    Case("volunteering.hours awaiting (sees a k2 volunteer)", op="GET /console/volunteer-hours",
         setup=_attended, call=lambda c, t, s: c.get("/api/v1/console/volunteer-hours"),
         sees=lambda r, t, s: r.status_code == 200 and s["signup"].pk in ids(r)),
    Case("volunteering.approve hours in a k2 team", op="POST /volunteer-signups/{signup_id}/hours",
         setup=_attended,
         call=lambda c, t, s: c.json("post", f"/api/v1/volunteer-signups/{s['signup'].pk}/hours",
                                     {"approve": True}),
         changed=_decided),
    Case("volunteering.offer an opportunity in a k2 team",
         op="POST /volunteer-teams/{team_id}/opportunities", setup=_team,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/volunteer-teams/{s['team'].pk}/opportunities",
                                     _opportunity_body()),
         changed=_offered),
    Case("volunteering.attendance of a k2 opportunity",
         op="GET /volunteer-opportunities/{opportunity_id}/attendance", setup=_attended,
         call=lambda c, t, s: c.get(f"/api/v1/volunteer-opportunities/"
                                    f"{s['signup'].opportunity_id}/attendance"),
         sees=lambda r, t, s: r.status_code == 200 and s["signup"].pk in ids(r)),
    Case("volunteering.accept an applicant to a k2 team",
         op="POST /volunteer-teams/{team_id}/members/{user_id}", setup=_applied,
         call=lambda c, t, s: c.json("post", f"/api/v1/volunteer-teams/{s['team'].pk}/members/"
                                     f"{s['applicant'].pk}", {"accept": True}),
         changed=_accepted),
    Case("volunteering.call off a k2 opportunity",
         op="POST /volunteer-opportunities/{opportunity_id}/call-off", setup=_offer,
         call=lambda c, t, s: c.post(f"/api/v1/volunteer-opportunities/"
                                     f"{s['opportunity'].pk}/call-off"),
         changed=_called_off),
    Case("volunteering.check-in code of a k2 opportunity",
         op="GET /volunteer-opportunities/{opportunity_id}/code", setup=_offer,
         call=lambda c, t, s: c.get(f"/api/v1/volunteer-opportunities/"
                                    f"{s['opportunity'].pk}/code"),
         sees=lambda r, t, s: r.status_code == 200 and bool(r.json().get("code"))),
]
