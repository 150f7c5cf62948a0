"""The REST API at /api/v1/: one NinjaAPI, every router added here, one error shape.

Authentication: a bearer token (apps) or the session (pages, CSRF-checked). Operations that
anyone may call set ``auth=None`` and are marked ``@public``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from sportsman.core.errors import DomainError, Throttled
from sportsman.regions.access import public


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from sportsman.accounts.auth import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
            request.auth_token = token  # type: ignore[attr-defined]
        return user


class SessionAuth(APIKeyCookie):
    """Django's session, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="Sportsman API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, code: str, message: str,
           fields: dict | None = None) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message,
                                         "fields": fields or {}}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if isinstance(exc, Throttled):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _field_name(loc: list | tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload")]
    return ".".join(parts[1:] if len(parts) > 1 and parts[0] in ("data",) else parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    code = "invalid"
    for err in exc.errors:
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            code = "unknown_field"
            message = _("This field is not accepted.")
        elif kind == "missing":
            message = _("This field is required.")
        elif kind in ("json_invalid", "value_error.jsondecode") or "json" in kind:
            code = "malformed_json"
            message = _("The body is not valid JSON.")
        else:
            message = str(err.get("msg", _("This value is not valid.")))
        fields.setdefault(_field_name(err.get("loc", ())), []).append(message)
    if code == "malformed_json":
        return _error(request, 400, code, _("The body is not valid JSON."), fields)
    if code == "unknown_field":
        return _error(request, 400, code, _("The request has fields that are not accepted."),
                      fields)
    return _error(request, 400, code, _("Some fields are not valid."), fields)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", _("Please log in first."))


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", _("You may not do this here."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@public
def unknown_path(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any path under /api/v1/ that no operation answers: the API's 404, in its error shape
    (a client must never have to parse an HTML page)."""
    return _not_found(request, Http404())


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "too_large", _("The request body is too large."))


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A number or text the database cannot hold (an id past 2**63, say): the input's fault."""
    return _error(request, 400, "out_of_range", _("A value is out of the accepted range."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, ValueError):  # Ninja wraps the JSON parser's error
        return _error(request, 400, "malformed_json", _("The body is not valid JSON."))
    codes = {400: "invalid", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "conflict", 413: "too_large", 429: "throttled"}
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


def _register_routers() -> None:
    from sportsman.accounts.api import router as accounts_router
    from sportsman.activity.api import router as activity_router
    from sportsman.activity.api_inactivity import router as inactivity_router
    from sportsman.activity.api_records import router as records_router
    from sportsman.associations.api import routers as associations_routers
    from sportsman.cockpit.api import routers as cockpit_routers
    from sportsman.core.api import router as core_router
    from sportsman.events.api import routers as events_routers
    from sportsman.facilities.api import routers as facilities_routers
    from sportsman.governance.api import routers as governance_routers
    from sportsman.groups.api import routers as groups_routers
    from sportsman.instructors.api import routers as instructors_routers
    from sportsman.notifications.api import router as notifications_router
    from sportsman.notifications.api_campaigns import router as campaigns_router
    from sportsman.regions.api import roles_router
    from sportsman.regions.api import router as regions_router
    from sportsman.rewards.api import routers as rewards_routers

    api.add_router("/", accounts_router)
    api.add_router("/", core_router)
    api.add_router("/regions", regions_router)
    api.add_router("/roles", roles_router)
    api.add_router("/notifications", notifications_router)
    api.add_router("/", campaigns_router)
    for router in facilities_routers():
        api.add_router("/", router)
    api.add_router("/", activity_router)
    api.add_router("/", inactivity_router)
    api.add_router("/", records_router)
    for router in rewards_routers():
        api.add_router("/", router)
    for router in groups_routers():
        api.add_router("/", router)
    for router in events_routers():
        api.add_router("/", router)
    for router in governance_routers():
        api.add_router("/", router)
    for router in associations_routers():
        api.add_router("/", router)
    for router in instructors_routers():
        api.add_router("/", router)
    for router in cockpit_routers():
        api.add_router("/", router)
    # recommend
    from sportsman.recommend.api import router as recommend_router

    api.add_router("/", recommend_router)

    # --- open interfaces ---
    from sportsman.interfaces.api import router as interfaces_router

    api.add_router("/", interfaces_router)
    from sportsman.interfaces.api_exchange import router as exchange_router

    api.add_router("/", exchange_router)

    # --- physical fitness tests ---
    from sportsman.fitness.api import router as fitness_router

    api.add_router("/", fitness_router)

    # --- health services ---
    from sportsman.health.api import router as health_router

    api.add_router("/", health_router)


_register_routers()
