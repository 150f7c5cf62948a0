"""Pages turn domain errors into what a person expects to see.

A page view may let a ``DomainError`` escape (usually from ``access_for(request)`` or a service):
``NotAuthenticated`` becomes a redirect to the login page carrying ``?next=``, ``Forbidden`` a 403
page, any other domain error the page it came from with the message shown (a redirect back for
POSTs, an error page otherwise). API paths are left to ``config/api.py``, which has its own error
shape.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from sportsman.core.errors import DomainError, Forbidden, NotAuthenticated

API_PREFIX = "/api/"


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, DomainError) or request.path.startswith(API_PREFIX):
            return None
        if isinstance(exc, NotAuthenticated):
            target = request.get_full_path() if request.method == "GET" else request.path
            login = reverse("accounts:login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': target})}")
        if isinstance(exc, Forbidden):
            return render(request, "errors/403.html", {"message": exc.message}, status=403)
        if request.method == "POST":
            messages.error(request, str(exc.message))
            back = request.headers.get("referer", "")
            if back and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return HttpResponseRedirect(back)
        return render(request, "errors/domain.html", {"message": exc.message},
                      status=exc.status)
