"""Scope-matrix cases for the staff events API: every operation on an event of town t1 (and a
registration in it)."""

from __future__ import annotations

from tests.scope import Case, ids


def _t1_event(tree, **fields):
    from sportsman.events.models import Event, EventStatus
    from sportsman.events.tests.factories import make_event

    event = make_event(tree.t1, title="新嘉街道矩阵赛", **fields)
    reg = None
    if event.status == EventStatus.PUBLISHED:
        from sportsman.events.models import Registration, RegStatus

        reg = Registration.objects.create(event=event, user=tree.user(home_community=tree.k2),
                                          status=RegStatus.CHECKED_IN, rank=1, score=10)
        Event.objects.filter(pk=event.pk).update(registered=1)
    return {"event": event, "reg": reg}


def _draft(tree):
    return _t1_event(tree, status="draft")


def _published(tree):
    return _t1_event(tree)


def _scan(tree):
    from sportsman.events.models import Registration

    state = _t1_event(tree)
    state["new"] = Registration.objects.create(event=state["event"], user=tree.user())
    return state


def _round(tree):
    from sportsman.events.tests.factories import make_event

    state = _t1_event(tree)
    final = make_event(tree.d1, title="南湖区决赛")
    type(state["event"]).objects.filter(pk=state["event"].pk).update(parent=final)
    state["final"] = final
    return state


def _event(state):
    return type(state["event"]).objects.get(pk=state["event"].pk)


def _status(state) -> str:
    return _event(state).status


CREATE = {"title": "矩阵新赛事", "starts_at": "2027-05-01T09:00:00+08:00",
          "ends_at": "2027-05-01T12:00:00+08:00",
          "registration_opens_at": "2027-01-01T00:00:00+08:00",
          "registration_closes_at": "2027-04-30T00:00:00+08:00", "capacity": 20}


def _created(tree, state) -> bool:
    from sportsman.events.models import Event

    return Event.objects.filter(title="矩阵新赛事").exists()


def _gif() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "PNG")
    return out.getvalue()


CASES: list[Case] = [
    Case("events.staff list (sees a t1 draft)", op="GET /staff/events", setup=_draft,
         call=lambda c, t, s: c.get("/api/v1/staff/events"),
         sees=lambda r, t, s: r.status_code == 200 and s["event"].pk in ids(r)),
    Case("events.create in t1", op="POST /staff/events",
         call=lambda c, t, s: c.json("post", "/api/v1/staff/events",
                                     {**CREATE, "region_id": t.t1.pk}),
         changed=_created),
    Case("events.update a t1 event", op="PATCH /staff/events/{event_id}", setup=_draft,
         call=lambda c, t, s: c.json("patch", f"/api/v1/staff/events/{s['event'].pk}",
                                     {"title": "改过的标题"}),
         changed=lambda t, s: _event(s).title == "改过的标题"),
    Case("events.file a t1 draft", op="POST /staff/events/{event_id}/file", setup=_draft,
         call=lambda c, t, s: c.post(f"/api/v1/staff/events/{s['event'].pk}/file"),
         changed=lambda t, s: _status(s) == "pending"),
    Case("events.publish a t1 draft", op="POST /staff/events/{event_id}/publish",
         setup=_draft,
         call=lambda c, t, s: c.post(f"/api/v1/staff/events/{s['event'].pk}/publish"),
         changed=lambda t, s: _status(s) == "published"),
    Case("events.cancel a t1 event", op="POST /staff/events/{event_id}/cancel",
         setup=_published,
         call=lambda c, t, s: c.json("post", f"/api/v1/staff/events/{s['event'].pk}/cancel",
                                     {"reason": "矩阵"}),
         changed=lambda t, s: _status(s) == "cancelled"),
    Case("events.finish a t1 event", op="POST /staff/events/{event_id}/finish",
         setup=_published,
         call=lambda c, t, s: c.post(f"/api/v1/staff/events/{s['event'].pk}/finish"),
         changed=lambda t, s: _status(s) == "finished"),
    Case("events.cover of a t1 event", op="POST /staff/events/{event_id}/cover", setup=_draft,
         call=lambda c, t, s: c.post(f"/api/v1/staff/events/{s['event'].pk}/cover",
                                     {"file": _upload()}),
         changed=lambda t, s: bool(_event(s).cover)),
    Case("events.registrations of a t1 event",
         op="GET /staff/events/{event_id}/registrations", setup=_published,
         call=lambda c, t, s: c.get(f"/api/v1/staff/events/{s['event'].pk}/registrations"),
         sees=lambda r, t, s: r.status_code == 200 and s["reg"].pk in ids(r)),
    Case("events.check-in at a t1 event", op="POST /staff/check-ins", setup=_scan,
         call=lambda c, t, s: c.json("post", "/api/v1/staff/check-ins",
                                     {"code": f"SPE:{s['new'].code}"}),
         changed=lambda t, s: type(s["new"]).objects.get(pk=s["new"].pk).status
         == "checked_in"),
    Case("events.results of a t1 event", op="PUT /staff/events/{event_id}/results",
         setup=_published,
         call=lambda c, t, s: c.json("put", f"/api/v1/staff/events/{s['event'].pk}/results",
                                     {"results": [{"registration_id": s["reg"].pk,
                                                   "score": 42}]}),
         changed=lambda t, s: type(s["reg"]).objects.get(pk=s["reg"].pk).score == 42),
    Case("events.qualifiers of a t1 round", op="POST /staff/events/{event_id}/qualifiers",
         setup=_round,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/staff/events/{s['event'].pk}/qualifiers",
                                     {"registration_ids": [s["reg"].pk]}),
         changed=lambda t, s: type(s["reg"]).objects.filter(
             advanced_from=s["reg"].pk, event=s["final"]).exists()),
]


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("cover.png", _gif(), "image/png")
