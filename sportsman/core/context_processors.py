"""What every page's shell needs: large-text mode, the unread badge, whether to link the console."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sportsman.regions.access import Perm, access_for

LARGE_TEXT_COOKIE = "large_text"


def wants_large_text(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.large_text)
    return request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    context: dict[str, Any] = {"large_text": wants_large_text(request), "unread_count": 0,
                               "shows_console": False, "is_merchant": False}
    if user is not None and user.is_authenticated:
        from sportsman.notifications.selectors import unread_count

        context["unread_count"] = unread_count(user)
        context["shows_console"] = access_for(request).has_anywhere(Perm.CONSOLE)
        context["is_merchant"] = access_for(request).has_anywhere(Perm.MERCHANT_OPERATE)
    return context
