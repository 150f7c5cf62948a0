"""Resident-facing facility pages: find a place now, the facility page, my bookings, my pass,
check in."""

from sportsman.facilities.views import booking, public, visits

app_name = "facilities"

urlpatterns = [*public.urlpatterns, *booking.urlpatterns, *visits.urlpatterns]
