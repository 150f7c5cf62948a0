"""The public webhook event types, and which domain event each one is.

A type's name is a promise to other systems: never rename one, add a new one instead. Each
``data`` carries ids, the region's statistical code and the few plain values the type is about —
no names, phone numbers or free text of residents (PIPL: the receiver asks the API for more, under
its own grant, if it needs it). ``build`` reads the rows the event names and answers
``(region, data)``; ``None`` when the object is gone (nothing to send).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from sportsman.regions.models import Region

Built = tuple[Region, dict[str, Any]] | None


@dataclass(frozen=True)
class EventType:
    name: str  # public, e.g. "report.status_changed"
    domain_event: str  # what sportsman.core.events carries, e.g. "governance.report_changed"
    label: Any
    build: Callable[[dict[str, Any]], Built]


def _report(p: dict[str, Any]) -> Built:
    from sportsman.governance.models import Report

    r = Report.objects.select_related("region").filter(pk=p["report_id"]).first()
    if r is None:
        return None
    return r.region, {"report_id": r.pk, "status": p.get("status", r.status),
                      "category": r.category, "facility_id": r.facility_id,
                      "region_code": r.region.code}


def _booking(p: dict[str, Any]) -> Built:
    from sportsman.facilities.models import Booking

    b = Booking.objects.select_related("facility__region").filter(pk=p["booking_id"]).first()
    if b is None:
        return None
    region = b.facility.region
    return region, {"booking_id": b.pk, "facility_id": b.facility_id, "slot_id": b.slot_id,
                    "start": b.start.isoformat(), "end": b.end.isoformat(),
                    "source": p.get("source", ""), "region_code": region.code}


def _voucher(p: dict[str, Any]) -> Built:
    from sportsman.rewards.models import Merchant

    m = Merchant.objects.select_related("region").filter(pk=p["merchant_id"]).first()
    if m is None:
        return None
    return m.region, {"voucher_id": p["voucher_id"], "campaign_id": p["campaign_id"],
                      "merchant_id": m.pk, "spend_cents": p["spend_cents"],
                      "region_code": m.region.code}


def _application(p: dict[str, Any]) -> Built:
    from sportsman.associations.models import Application

    a = Application.objects.select_related("region").filter(pk=p["application_id"]).first()
    if a is None:
        return None
    return a.region, {"application_id": a.pk, "association_id": a.association_id,
                      "kind": p.get("kind", a.kind), "status": p.get("status", a.status),
                      "region_code": a.region.code}


def _registration(p: dict[str, Any]) -> Built:
    from sportsman.events.models import Event

    e = Event.objects.select_related("region").filter(pk=p["event_id"]).first()
    if e is None:
        return None
    return e.region, {"registration_id": p["registration_id"], "event_id": e.pk,
                      "status": p.get("status", ""), "region_code": e.region.code}


def _attended(p: dict[str, Any]) -> Built:
    return _registration({**p, "status": "checked_in"})


TYPES: tuple[EventType, ...] = (
    EventType("report.status_changed", "governance.report_changed",
              _("A resident's report changed status"), _report),
    EventType("booking.created", "facilities.booking_created", _("A booking was made"), _booking),
    EventType("voucher.redeemed", "rewards.voucher_redeemed", _("A voucher was redeemed"),
              _voucher),
    EventType("application.decided", "associations.application_decided",
              _("An association's application was decided"), _application),
    EventType("event.registration_created", "events.registered",
              _("Someone registered for an event"), _registration),
    EventType("event.attended", "events.attended", _("Someone checked in at an event"),
              _attended),
)
BY_NAME = {t.name: t for t in TYPES}
BY_DOMAIN_EVENT = {t.domain_event: t for t in TYPES}
