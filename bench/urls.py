"""The platform's URLs plus the bare endpoints, the denominators of the HTTP ratios:
``GET /bench/bare`` (no database), ``GET /bench/pk/{id}`` (one primary-key read),
``POST /bench/book`` (the bare booking), ``POST /bench/checkin`` (the bare check-in) and
``POST /bench/upload`` (the bare photo upload).

The bare endpoint is a Ninja JSON operation with no database access, served through the same
middleware, server and worker set-up as every other page; what a real endpoint adds on top of it
is the endpoint's own cost.
"""

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI, Schema

from config.urls import urlpatterns as platform_urlpatterns
from sportsman.regions.access import public

bench_api = NinjaAPI(title="bench", version="bench", urls_namespace="bench", docs_url=None,
                     openapi_url=None, auth=None)


@bench_api.get("/bare")
@public
def bare(request: HttpRequest) -> dict:
    return {"ok": True}


class BareBookIn(Schema):
    slot_id: int
    user_id: int


@bench_api.post("/book")
@public
def bare_book(request: HttpRequest, data: BareBookIn) -> dict:
    """The bare booking: take a place with one conditional UPDATE and insert the booking, in
    one transaction — no authentication, rules, limits, idempotency or audit. The denominator
    of the booking figures (ARCHITECTURE.md, "bare Django booking")."""
    from sportsman.facilities.models import Booking, Slot

    with transaction.atomic():
        taken = Slot.objects.filter(pk=data.slot_id, booked__lt=F("capacity")).update(
            booked=F("booked") + 1)
        if not taken:
            return {"ok": False}
        slot = Slot.objects.only("start", "end", "facility_id").get(pk=data.slot_id)
        booking = Booking.objects.create(user_id=data.user_id, slot_id=slot.pk,
                                         facility_id=slot.facility_id, start=slot.start,
                                         end=slot.end, status="completed")
    return {"ok": True, "id": booking.pk}


@bench_api.get("/pk/{facility_id}")
@public
def bare_pk_read(request: HttpRequest, facility_id: int) -> dict:
    """The bare primary-key read: one row by its key, a few columns, as JSON — no
    authentication, scope or serialisation layer. The denominator of the read figures
    (search, ``/me``, lists): ARCHITECTURE.md, "primary-key read endpoint"."""
    from sportsman.facilities.models import Facility

    row = Facility.objects.filter(pk=facility_id).values("id", "name", "lat", "lng").first()
    return row or {"id": None}


class BareCheckInIn(Schema):
    booking_id: int


@bench_api.post("/checkin")
@public
def bare_check_in(request: HttpRequest, data: BareCheckInIn) -> dict:
    """The bare check-in: one conditional UPDATE of a booked booking to checked in — no
    authentication, code check, rules or audit. The denominator of the check-in figures
    (ARCHITECTURE.md, "bare check-in")."""
    from django.utils import timezone

    from sportsman.facilities.models import Booking

    done = Booking.objects.filter(pk=data.booking_id, status="booked").update(
        status="checked_in", checked_in_at=timezone.now())
    return {"ok": bool(done)}


@bench_api.post("/upload")
@public
def bare_upload(request: HttpRequest) -> dict:
    """The bare upload: the multipart body parsed and its photo written to storage as received
    — no authentication, checks, re-encoding or rows. The denominator of the report figure."""
    import uuid

    from django.core.files.storage import default_storage

    photo = request.FILES.get("photos")
    if photo is None:
        return {"ok": False}
    name = default_storage.save(f"bench/{uuid.uuid4().hex}.jpg", photo)
    return {"ok": True, "name": name}


urlpatterns = [path("bench/", bench_api.urls), *platform_urlpatterns]
