"""What the cockpit's region pages share: the region in the address, the period asked for, the
period picker, the breadcrumb and the console's chrome around the region."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sportsman.cockpit import periods
from sportsman.cockpit.periods import Grain, Period
from sportsman.core.errors import InvalidInput
from sportsman.regions.access import Access, Perm, access_for
from sportsman.regions.models import Region
from sportsman.regions.views import ConsoleState, _render, console_state

SECTION = "cockpit"
CODE = r"(?P<code>\d{2,12})"  # a statistical code (paths like tasks/ belong to other pages)
PERIOD_GRAINS = {Grain.MONTH: gettext_lazy("Month"), Grain.QUARTER: gettext_lazy("Quarter"),
                 Grain.YEAR: gettext_lazy("Year")}


@dataclasses.dataclass(frozen=True)
class Ask:
    """What the page was asked for (the query string, checked)."""

    period: Period
    grain: str | None  # None: the period's natural grain
    sort: str
    descending: bool
    screen: bool

    def params(self, **changes: Any) -> dict[str, str]:
        values: dict[str, Any] = {"period": self.period.key, "grain": self.grain or "",
                                  "sort": self.sort, "dir": "" if self.descending else "asc",
                                  "screen": "1" if self.screen else ""}
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v}


def here(params: dict[str, str]) -> str:
    """A link to the same page with other parameters."""
    return f"?{urlencode(params)}"


def url(name: str, region: Region, params: dict[str, str] | None = None) -> str:
    path = reverse(name, args=[region.code])
    return f"{path}?{urlencode(params)}" if params else path


def state(request: HttpRequest, region: Region) -> ConsoleState:
    """The console's chrome around ``region`` (its header and path show the cockpit's region)."""
    chrome = console_state(request)
    trail = [r for r in region.ancestors() if chrome.access.can(Perm.REGION_VIEW, r)]
    return dataclasses.replace(chrome, region=region, trail=trail,
                               children=list(region.children.order_by("code")))


def picker(ask: Ask) -> dict[str, Any]:
    """The period picker: month / quarter / year, the periods of the chosen kind (newest
    first), and the previous and next ones."""
    today = timezone.localdate()
    period = ask.period
    anchor = min(period.end, today)
    kinds = [{"label": label, "active": grain is period.grain,
              "url": here(ask.params(period=periods.period_containing(grain, anchor).key,
                                      grain=""))}
             for grain, label in PERIOD_GRAINS.items()]
    options = []
    p = periods.period_containing(period.grain, today)
    while p.start.year >= periods.FIRST_YEAR:
        options.append(p)
        p = p.previous()
    before = period.previous()
    after = periods.period_containing(period.grain, period.end + dt.timedelta(days=1))
    hidden = {k: v for k, v in ask.params().items() if k != "period"}
    return {"kinds": kinds, "options": options, "hidden": hidden,
            "previous": here(ask.params(period=before.key))
            if before.start.year >= periods.FIRST_YEAR else None,
            "next": here(ask.params(period=after.key)) if after.start <= today else None}


def crumbs(access: Access, region: Region, name: str,
           params: dict[str, str]) -> list[tuple[Region, str]]:
    """The region's ancestors in the actor's scope, each a link to the same page of theirs."""
    return [(r, url(name, r, params))
            for r in region.ancestors() if access.can(Perm.COCKPIT_VIEW, r)]


def bad_ask(request: HttpRequest, region: Region, exc: InvalidInput) -> HttpResponse:
    """The page with the problem named and a picker on the current month (status 400)."""
    ask = Ask(periods.parse(None), None, "", True, False)
    problems = [str(v) for v in exc.fields.values()]
    response = _render(request, "cockpit/dashboard/bad_request.html", state(request, region),
                       SECTION, region=region, message=exc.message, problems=problems,
                       picker=picker(ask), ask=ask,
                       crumbs=crumbs(access_for(request), region, "cockpit:region", ask.params()))
    response.status_code = 400
    return response
