"""Reasons rendered in the reader's language: each reason code is a template whose
placeholders were filled at compute time from the data actually used (sport, weekday, part of
the day, place). ``DATA_LABELS`` name, for "why am I seeing this", each kind of data."""

from __future__ import annotations

import functools
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))
DAYPARTS = {"morning": _l("morning"), "noon": _l("noon"), "afternoon": _l("afternoon"),
            "evening": _l("evening"), "night": _l("night")}
DATA_LABELS = {
    "visits": _l("your visits to places"),
    "bookings": _l("your bookings"),
    "groups": _l("the groups you belong to"),
    "events": _l("the events you entered"),
    "instructor_bookings": _l("your guidance bookings"),
    "similar_residents": _l("residents with habits like yours"),
    "sports_done": _l("the sports you do"),
    "interests": _l("the sports interests in your profile"),
    "home_community": _l("your home community"),
    "usual_times": _l("the times you usually exercise"),
    "region": _l("what is popular near your community (nobody's own history)"),
}


def reason_text(reason: str, params: dict[str, Any]) -> str:
    """The reason in the reader's language. A page repeats a handful of reasons, so each is
    rendered once per language and worker (bounded)."""
    p = params or {}
    weekday = p.get("weekday")
    return _reason_text(get_language(), reason, str(p.get("sport", "")),
                        str(p.get("place", "")),
                        weekday if isinstance(weekday, int) and 0 <= weekday < 7 else None,
                        str(p.get("daypart", "")))


@functools.lru_cache(maxsize=4096)
def _reason_text(language: str | None, reason: str, sport: str, place: str,
                 weekday: int | None, daypart: str) -> str:
    p = {"sport": sport, "place": place}
    if reason == "habit":
        values = {"weekday": WEEKDAYS[weekday] if weekday is not None else "",
                  "daypart": DAYPARTS.get(daypart, ""), "place": place, "sport": sport}
        if values["sport"]:
            return _("You often do %(sport)s on %(weekday)s %(daypart)s in %(place)s") % values
        return _("You often exercise on %(weekday)s %(daypart)s in %(place)s") % values
    if reason == "similar":
        return _("Residents with habits like yours go here")
    if reason == "interest":
        return _("You like %(sport)s") % {"sport": p.get("sport", "")}
    if reason == "near_home":
        return _("Close to your home in %(place)s") % {"place": p.get("place", "")}
    if p.get("place"):
        return _("Popular near %(place)s") % {"place": p["place"]}
    return _("Popular on the platform")


def slot_text(params: dict[str, Any]) -> str:
    raw = (params or {}).get("slot_start")
    start = parse_datetime(raw) if isinstance(raw, str) else None
    if start is None:
        return ""
    local = timezone.localtime(start)
    return _("Free: %(when)s") % {"when": f"{date_format(local, 'MONTH_DAY_FORMAT')} "
                                          f"{local:%H:%M}"}


def data_used(params: dict[str, Any]) -> list[str]:
    return list(_data_used(get_language(), tuple(str(k) for k in (params or {}).get("used", []))))


@functools.lru_cache(maxsize=1024)
def _data_used(language: str | None, used: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(DATA_LABELS[k]) for k in used if k in DATA_LABELS)
