from typing import Any

from django.urls import URLPattern, include, path, re_path
from django.views.i18n import set_language

from config.api import api, unknown_path
from sportsman.regions.access import public


def by_first_segment(urls: tuple[list[Any], str, str]) -> tuple[list[Any], str, str]:
    """Ninja's operations, a flat list of several hundred paths that Django would try one by
    one, grouped under their first path segment (``recommendations``, ``console``, …): a
    request tries a few dozen prefixes, then its group. Matching is unchanged — only literal
    first segments are grouped, a group keeps its members' order, and a pattern whose first
    segment is not literal stays where it was (and keeps every group after it)."""
    patterns, app_name, namespace = urls
    grouped: list[Any] = []
    groups: dict[str, list[URLPattern]] = {}
    for pattern in patterns:
        route = str(pattern.pattern)
        head, slash, rest = route.partition("/")
        if not head or "<" in head:
            grouped.append(pattern)
            groups = {}  # what follows must not move in front of it
            continue
        if not slash:  # the segment alone (``me``): a flat pattern costs no exception to miss
            grouped.append(pattern)
            continue
        if head not in groups:
            groups[head] = []
            grouped.append((head, groups[head]))
        groups[head].append(path(rest, pattern.callback, pattern.default_args, pattern.name))
    return ([path(f"{item[0]}/", include(item[1])) if isinstance(item, tuple) else item
             for item in grouped], app_name, namespace)


urlpatterns = [
    path("api/v1/", by_first_segment(api.urls)),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_path),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("accounts/", include("sportsman.accounts.urls")),
    path("notifications/", include("sportsman.notifications.urls")),
    path("console/facilities/", include("sportsman.facilities.urls_console")),
    path("console/", include("sportsman.regions.urls")),
    path("", include("sportsman.facilities.urls")),
    path("activity/", include("sportsman.activity.urls")),
    path("rewards/", include("sportsman.rewards.urls")),
    path("groups/", include("sportsman.groups.urls")),
    path("events/", include("sportsman.events.urls")),
    path("governance/", include("sportsman.governance.urls")),
    path("open311/v2/", include("sportsman.governance.open311")),
    path("associations/", include("sportsman.associations.urls")),
    path("instructors/", include("sportsman.instructors.urls")),
    path("cockpit/", include("sportsman.cockpit.urls")),
    path("for-you/", include("sportsman.recommend.urls")),
    path("console/interfaces/", include("sportsman.interfaces.urls")),
    path("console/fitness/", include("sportsman.fitness.urls_console")),
    path("fitness/", include("sportsman.fitness.urls")),
    path("health/", include("sportsman.health.urls")),
    path("console/campaigns/", include("sportsman.notifications.urls_console")),
    path("openactive/", include("sportsman.interfaces.urls_openactive")),
    path("", include("sportsman.core.urls")),
]
