"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over the same reports residents
make, so existing 311 clients work: under ``/open311/v2/``, every resource in ``.json`` or
``.xml``.

- ``jurisdiction_id`` is the city's 12-digit statistical code; it may be left out when the
  platform serves one city.
- A *service* is a report category (``service_code`` = the category's code); none has extra
  attributes (``metadata`` false).
- ``address_id`` is a facility's id: a request naming one is routed to that facility's managers,
  like a resident's report on it. Otherwise ``lat``/``long`` place it.
- Posting needs an ``api_key`` issued by city staff (:class:`Open311Client`); reading is public
  and never shows who reported.
- Errors are the spec's list of ``{code, description}`` with the HTTP status as the code.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # we only write XML here, never parse it
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, register_converter
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from sportsman.core import crypto
from sportsman.core.errors import DomainError
from sportsman.governance import reports
from sportsman.governance.models import Category, Open311Client, Report
from sportsman.regions.access import public
from sportsman.regions.models import Level, Region, subtree_q

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00Z"
MAX_SPAN = dt.timedelta(days=90)
MAX_REQUESTS = 1000
OPEN = {"submitted", "accepted", "in_progress"}
CLOSED = {"resolved", "closed", "rejected", "merged"}
KEYWORDS = {"facility_damage": "设施损坏,器材,坏了", "safety": "安全,隐患", "lighting": "照明,灯",
            "hygiene": "卫生,垃圾", "noise": "噪音,扰民", "occupation": "占用,占道",
            "suggestion": "建议,意见", "other": "其他"}


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status, self.description = status, description
        super().__init__(description)


# --- rendering ---------------------------------------------------------------------------------

def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(child, k, v)
    elif isinstance(value, list):
        singular = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
                    "values": "value"}.get(key, "item")
        for item in value:
            _xml_value(child, singular, item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def render(fmt: str, data: Any, *, root: str, item: str | None = None,
           status: int = 200) -> HttpResponse:
    """``data`` as JSON, or as XML under ``root`` (a list's elements each as ``item``)."""
    if fmt == "json":
        return JsonResponse(data, safe=False, status=status,
                            json_dumps_params={"ensure_ascii": False})
    top = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            element = ET.SubElement(top, item or "item")
            for k, v in entry.items():
                _xml_value(element, k, v)
    else:
        for k, v in data.items():
            _xml_value(top, k, v)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, [{"code": status, "description": description}], root="errors",
                  item="error", status=status)


def _answering(view: Any) -> Any:
    """Turn refusals into the spec's error list in the format asked for."""
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except DomainError as exc:
            fields = "; ".join(f"{k}: {', '.join(str(m) for m in v)}"
                               for k, v in exc.as_dict()["fields"].items())
            return error(fmt, 400 if exc.status < 500 else exc.status,
                         f"{exc.code}: {exc.message}" + (f" ({fields})" if fields else ""))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# --- the jurisdiction --------------------------------------------------------------------------

def jurisdiction(request: HttpRequest) -> Region:
    code = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "")
    cities = Region.objects.filter(level=Level.CITY, parent=None)
    if code:
        city = cities.filter(code=code.strip()).order_by("-edition").first()
        if city is None:
            raise Open311Error(404, _("jurisdiction_id not found"))
        return city
    found = list(cities[:2])
    if len(found) != 1:
        raise Open311Error(400, _("jurisdiction_id is required"))
    return found[0]


# --- resources ---------------------------------------------------------------------------------

def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/open311/v2/")


def _service(category: Category, city: Region) -> dict:
    return {"jurisdiction_id": city.code, "service_code": category.value,
            "service_name": str(category.label),
            "description": _("Report a problem: %(what)s") % {"what": category.label},
            "metadata": False, "type": "realtime", "keywords": KEYWORDS[category.value],
            "group": _("Sports facilities and places")}


def _w3c(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def request_out(request: HttpRequest, r: Report) -> dict:
    photo = next(iter(r.photos.all()), None)
    return {
        "service_request_id": str(r.pk),
        "status": "open" if r.status in OPEN else "closed",
        "status_notes": r.public_note or str(r.get_status_display()),
        "service_name": str(Category(r.category).label),
        "service_code": r.category,
        "description": r.description,
        "agency_responsible": r.handling_region.name,
        "service_notice": "",
        "requested_datetime": _w3c(r.created_at),
        "updated_datetime": _w3c(r.updated_at),
        "expected_datetime": _w3c(r.resolve_due),
        "address": r.address or r.region.name,
        "address_id": str(r.facility_id) if r.facility_id else "",
        "zipcode": "",
        "lat": r.lat,
        "long": r.lng,
        "media_url": request.build_absolute_uri(photo.image.url) if photo
        else r.contact.get("media_url", ""),
    }


def _requests(city: Region) -> QuerySet[Report]:
    return (Report.objects.filter(subtree_q(city.path, "region"))
            .select_related("region", "handling_region").prefetch_related("photos"))


def _parse_time(raw: str, name: str) -> dt.datetime:
    value = parse_datetime(raw.strip().replace(" ", "+"))
    if value is None:
        raise Open311Error(400, _("%(name)s is not a w3c datetime") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _ids(raw: str) -> list[int]:
    out = []
    for part in raw.split(","):
        part = part.strip()
        if not part.isdigit() or not 0 < int(part) < 2**63:
            raise Open311Error(400, _("service_request_id must be numbers, comma separated"))
        out.append(int(part))
    return out[:MAX_REQUESTS]


def _codes(raw: str) -> list[str]:
    codes = [c.strip() for c in raw.split(",") if c.strip()]
    unknown = [c for c in codes if c not in Category.values]
    if unknown:
        raise Open311Error(404, _("service_code not found: %(codes)s") % {
            "codes": ",".join(unknown)})
    return codes


def filtered(city: Region, params: Any, *, now: dt.datetime | None = None) -> list[Report]:
    """GET requests' filters: ``service_request_id`` (overrides the rest), ``service_code``,
    ``start_date``/``end_date`` (at most 90 days apart; the last 90 days by default) and
    ``status`` (open, closed), newest first, at most 1,000."""
    qs = _requests(city)
    if params.get("service_request_id"):
        wanted = _ids(params["service_request_id"])
        return sorted(qs.filter(pk__in=wanted), key=lambda r: -r.pk)
    now = now or timezone.now()
    start = _parse_time(params["start_date"], "start_date") if params.get("start_date") else None
    end = _parse_time(params["end_date"], "end_date") if params.get("end_date") else None
    if start and end and start > end:
        raise Open311Error(400, _("start_date is after end_date"))
    if end is None:
        end = start + MAX_SPAN if start is not None else now
    if start is None:
        start = end - MAX_SPAN
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days"))
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    if params.get("service_code"):
        qs = qs.filter(category__in=_codes(params["service_code"]))
    if params.get("status"):
        statuses: set[str] = set()
        for s in params["status"].split(","):
            s = s.strip().lower()
            if s not in ("open", "closed"):
                raise Open311Error(400, _("status must be open or closed"))
            statuses |= OPEN if s == "open" else CLOSED
        qs = qs.filter(status__in=statuses)
    return list(qs.order_by("-created_at", "-id")[:MAX_REQUESTS])


def client_for(api_key: str, city: Region) -> Open311Client:
    if not api_key:
        raise Open311Error(403, _("api_key is required"))
    client = Open311Client.objects.filter(key_hash=crypto.keyed_hash(api_key, purpose="open311"),
                                          revoked_at=None, city=city).first()
    if client is None:
        raise Open311Error(403, _("api_key is not valid"))
    return client


def _float(raw: str | None, name: str, low: float, high: float) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]
    except ValueError as exc:
        raise Open311Error(400, _("%(name)s is not a number") % {"name": name}) from exc
    if not low <= value <= high:
        raise Open311Error(400, _("%(name)s is out of range") % {"name": name})
    return value


def post_request(request: HttpRequest, city: Region) -> Report:
    """Create a service request: ``api_key``, ``service_code``, a place (``lat`` and ``long``,
    or ``address_id``), ``description``; contact fields are kept on the report."""
    data = request.POST
    client = client_for(data.get("api_key", ""), city)
    code = data.get("service_code", "")
    if not code:
        raise Open311Error(400, _("service_code is required"))
    _codes(code)
    lat = _float(data.get("lat"), "lat", -90, 90)
    lng = _float(data.get("long"), "long", -180, 180)
    facility_id = None
    if data.get("address_id"):
        raw = data["address_id"].strip()
        if not raw.isdigit() or not 0 < int(raw) < 2**63:
            raise Open311Error(400, _("address_id is not valid"))
        facility_id = int(raw)
    if facility_id is None and (lat is None or lng is None):
        raise Open311Error(400, _("lat and long, or address_id, are required"))
    if facility_id is not None:
        from sportsman.facilities.models import Facility

        if not Facility.objects.filter(subtree_q(city.path, "region"), pk=facility_id).exists():
            raise Open311Error(400, _("address_id not found"))
        lat = lng = None
    else:
        from sportsman.facilities.selectors import nearest_community

        community = nearest_community(lat, lng)  # type: ignore[arg-type]
        if community is None or not city.contains(community):
            raise Open311Error(400, _("The place is outside this jurisdiction"))
    contact = {k: data[k][:200] for k in ("email", "first_name", "last_name", "phone",
                                          "device_id", "account_id", "media_url")
               if data.get(k)}
    report = reports.submit(actor=None, category=code, description=data.get("description", ""),
                            facility_id=facility_id, lat=lat, lng=lng,
                            address=data.get("address_string", ""), open311_client=client,
                            contact=contact, min_photos=0)
    return report


# --- views -------------------------------------------------------------------------------------

@public
@require_GET
@_answering
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint is and what it speaks."""
    return render(fmt, {
        "changeset": CHANGESET, "contact": _("The city's sports administration, via the "
                                             "platform's help page"),
        "key_service": _("API keys are issued by the city's staff in the console"),
        "endpoints": [{"specification": SPEC, "url": _base(request), "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }, root="discovery")


@public
@require_GET
@_answering
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """The report categories."""
    city = jurisdiction(request)
    return render(fmt, [_service(c, city) for c in Category], root="services", item="service")


@public
@require_GET
@_answering
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    jurisdiction(request)  # an unknown jurisdiction is refused first
    if code not in Category.values:
        raise Open311Error(404, _("service_code not found"))
    return render(fmt, {"service_code": code, "attributes": []}, root="service_definition")


@public
@csrf_exempt
@require_http_methods(["GET", "POST"])
@_answering
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: requests by the spec's filters. POST: a new request (``api_key`` required)."""
    city = jurisdiction(request)
    if request.method == "POST":
        report = post_request(request, city)
        return render(fmt, [{"service_request_id": str(report.pk), "token": str(report.token),
                             "service_notice": _("Thank you: the report has been sent to %(who)s")
                             % {"who": report.handling_region.name},
                             "account_id": report.contact.get("account_id", "")}],
                      root="service_requests", item="request", status=201)
    return render(fmt, [request_out(request, r) for r in filtered(city, request.GET)],
                  root="service_requests", item="request")


@public
@require_GET
@_answering
def service_request(request: HttpRequest, request_id: int, fmt: str) -> HttpResponse:
    city = jurisdiction(request)
    found = _requests(city).filter(pk=request_id).first()
    if found is None:
        raise Open311Error(404, _("service_request_id not found"))
    return render(fmt, [request_out(request, found)], root="service_requests", item="request")


@public
@require_GET
@_answering
def token(request: HttpRequest, token_id: str, fmt: str) -> HttpResponse:
    import uuid

    city = jurisdiction(request)
    try:
        value = uuid.UUID(token_id)
    except ValueError:
        value = None
    found = _requests(city).filter(token=value).first() if value else None
    if found is None:
        raise Open311Error(404, _("token not found"))
    return render(fmt, [{"service_request_id": str(found.pk), "token": str(found.token)}],
                  root="service_requests", item="request")


def _city_of_staff(actor: Any, city_id: int | None = None) -> int:
    """The city (``city_id``, else the actor's first) where the actor holds REPORT_RULES on the
    city itself."""
    from sportsman.core.errors import Forbidden, NotFound
    from sportsman.regions.access import Perm, access_for_user

    access = access_for_user(actor)
    access.require_anywhere(Perm.REPORT_RULES)
    cities = [g.region_id for g in access.roots(Perm.REPORT_RULES) if g.level == Level.CITY]
    if city_id is not None:
        if city_id not in cities:
            raise NotFound()
        return city_id
    if not cities:
        raise Forbidden()
    return cities[0]


def issue_key(*, actor: Any, name: str, city_id: int | None = None) \
        -> tuple[Open311Client, str]:
    """A new api_key for a 311 client (city staff with REPORT_RULES on a city). The key is shown
    once; only its hash is kept. Audited."""
    import secrets

    from django.db import transaction

    from sportsman.core import audit
    from sportsman.core.errors import InvalidInput

    city_id = _city_of_staff(actor, city_id)
    name = (name or "").strip()
    if not 0 < len(name) <= 64:
        raise InvalidInput(code="invalid_name", fields={"name": [_("1 to 64 characters.")]})
    key = secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(
            city_id=city_id, name=name, key_hash=crypto.keyed_hash(key, purpose="open311"), created_by=actor)
        audit.record(actor=actor, action="governance.open311.issue_key", obj=client,
                     region=Region.objects.get(pk=city_id),
                     data={"name": name})
    return client, key


def clients(*, actor: Any) -> Iterable[Open311Client]:
    """The 311 applications holding a key (city staff)."""
    return (Open311Client.objects.filter(revoked_at=None, city_id=_city_of_staff(actor))
            .order_by("-created_at"))


urlpatterns = [
    path("discovery.<fmt:fmt>", discovery, name="open311-discovery"),
    path("services.<fmt:fmt>", services, name="open311-services"),
    path("services/<str:code>.<fmt:fmt>", service_definition, name="open311-service"),
    path("requests.<fmt:fmt>", service_requests, name="open311-requests"),
    path("requests/<int:request_id>.<fmt:fmt>", service_request, name="open311-request"),
    path("tokens/<str:token_id>.<fmt:fmt>", token, name="open311-token"),
]
