"""Scope-matrix cases of the teaching videos' staff operations (collected by
tests/test_scope_matrix.py): a video of an instructor of community k2 (inside town t1)."""

from __future__ import annotations

from tests.scope import Case, ids


def _video(tree, status: str = "published"):
    from sportsman.instructors.tests.fixtures_videos import video

    return {"video": video(tree, status=status)}


def _status(state) -> str:
    state["video"].refresh_from_db()
    return state["video"].status


CASES: list[Case] = [
    Case("videos.console list (sees a k2 instructor's video)", op="GET /console/videos",
         setup=_video, call=lambda c, t, s: c.get("/api/v1/console/videos"),
         sees=lambda r, t, s: r.status_code == 200 and s["video"].pk in ids(r)),
    Case("videos.take down a k2 instructor's video",
         op="POST /console/videos/{video_id}/take-down", setup=_video,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/videos/{s['video'].pk}/take-down",
                                     {"reason": "与教学无关"}),
         changed=lambda t, s: _status(s) == "taken_down"),
    Case("videos.restore a k2 instructor's video", op="POST /console/videos/{video_id}/restore",
         setup=lambda t: _video(t, "taken_down"),
         call=lambda c, t, s: c.post(f"/api/v1/console/videos/{s['video'].pk}/restore"),
         changed=lambda t, s: _status(s) == "published"),
]
