"""Changing the fitness records: registering and editing test stations (importing their files
is ``imports``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.fitness.models import TestStation
from sportsman.regions.access import Access, Perm


def _clean(name: str, code: str) -> tuple[str, str]:
    name, code = name.strip(), code.strip()
    fields: dict[str, list[Any]] = {}
    if not name or len(name) > 80:
        fields["name"] = [_("Give a name of at most 80 characters.")]
    if not code or len(code) > 40:
        fields["code"] = [_("Give the station's number (at most 40 characters).")]
    if fields:
        raise InvalidInput(code="invalid_station", fields=fields)
    return name, code


def create_station(*, access: Access, region_id: int, name: str, code: str, address: str = "",
                   request: Any = None) -> TestStation:
    """Register a test station on a region of the actor's FITNESS_MANAGE subtree. Audited.
    Refuses a region outside the scope (``region_not_found``) and a number already registered
    (``station_exists``)."""
    access.require_anywhere(Perm.FITNESS_MANAGE)
    region = access.regions(Perm.FITNESS_MANAGE).filter(pk=region_id).first()
    if region is None:
        raise NotFound(_("No such region in your scope."), code="region_not_found")
    name, code = _clean(name, code)
    try:
        with transaction.atomic():
            station = TestStation.objects.create(region=region, name=name, code=code,
                                                 address=address.strip()[:200])
            audit.record(actor=access.user, action="fitness.station.create", obj=station,
                         region=region, request=request, data={"code": code})
    except IntegrityError:
        raise Conflict(_("A station with this number is already registered."),
                       code="station_exists") from None
    return station
