"""Online challenges: each registrant's total over the event's window, counted from the exercise
record (``activity.ActivityRecord``: minutes counted once where sessions overlap, distance in
metres, sessions), and the live leaderboard. Flagged (implausible) sessions do not count.

One grouped query over the registrants' records in the window (the ``user, started_at`` index);
read-only: the record stays the activity app's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Sum

from sportsman.events.models import HOLDS_PLACE, ChallengeMetric, Event, Registration

MAX_BOARD = 100


def _value_expr(metric: str) -> Any:
    if metric == ChallengeMetric.DISTANCE:
        return Sum("distance_m")
    if metric == ChallengeMetric.SESSIONS:
        return Count("id")
    return Sum("counted_minutes")


def _as_units(metric: str, raw: Any) -> float:
    raw = raw or 0
    if metric == ChallengeMetric.DISTANCE:
        return round(raw / 1000, 2)  # km
    return float(raw)


def user_totals(event: Event, user_ids: list[int]) -> dict[int, float]:
    """Each of ``user_ids``' total in the event's window and metric."""
    from sportsman.activity.models import ActivityRecord

    if not user_ids:
        return {}
    rows = (ActivityRecord.objects
            .filter(user_id__in=user_ids, started_at__gte=event.starts_at,
                    started_at__lt=event.ends_at, flags=[])
            .order_by().values("user_id").annotate(v=_value_expr(event.challenge_metric))
            .values_list("user_id", "v"))
    return {uid: _as_units(event.challenge_metric, v) for uid, v in rows}


def totals(event: Event) -> dict[int, float]:
    """Registration id → total, for every registration holding a place."""
    regs = dict(Registration.objects.filter(event_id=event.pk, status__in=HOLDS_PLACE)
                .values_list("pk", "user_id"))
    by_user = user_totals(event, list(regs.values()))
    return {reg_id: by_user.get(uid, 0.0) for reg_id, uid in regs.items()}


@dataclass(frozen=True)
class Line:
    rank: int
    registration_id: int
    user_id: int
    name: str
    value: float
    reached_goal: bool


def leaderboard(event: Event, *, limit: int = MAX_BOARD) -> list[Line]:
    """The registrants by their total, highest first, with competition ranks (1, 1, 3); people
    hidden from rankings appear without their name. Three queries whatever the size."""
    regs = list(Registration.objects.filter(event_id=event.pk, status__in=HOLDS_PLACE)
                .values_list("pk", "user_id", "user__nickname", "user__hide_from_rankings"))
    by_user = user_totals(event, [r[1] for r in regs])
    rows = sorted(((by_user.get(uid, 0.0), pk, uid, "" if hidden else (nick or ""))
                   for pk, uid, nick, hidden in regs), key=lambda r: (-r[0], r[1]))
    out: list[Line] = []
    rank, previous = 0, None
    goal = event.challenge_goal
    for i, (value, pk, uid, name) in enumerate(rows[:limit], start=1):
        if value != previous:
            rank, previous = i, value
        out.append(Line(rank=rank, registration_id=pk, user_id=uid, name=name, value=value,
                        reached_goal=bool(goal) and value >= (goal or 0)))
    return out
