"""Public pages of the resident shell: home, the PWA files, the large-text switch."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.context_processors import LARGE_TEXT_COOKIE, wants_large_text
from sportsman.regions.access import public


@public
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` the form or query carries, if it stays on this site; else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@public
@require_POST
def toggle_large_text(request: HttpRequest) -> HttpResponse:
    """Logged-in users keep the choice on their profile; visitors in a cookie."""
    on = not wants_large_text(request)
    response = HttpResponseRedirect(safe_next(request, reverse("home")))
    if request.user.is_authenticated:
        from sportsman.accounts.services import update_profile

        update_profile(user=request.user, large_text=on)
    else:
        response.set_cookie(LARGE_TEXT_COOKIE, "1" if on else "0", max_age=365 * 24 * 3600,
                            samesite="Lax", httponly=True)
    return response


@public
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": _("Sportsman"),
        "short_name": _("Sportsman"),
        "description": _("Sports in your community: venues, groups, events."),
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b6e4f",
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@public
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the root so its scope covers the whole site."""
    response = render(request, "core/sw.js", content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


# Folders of the local media storage whose files anyone may fetch: facility photos, group
# covers and post photos (random names), residents' report photos (reports are public). Other
# uploads (supervision evidence, documents) are served only by their own scoped views.
PUBLIC_MEDIA = ("facilities/", "groups/", "governance/reports/")


@public
def media(request: HttpRequest, path_: str) -> HttpResponseBase:
    """A public upload from the local media storage (photos are re-encoded and EXIF-free on
    upload). With object storage in production, media URLs point there and this is not
    reached."""
    from django.core.files.storage import default_storage
    from django.http import Http404
    from django.views.static import serve

    if not path_.startswith(PUBLIC_MEDIA) or ".." in path_.split("/"):
        raise Http404()
    return serve(request, path_, document_root=str(default_storage.path("")))
