"""Resident booking pages: my bookings (upcoming and past, cancel), one booking with its QR
pass, and the POST handlers the facility page uses to book, wait for a place or enter a
lottery. Every page is the signed-in resident's own (``@for_self``); refusals come back as the
service's message (the domain-error middleware redirects a POST back with it)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import InvalidInput
from sportsman.facilities import booking
from sportsman.facilities.models import BookingStatus, Facility
from sportsman.facilities.policy import policy_for
from sportsman.regions.access import for_self

PAGE_SIZE = 20


def _slot_id(request: HttpRequest) -> int:
    value = request.POST.get("slot_id", "")
    if not value.isdigit() or not 0 < int(value) < 2**63:
        raise InvalidInput(_("Choose a time slot."), fields={"slot_id": [_("Choose a time slot.")]})
    return int(value)


@for_self
def my_bookings(request: HttpRequest) -> HttpResponse:
    when = "past" if request.GET.get("when") == "past" else "upcoming"
    page = booking.list_bookings_for(request.user, when=when,
                                     cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    return render(request, "facilities/booking/my_bookings.html",
                  {"page": page, "when": when, "booked": BookingStatus.BOOKED,
                   "suspension": booking.active_suspension(int(request.user.pk or 0),
                                                           timezone.now())})


@for_self
def booking_detail(request: HttpRequest, booking_id: int) -> HttpResponse:
    found = booking.get_own_booking(request.user, booking_id)
    facility = Facility.objects.select_related("region").get(pk=found.facility_id)
    deadline = booking.cancel_deadline(found, policy_for(facility))
    can_cancel = found.status == BookingStatus.BOOKED and timezone.now() <= deadline
    return render(request, "facilities/booking/booking.html", {
        "booking": found, "qr": booking.pass_svg(found.pass_code, scale=10), "can_cancel": can_cancel,
        "cancel_deadline": deadline, "live": found.status in (BookingStatus.BOOKED,
                                                              BookingStatus.CHECKED_IN)})


@for_self
@require_POST
def book(request: HttpRequest) -> HttpResponse:
    """Book the posted ``slot_id``; a full slot shows the waitlist offer instead."""
    slot_id = _slot_id(request)
    try:
        made = booking.book_slot(actor=request.user, slot_id=slot_id)
    except booking.SlotFull as exc:
        return render(request, "facilities/booking/slot_full.html",
                      {"slot_id": slot_id, "message": exc.message}, status=409)
    messages.success(request, _("Booked. Show this pass when you arrive."))
    return HttpResponseRedirect(reverse("facilities:booking", args=[made.pk]))


@for_self
@require_POST
def cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking.cancel_booking(actor=request.user, booking_id=booking_id)
    messages.success(request, _("Your booking is cancelled."))
    return HttpResponseRedirect(reverse("facilities:my_bookings"))


@for_self
@require_POST
def waitlist(request: HttpRequest, slot_id: int) -> HttpResponse:
    """Join (or, with ``action=leave``, leave) the waitlist of a full slot."""
    if request.POST.get("action") == "leave":
        booking.leave_waitlist(actor=request.user, slot_id=slot_id)
        messages.success(request, _("You have left the waitlist."))
    else:
        booking.join_waitlist(actor=request.user, slot_id=slot_id)
        position = booking.waiting_position(request.user, slot_id)
        messages.success(request, _("You are on the waitlist (number %(position)d). If a place "
                                    "opens up you are booked and notified.")
                         % {"position": position or 1})
    return HttpResponseRedirect(reverse("facilities:my_bookings"))


@for_self
@require_POST
def lottery(request: HttpRequest, slot_id: int) -> HttpResponse:
    booking.enter_lottery(actor=request.user, slot_id=slot_id)
    messages.success(request, _("You have entered the lottery. You will be told the result "
                                "after the draw."))
    return HttpResponseRedirect(reverse("facilities:my_bookings"))


urlpatterns = [
    path("me/bookings/", my_bookings, name="my_bookings"),
    path("me/bookings/<int:booking_id>/", booking_detail, name="booking"),
    path("me/bookings/<int:booking_id>/cancel/", cancel, name="cancel_booking"),
    path("book/", book, name="book"),
    path("slots/<int:slot_id>/waitlist/", waitlist, name="waitlist"),
    path("slots/<int:slot_id>/lottery/", lottery, name="lottery"),
]
