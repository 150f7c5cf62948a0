from __future__ import annotations

from django.db import models


class DemandTally(models.Model):
    """One demand signal (``sportsman.core.figures.signal``) of one region, sport and time band
    on one local day: like ``Tally`` with the two dimensions demand analysis needs. ``sport`` is
    the sport's slug ("" when the record names none); ``band`` is a ``figures.Band`` ("" for a
    signal not tied to a time, such as a search). Rebuilt with the figures
    (``sportsman.cockpit.demand.refresh``)."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    signal = models.CharField(max_length=32)
    sport = models.CharField(max_length=32, blank=True)
    band = models.CharField(max_length=16, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["signal", "day", "region", "sport", "band"],
                                               name="demand_tally_once")]
        indexes = [models.Index(fields=["day", "region"])]

    def __str__(self) -> str:
        return f"{self.signal}:{self.region_id}:{self.sport}:{self.band}@{self.day}={self.value}"
