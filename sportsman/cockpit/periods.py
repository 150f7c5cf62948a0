"""The periods the cockpit reports on and assesses: a year ("2026"), a quarter ("2026-Q3") or a
month ("2026-11"), in local days."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core.errors import InvalidInput

FIRST_YEAR = 2020


class Grain(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


GRAIN_LABELS = {Grain.YEAR: gettext_lazy("yearly"), Grain.QUARTER: gettext_lazy("quarterly"),
                Grain.MONTH: gettext_lazy("monthly")}

_PATTERN = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?$")


@dataclass(frozen=True)
class Period:
    grain: Grain
    key: str
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return period_containing(self.grain, self.start - dt.timedelta(days=1))

    def up_to(self, day: dt.date) -> Period:
        """This period cut at ``day`` (inclusive): its days so far."""
        return Period(self.grain, self.key, self.start, max(self.start, min(self.end, day)))

    def comparable_before(self, as_of: dt.date | None) -> Period:
        """The previous period, cut to as many days as this one has had by ``as_of``: a month
        in progress compares with the same days of the month before, not with all of it."""
        before = self.previous()
        if as_of is None or as_of >= self.end:
            return before
        return before.up_to(before.start + (min(as_of, self.end) - self.start))

    def label(self) -> str:
        if self.grain is Grain.YEAR:
            return _("%(year)d") % {"year": self.start.year}
        if self.grain is Grain.QUARTER:
            return _("Q%(q)d %(year)d") % {"q": (self.start.month - 1) // 3 + 1,
                                           "year": self.start.year}
        return _("%(month)d/%(year)d") % {"month": self.start.month, "year": self.start.year}


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return first_next - dt.timedelta(days=1)


def period_containing(grain: Grain, on: dt.date) -> Period:
    if grain is Grain.YEAR:
        return Period(grain, str(on.year), dt.date(on.year, 1, 1), dt.date(on.year, 12, 31))
    if grain is Grain.QUARTER:
        q = (on.month - 1) // 3 + 1
        first = dt.date(on.year, 3 * q - 2, 1)
        return Period(grain, f"{on.year}-Q{q}", first, _month_end(on.year, 3 * q))
    return Period(grain, f"{on.year}-{on.month:02d}", on.replace(day=1),
                  _month_end(on.year, on.month))


def parse_key(value: str) -> Period:
    """The period a key names ("2026", "2026-Q3", "2026-11"), begun or not; InvalidInput
    ``bad_period`` when it is not one."""
    match = _PATTERN.match(value.strip())
    year = int(match.group(1)) if match else 0
    if match is None or year < FIRST_YEAR:
        raise InvalidInput(_("Unknown period."), code="bad_period", fields={
            "period": _("Give a year (2026), a quarter (2026-Q3) or a month (2026-11) from "
                        "%(first)d to this year.") % {"first": FIRST_YEAR}})
    month, quarter = match.group(2), match.group(3)
    if month:
        return period_containing(Grain.MONTH, dt.date(year, int(month), 1))
    if quarter:
        return period_containing(Grain.QUARTER, dt.date(year, 3 * int(quarter) - 2, 1))
    return period_containing(Grain.YEAR, dt.date(year, 1, 1))


def parse(value: str | None, *, default: Grain = Grain.MONTH) -> Period:
    """"2026", "2026-Q3" or "2026-11"; empty means the current ``default`` period. A period
    that has not begun is refused with its own code, ``period_not_begun``: it is a real period,
    only not yet one with figures (next month may lie in next year)."""
    today = timezone.localdate()
    if not value:
        return period_containing(default, today)
    period = parse_key(value)
    if period.start > today:
        raise InvalidInput(_("This period has not begun."), code="period_not_begun", fields={
            "period": _("Choose the current period or an earlier one.")})
    return period
