from __future__ import annotations

import datetime as dt

from django.db import models


class Tally(models.Model):
    """One figure of one region (the community a resident, facility or report belongs to) on one
    local day. Every cockpit figure is a sum of tallies over a subtree: the dashboard's cost grows
    with regions × days × figures, never with the records behind them.

    Flow figures (minutes, bookings) are the day's amount; stock figures (registered residents,
    facilities, active in the last 30 days) are the value at the end of the day. ``figures.py``
    says which is which and rebuilds them from the domains' records."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    metric = models.CharField(max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "day", "region"],
                                               name="tally_once")]

    def __str__(self) -> str:
        return f"{self.metric}:{self.region_id}@{self.day}={self.value}"


class Watermark(models.Model):
    """The last day a metric's tallies were computed through: a stock's value for a period is its
    value on ``min(period end, through)``, and a day after ``through`` has no figures yet."""

    metric = models.CharField(max_length=40, primary_key=True)
    through = models.DateField()
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.metric} through {self.through}"

    @classmethod
    def advance(cls, metric: str, through: dt.date) -> None:
        """Record a refresh of ``metric`` through ``through`` (never moving the mark back);
        ``refreshed_at`` always moves, which expires the cached sheets. Call it inside the
        refresh's transaction."""
        mark = cls.objects.select_for_update().filter(metric=metric).first()
        if mark is None:
            cls.objects.create(metric=metric, through=through)
        else:
            mark.through = max(mark.through, through)
            mark.save(update_fields=["through", "refreshed_at"])


class TallyMonth(models.Model):
    """A flow metric's total per region and month (``month``: its first day): the sum of the
    month's daily tallies computed so far, kept by every refresh. A year's figures read twelve
    rows per region instead of 365."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    metric = models.CharField(max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "month", "region"],
                                               name="tally_month_once")]

    def __str__(self) -> str:
        return f"{self.metric}:{self.region_id}@{self.month:%Y-%m}={self.value}"
