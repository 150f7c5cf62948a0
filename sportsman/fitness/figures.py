"""Fitness figures of the cockpit (see ``sportsman.core.figures``), by the station's region and
the test day: residents tested with an overall grade, those at 合格 (pass) or better, and the
share at 合格 or better (the city's target: over 95 % by 2025). A record without a grade (an
item at 0 or not tested) is in neither count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.fitness.models import PASSING, FitnessTest, Grade

DOMAIN = "fitness"


def _per_day(start: dt.date, end: dt.date, grades: list[str]) -> Iterator[Row]:
    rows = (FitnessTest.objects.filter(tested_on__gte=start, tested_on__lte=end,
                                       grade__in=grades)
            .values("region_id", "tested_on").annotate(n=Count("id"))
            .values_list("region_id", "tested_on", "n"))
    for region_id, day, n in rows:
        yield region_id, figures.as_date(day), int(n)


@figures.metric("fitness_graded", label=_("fitness tests with a grade"), kind=Kind.FLOW,
                domain=DOMAIN, order=120)
def graded(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _per_day(start, end, list(Grade.values))


@figures.metric("fitness_passing", label=_("fitness tests at pass or better"), kind=Kind.FLOW,
                domain=DOMAIN, order=121)
def passing(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _per_day(start, end, [str(g) for g in PASSING])


figures.ratio("fitness_pass_share", label=_("share of fitness tests at pass or better"),
              numerator="fitness_passing", denominator="fitness_graded", domain=DOMAIN,
              order=122)
