"""The associations' cockpit figures for evaluation and the board (see ``sportsman.core.figures``),
by the association's region:

- ``associations_grade_5a`` … ``_1a`` (stocks): associations holding that grade on a day — from
  the day a grade is published (公示) until its ``valid_until``, or until the association's next
  published grade, whichever comes first;
- ``evaluations_published`` (flow): evaluations published that day;
- ``notices_received`` / ``notices_acknowledged`` (stocks): notices delivered to associations up
  to a day (by the notice's publication) and those acknowledged by then (by the
  acknowledgement's time); their ratio is the share acknowledged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.associations.models import (
    Evaluation,
    EvaluationStatus,
    Grade,
    NoticeRecipient,
)
from sportsman.core import figures
from sportsman.core.figures import Kind, Row

DOMAIN = "associations"


def grade_spans() -> dict[str, list[tuple[int, dt.date, dt.date]]]:
    """Per grade, the spans (region_id, first day, last day) each association held it."""
    tz = figures.zone()
    by_association: dict[int, list[tuple[dt.date, dt.date, str, int]]] = defaultdict(list)
    rows = (Evaluation.objects.filter(status=EvaluationStatus.PUBLISHED)
            .exclude(published_at=None).exclude(valid_until=None)
            .values_list("association_id", "association__region_id", "published_at",
                         "valid_until", "grade"))
    for association_id, region_id, at, until, grade in rows:
        if at is None or until is None:
            continue
        by_association[association_id].append((at.astimezone(tz).date(), until, grade,
                                               region_id))
    out: dict[str, list[tuple[int, dt.date, dt.date]]] = defaultdict(list)
    for held in by_association.values():
        held.sort()
        for i, (first, until, grade, region_id) in enumerate(held):
            last = until
            if i + 1 < len(held):
                last = min(last, held[i + 1][0] - dt.timedelta(days=1))
            if first <= last:
                out[grade].append((region_id, first, last))
    return out


GRADE_LABELS = {
    Grade.A5: _("associations rated 5A"), Grade.A4: _("associations rated 4A"),
    Grade.A3: _("associations rated 3A"), Grade.A2: _("associations rated 2A"),
    Grade.A1: _("associations rated 1A"),
}


def _graded(grade: str):
    def compute(start: dt.date, end: dt.date) -> Iterator[Row]:
        return figures.covered_days(grade_spans().get(grade, []), start, end)
    return compute


for _order, (_grade, _label) in enumerate(GRADE_LABELS.items()):
    figures.metric(f"associations_grade_{_grade.value.lower()}", label=_label, kind=Kind.STOCK,
                   domain=DOMAIN, order=150 + _order)(_graded(_grade.value))


@figures.metric("evaluations_published", label=_("evaluations published"), kind=Kind.FLOW,
                domain=DOMAIN, order=156)
def evaluations_published(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Evaluation.objects.filter(status=EvaluationStatus.PUBLISHED),
                           at="published_at", region="association__region_id",
                           value=Count("id"), start=start, end=end)


def _stock(rows: Iterable[tuple[int, dt.datetime | None]], start: dt.date,
           end: dt.date) -> Iterator[Row]:
    """A running count per region of rows stamped up to each day."""
    tz = figures.zone()
    before: dict[int, int] = defaultdict(int)
    changes: list[tuple[int, dt.date, int]] = []
    for region_id, at in rows:
        if at is None:
            continue
        day = at.astimezone(tz).date()
        if day < start:
            before[region_id] += 1
        elif day <= end:
            changes.append((region_id, day, 1))
    return figures.stock_from_changes(before, changes, start, end)


@figures.metric("notices_received", label=_("notices delivered to associations"),
                kind=Kind.STOCK, domain=DOMAIN, order=157)
def notices_received(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _stock(NoticeRecipient.objects.values_list("association__region_id",
                                                      "notice__published_at"), start, end)


@figures.metric("notices_acknowledged", label=_("notices acknowledged by associations"),
                kind=Kind.STOCK, domain=DOMAIN, order=158)
def notices_acknowledged(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _stock(NoticeRecipient.objects.exclude(acknowledged_at=None)
                  .values_list("association__region_id", "acknowledged_at"), start, end)


figures.ratio("notices_acknowledged_share", label=_("share of notices acknowledged"),
              numerator="notices_acknowledged", denominator="notices_received", domain=DOMAIN,
              order=159)
