"""Facility pages: public (find, map, facility page), resident (my bookings, pass, check-in),
and the venue console (mounted under /console/facilities/)."""
