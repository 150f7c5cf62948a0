"""Periodic assessments (考核): a region scores its children for a month, a quarter or a year.

The score sheet: one line per subunit (each child of the assessing region), one column per item.
*Data items* are the city's index indicators (``sportsman.cockpit.index``), copied in when the
assessment is created and computed from ``tallies.sheet(region, period)``: each subunit's share
(min–max among the subunits, or against a target) times the item's maximum. *Manual items*
(e.g. "组织保障" 10 分) are scored by the assessors, 0 to the maximum, with a note. The manual
items' maxima come first; the data items share what is left of 100 in proportion to their
weights. A subunit's total is the sum of its points; ranks are competition ranks (1, 1, 3).

Who may do what:

- create, recompute, change the manual items, score, publish, correct: ``Perm.ASSESS`` over the
  assessing region (its own administrators and those above it);
- see a draft: the same; see a published (or superseded) assessment: also the administrators of
  a subunit it scores (``Perm.COCKPIT_VIEW`` over one of them) — a published ranking is meant
  for the units it ranks (通报). Anyone else finds nothing (404).

Life cycle: draft → published, frozen. Every write to a draft locks its row first
(``_lock_draft``) and publishing is a conditional UPDATE from draft under the same lock, so a
score cannot slip in after publication and two concurrent publishes publish once. A correction
is a new *revision*: a draft copied from the published assessment, with a reason; publishing it
marks the old one superseded, which otherwise stays exactly as it was published (ADR 0005).

Every staff write is audited (``assessment.*``); publication publishes the domain event
``cockpit.assessment.published`` and tells each subunit's own administrators their total and
rank (category ``system``). The scheduler opens the drafts of the period that just ended for
every city, district and town, and keeps recent drafts up to date with late figures
(:func:`daily`). See docs/cockpit.md, "Assessments".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, override

from sportsman.cockpit import index, periods, tallies
from sportsman.cockpit.models.assessment import (
    Assessment,
    AssessmentEntry,
    AssessmentItem,
    AssessmentStatus,
    ItemKind,
    ItemScore,
)
from sportsman.cockpit.periods import Grain, Period
from sportsman.core import audit, events
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.regions.access import Access, Perm, own_holders
from sportsman.regions.models import Level, Region

PERM = Perm.ASSESS
ASSESSING_LEVELS = (Level.CITY, Level.DISTRICT, Level.TOWN)
MAX_MANUAL_ITEMS = 10
NAME_MAX = 60
NOTE_MAX = 200
REASON_MAX = 500
TOTAL = Decimal(100)
CENT = Decimal("0.01")
CATCH_UP_DAYS = 7  # the scheduler still opens a period's drafts this many days after it ended
NOTIFY_CATEGORY = "system"
DRAFT, PUBLISHED = AssessmentStatus.DRAFT, AssessmentStatus.PUBLISHED


class AssessmentNotFound(NotFound):
    code = "assessment_not_found"
    default_message = gettext_lazy("No such assessment in your regions.")


class AssessmentExists(Conflict):
    code = "assessment_exists"
    default_message = gettext_lazy("This region already has an assessment for this period.")


class AssessmentState(Conflict):
    code = "assessment_state"
    default_message = gettext_lazy("This assessment is published and can no longer be changed. "
                                   "Open a correction instead.")


class CorrectionOpen(Conflict):
    code = "correction_open"
    default_message = gettext_lazy("A correction of this assessment is already open.")


@dataclass(frozen=True)
class ManualItem:
    name: str
    max_score: Any


@dataclass(frozen=True)
class ScoreInput:
    """An assessor's points (None: not scored) and note for one subunit on one manual item."""

    region_id: int
    item_id: int
    points: Any
    note: str = ""


# --- reading -------------------------------------------------------------------------------------

def period_of(a: Assessment) -> Period:
    return periods.parse(a.period)


def can_manage(access: Access, a: Assessment) -> bool:
    return access.can(PERM, a.region)


def can_see(access: Access, a: Assessment) -> bool:
    if can_manage(access, a):
        return True
    if a.status == DRAFT:
        return False
    scored = Region.objects.filter(pk__in=a.entries.values("region_id"))
    return access.scope(scored, Perm.COCKPIT_VIEW, field="").exists()


def get_assessment(access: Access, assessment_id: int) -> Assessment:
    """The assessment if ``access`` may see it (see the module's docstring); otherwise 404."""
    a = (Assessment.objects.select_related("region", "created_by", "published_by", "supersedes")
         .filter(pk=assessment_id).first())
    if a is None or not can_see(access, a):
        raise AssessmentNotFound()
    return a


def _managed(access: Access, assessment_id: int) -> Assessment:
    a = get_assessment(access, assessment_id)
    if not can_manage(access, a):
        raise Forbidden()
    return a


def assessments_by(region: Region, *, grain: str | None = None,
                   status: str | None = None) -> QuerySet[Assessment]:
    """The assessments ``region`` made, newest period first (the caller checked ``PERM``)."""
    qs = Assessment.objects.filter(region=region).select_related("region")
    if grain:
        qs = qs.filter(grain=grain)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_on", "grain", "-revision")


def assessments_of(region: Region) -> QuerySet[Assessment]:
    """The published assessments that score ``region`` (the caller checked that the actor sees
    ``region``'s cockpit)."""
    return (Assessment.objects.filter(status=PUBLISHED, entries__region=region)
            .select_related("region").order_by("-starts_on", "grain"))


@dataclass
class SheetRow:
    entry: AssessmentEntry
    cells: list[ItemScore]


@dataclass
class ScoreSheet:
    assessment: Assessment
    period: Period
    items: list[AssessmentItem]  # each with ``label``
    rows: list[SheetRow]  # by rank, then code
    max_total: Decimal
    no_data: set[int] = field(default_factory=set)  # data items no subunit has a figure for
    missing: int = 0  # manual cells not scored yet

    @property
    def manual_items(self) -> list[AssessmentItem]:
        return [i for i in self.items if i.kind == ItemKind.MANUAL]


def score_sheet(a: Assessment) -> ScoreSheet:
    """The assessment's items, and each subunit's cells in the items' order (three queries)."""
    known = index.catalogue()
    items = list(a.items.order_by("position", "pk"))
    for item in items:
        found = known.get(item.figure) if item.kind == ItemKind.DATA else None
        label = item.name if item.kind == ItemKind.MANUAL else found.label if found else item.figure
        item.label = label  # type: ignore[attr-defined]
        item.unit = found.unit if found else ""  # type: ignore[attr-defined]
    entries = list(a.entries.select_related("region").order_by("rank", "region__code"))
    cells = {(c.entry_id, c.item_id): c for c in ItemScore.objects.filter(entry__assessment=a)}
    rows = []
    for e in entries:
        rows.append(SheetRow(e, [cells.get((e.pk, i.pk)) or ItemScore(entry=e, item=i)
                                 for i in items]))
    no_data = {i.pk for n, i in enumerate(items) if i.kind == ItemKind.DATA
               and rows and all(r.cells[n].value is None for r in rows)}
    missing = sum(1 for r in rows for i, c in zip(items, r.cells, strict=True)
                  if i.kind == ItemKind.MANUAL and c.points is None)
    return ScoreSheet(a, period_of(a), items, rows, sum((i.max_score for i in items), Decimal(0)),
                      no_data, missing)


# --- validation ----------------------------------------------------------------------------------

def parse_points(value: Any) -> Decimal | None:
    """A number with at most two decimals, or None."""
    d = index.parse_decimal(value)
    if d is None or d != d.quantize(CENT):
        return None
    return d


def _clean_manual(items: Sequence[ManualItem], *, has_data: bool) -> list[tuple[str, Decimal]]:
    problems: dict[str, str] = {}
    if len(items) > MAX_MANUAL_ITEMS:
        problems["manual_items"] = _("At most %(n)d manual items.") % {"n": MAX_MANUAL_ITEMS}
    out: list[tuple[str, Decimal]] = []
    for n, item in enumerate(items[:MAX_MANUAL_ITEMS]):
        name = (item.name or "").strip()
        if not name or len(name) > NAME_MAX:
            problems[f"manual_items.{n}.name"] = _("Name the item in 1 to %(n)d "
                                                   "characters.") % {"n": NAME_MAX}
        elif name in {o[0] for o in out}:
            problems[f"manual_items.{n}.name"] = _("Two manual items have this name.")
        top = parse_points(item.max_score)
        if top is None or not 0 < top <= TOTAL:
            problems[f"manual_items.{n}.max_score"] = _("A maximum score is above 0 and at most "
                                                        "100, in steps of 0.01.")
            top = Decimal(0)
        out.append((name, top))
    total = sum((t for _n, t in out), Decimal(0))
    if not problems and has_data and total >= TOTAL:
        problems["manual_items"] = _("The manual items must leave points for the data items: "
                                     "together they must stay below 100.")
    elif not problems and total > TOTAL:
        problems["manual_items"] = _("The manual items may add up to at most 100.")
    if problems:
        raise InvalidInput(_("The manual items are not valid."), code="bad_manual_items",
                           fields=problems)
    return out


def _data_maxima(data: Sequence[AssessmentItem], manual_total: Decimal) -> list[Decimal]:
    maxima = index.scale_to([i.weight or Decimal(0) for i in data], TOTAL - manual_total)
    if any(m <= 0 for m in maxima):
        raise InvalidInput(_("The manual items leave too few points for the data items."),
                           code="bad_manual_items",
                           fields={"manual_items": _("Lower the manual items' maxima.")})
    return maxima


def _check_assessable(region: Region, period: Period) -> None:
    if region.level not in ASSESSING_LEVELS:
        raise InvalidInput(_("Only a city, a district or a town assesses its subunits."),
                           code="not_assessing_level")
    if not region.children.exists():
        raise InvalidInput(_("This region has no subunits to assess."), code="no_subunits")
    if period.start > timezone.localdate():
        raise InvalidInput(_("This period has not begun."), code="future_period",
                           fields={"period": _("Choose a period that has begun.")})


# --- computing -----------------------------------------------------------------------------------

def _lock_draft(assessment_id: int) -> Assessment:
    """The draft's row, locked until the end of the transaction (every write to a draft and
    its publication take this lock; see the module's docstring)."""
    a = (Assessment.objects.select_for_update(of=("self",)).select_related("region")
         .filter(pk=assessment_id).first())
    if a is None:
        raise AssessmentNotFound()
    if a.status != DRAFT:
        raise AssessmentState()
    return a


def _totals(a: Assessment) -> None:
    """Each subunit's total and competition rank, from its cells."""
    sums: dict[int, Decimal] = {}
    for entry_id, points in ItemScore.objects.filter(entry__assessment=a).values_list(
            "entry_id", "points"):
        sums[entry_id] = sums.get(entry_id, Decimal(0)) + (points or Decimal(0))
    entries = list(a.entries.all())
    for e in entries:
        e.total = sums.get(e.pk, Decimal(0)).quantize(CENT)
    for e, rank in zip(entries, index.competition_ranks([e.total for e in entries]), strict=True):
        e.rank = rank
    AssessmentEntry.objects.bulk_update(entries, ["total", "rank"])


def _compute(a: Assessment) -> None:
    """Bring a draft up to date: its subunits (the region's children now), every cell, the data
    items from the figures, then totals and ranks."""
    sheet = tallies.sheet(a.region, period_of(a))
    columns = {c.region.pk: c for c in sheet.children}
    entries = {e.region_id: e for e in a.entries.all()}
    gone = [e.pk for rid, e in entries.items() if rid not in columns]
    if gone:
        AssessmentEntry.objects.filter(pk__in=gone).delete()
    AssessmentEntry.objects.bulk_create([AssessmentEntry(assessment=a, region_id=rid)
                                         for rid in columns if rid not in entries])
    entries = {e.region_id: e for e in a.entries.all()}
    items = list(a.items.all())
    cells = {(c.entry_id, c.item_id): c for c in ItemScore.objects.filter(entry__assessment=a)}
    ItemScore.objects.bulk_create([ItemScore(entry_id=e.pk, item_id=i.pk)
                                   for e in entries.values() for i in items
                                   if (e.pk, i.pk) not in cells])
    cells = {(c.entry_id, c.item_id): c
             for c in ItemScore.objects.filter(entry__assessment=a, item__kind=ItemKind.DATA)}
    known = index.catalogue()
    order = sorted(entries)
    changed = []
    for item in items:
        if item.kind != ItemKind.DATA:
            continue
        indicator = known.get(item.figure)
        values = [indicator.value(columns[rid]) if indicator else None for rid in order]
        for rid, value, share in zip(order, values, index.shares(item, values), strict=True):
            cell = cells[(entries[rid].pk, item.pk)]
            cell.value = value
            cell.points = (None if share is None
                           else (Decimal(str(share)) * item.max_score).quantize(CENT))
            changed.append(cell)
    ItemScore.objects.bulk_update(changed, ["value", "points"])
    a.figures_as_of = sheet.as_of
    a.computed_at = timezone.now()
    a.save(update_fields=["figures_as_of", "computed_at", "updated_at"])
    _totals(a)


def _previous_manual(region: Region, grain: str, has_data: bool) -> list[tuple[str, Decimal]]:
    """The manual items of the region's latest assessment of the same kind (a scheduled draft
    starts with them), if they still fit."""
    last = (Assessment.objects.filter(region=region, grain=grain)
            .order_by("-starts_on", "-revision").first())
    if last is None:
        return []
    items = [ManualItem(i.name, i.max_score)
             for i in last.items.filter(kind=ItemKind.MANUAL).order_by("position")]
    try:
        return _clean_manual(items, has_data=has_data)
    except InvalidInput:
        return []


def _create(region: Region, period: Period, manual_items: Sequence[ManualItem] | None, *,
            created_by: Any) -> Assessment:
    config = index.current_config(index.city_of(region))
    data = list(config.indicators.all()) if config is not None else []
    manual = (_previous_manual(region, period.grain, bool(data)) if manual_items is None
              else _clean_manual(manual_items, has_data=bool(data)))
    data_items = [AssessmentItem(kind=ItemKind.DATA, figure=i.figure, weight=i.weight,
                                 direction=i.direction, normalisation=i.normalisation,
                                 target=i.target, max_score=Decimal(0)) for i in data]
    maxima = _data_maxima(data_items, sum((m for _n, m in manual), Decimal(0)))
    a = Assessment.objects.create(region=region, grain=period.grain, period=period.key,
                                  starts_on=period.start,
                                  index_version=config.version if config else None,
                                  created_by=created_by)
    for n, (item, top) in enumerate(zip(data_items, maxima, strict=True)):
        item.assessment, item.position, item.max_score = a, n, top
    AssessmentItem.objects.bulk_create([
        *data_items,
        *(AssessmentItem(assessment=a, position=len(data_items) + n, kind=ItemKind.MANUAL,
                         name=name, max_score=top) for n, (name, top) in enumerate(manual))])
    _compute(a)
    return a


# --- services ------------------------------------------------------------------------------------

def _items_record(a: Assessment) -> list[dict[str, Any]]:
    return [{"kind": i.kind, "name": i.name, "figure": i.figure, "max_score": str(i.max_score)}
            for i in a.items.order_by("position")]


def create_assessment(*, actor: Access, region: Region, period: Period,
                      manual_items: Sequence[ManualItem] | None = None,
                      request: Any = None) -> Assessment:
    """Open the draft assessment of ``region``'s subunits for ``period``: the data items copied
    from the city's current index configuration, the manual items given (None: those of the
    region's previous assessment of the same kind), every cell computed. The actor holds
    ``PERM`` over ``region``, a city, district or town with subunits; the period has begun.
    One per region and period (``assessment_exists``; the database enforces it). Audited."""
    actor.require(PERM, region)
    _check_assessable(region, period)
    with transaction.atomic():
        if Assessment.objects.filter(region=region, period=period.key).exists():
            raise AssessmentExists()
        try:
            with transaction.atomic():
                a = _create(region, period, manual_items, created_by=actor.user)
        except IntegrityError:
            raise AssessmentExists() from None
        audit.record(actor=actor.user, action="assessment.create", obj=a, region=region,
                     request=request, data={"period": a.period, "index_version": a.index_version,
                                            "items": _items_record(a)})
    return a


def recompute(*, actor: Access, assessment_id: int, request: Any = None) -> Assessment:
    """Recompute a draft's data items from the figures as they are now (late records reach a
    draft this way; the scheduler also does it nightly). Manual scores are kept. Audited."""
    _managed(actor, assessment_id)
    with transaction.atomic():
        a = _lock_draft(assessment_id)
        _compute(a)
        audit.record(actor=actor.user, action="assessment.recompute", obj=a, region=a.region,
                     request=request, data={"figures_as_of": str(a.figures_as_of)})
    return a


def set_manual_items(*, actor: Access, assessment_id: int, items: Sequence[ManualItem],
                     request: Any = None) -> Assessment:
    """Replace a draft's manual items. An item kept by name keeps its scores (refused when one
    is above its new maximum); a removed item loses them. The data items' maxima follow (they
    share what the manual items leave of 100) and are recomputed. Audited with before/after."""
    _managed(actor, assessment_id)
    with transaction.atomic():
        a = _lock_draft(assessment_id)
        before = _items_record(a)
        data = list(a.items.filter(kind=ItemKind.DATA).order_by("position"))
        current = {i.name: i for i in a.items.filter(kind=ItemKind.MANUAL)}
        cleaned = _clean_manual(items, has_data=bool(data))
        maxima = _data_maxima(data, sum((m for _n, m in cleaned), Decimal(0)))
        problems = {}
        for n, (name, top) in enumerate(cleaned):
            kept = current.get(name)
            if kept is not None and kept.scores.filter(points__gt=top).exists():
                problems[f"manual_items.{n}.max_score"] = _(
                    "Some subunits already have more points than this on this item: lower "
                    "their scores first.")
        if problems:
            raise InvalidInput(_("The manual items are not valid."), code="bad_manual_items",
                               fields=problems)
        names = {name for name, _t in cleaned}
        AssessmentItem.objects.filter(pk__in=[i.pk for n, i in current.items()
                                              if n not in names]).delete()
        for item, top in zip(data, maxima, strict=True):
            item.max_score = top
        AssessmentItem.objects.bulk_update(data, ["max_score"])
        for n, (name, top) in enumerate(cleaned):
            kept = current.get(name)
            if kept is None:
                AssessmentItem.objects.create(assessment=a, position=len(data) + n,
                                              kind=ItemKind.MANUAL, name=name, max_score=top)
            else:
                kept.position, kept.max_score = len(data) + n, top
                kept.save(update_fields=["position", "max_score"])
        _compute(a)
        audit.record(actor=actor.user, action="assessment.items", obj=a, region=a.region,
                     request=request, data={"before": before, "after": _items_record(a)})
    return a


def enter_scores(*, actor: Access, assessment_id: int, scores: Sequence[ScoreInput],
                 request: Any = None) -> Assessment:
    """Record assessors' points (0 to the item's maximum, two decimals; None clears) and notes
    on a draft's manual items. All or nothing: one bad score refuses the lot (``bad_scores``,
    with the field of each problem). Totals and ranks follow. Audited with each change."""
    _managed(actor, assessment_id)
    with transaction.atomic():
        a = _lock_draft(assessment_id)
        items = {i.pk: i for i in a.items.filter(kind=ItemKind.MANUAL)}
        entries = {e.region_id: e for e in a.entries.select_related("region")}
        cells = {(c.entry_id, c.item_id): c for c in
                 ItemScore.objects.filter(entry__assessment=a, item__kind=ItemKind.MANUAL)}
        problems: dict[str, str] = {}
        seen: set[tuple[int, int]] = set()
        changes: list[tuple[ItemScore, AssessmentEntry, AssessmentItem, Decimal | None,
                            str]] = []
        for n, s in enumerate(scores):
            where = f"scores.{n}"
            item, entry = items.get(s.item_id), entries.get(s.region_id)
            if item is None:
                problems[f"{where}.item"] = _("Not a manual item of this assessment.")
                continue
            if entry is None:
                problems[f"{where}.region"] = _("Not a subunit of this assessment.")
                continue
            if (entry.pk, item.pk) in seen:
                problems[where] = _("This subunit and item are given twice.")
                continue
            seen.add((entry.pk, item.pk))
            blank = s.points is None or (isinstance(s.points, str) and not s.points.strip())
            points = None if blank else parse_points(s.points)
            if not blank and (points is None or not 0 <= points <= item.max_score):
                problems[f"{where}.points"] = _("From 0 to %(max)s points, in steps of "
                                                "0.01.") % {"max": item.max_score}
            note = (s.note or "").strip()
            if len(note) > NOTE_MAX:
                problems[f"{where}.note"] = _("At most %(n)d characters.") % {"n": NOTE_MAX}
            cell = cells.get((entry.pk, item.pk)) or ItemScore(entry=entry, item=item)
            if cell.pk is None or cell.points != points or cell.note != note:
                changes.append((cell, entry, item, points, note))
        if problems:
            raise InvalidInput(_("Some scores are not valid; nothing was saved."),
                               code="bad_scores", fields=problems)
        now = timezone.now()
        record = []
        for cell, entry, item, points, note in changes:
            record.append({"region": entry.region.code, "item": item.name,
                           "from": None if cell.points is None else str(cell.points),
                           "to": None if points is None else str(points), "note": note})
            cell.points, cell.note, cell.entered_by, cell.entered_at = (points, note,
                                                                         actor.user, now)
            cell.save()
        if changes:
            _totals(a)
            audit.record(actor=actor.user, action="assessment.score", obj=a, region=a.region,
                         request=request, data={"changes": record})
    return a


def publish(*, actor: Access, assessment_id: int, request: Any = None) -> Assessment:
    """Publish a draft: its scores are frozen from now on. Refused while a manual score is
    missing (``scores_missing``) or when it is no longer a draft (``assessment_state``: of two
    concurrent publishes, one publishes and the other is refused). Publishing a correction
    marks the assessment it corrects superseded. Audited; the domain event
    ``cockpit.assessment.published``; each subunit's own administrators are told their total and
    rank."""
    _managed(actor, assessment_id)
    with transaction.atomic():
        a = _lock_draft(assessment_id)
        missing = ItemScore.objects.filter(entry__assessment=a, item__kind=ItemKind.MANUAL,
                                           points__isnull=True).count()
        if missing:
            raise InvalidInput(ngettext("%(n)d manual score is still missing.",
                                        "%(n)d manual scores are still missing.",
                                        missing) % {"n": missing}, code="scores_missing")
        if not a.entries.exists():
            raise InvalidInput(_("This assessment scores no subunit."), code="no_subunits")
        now = timezone.now()
        if a.supersedes_id is not None:
            Assessment.objects.filter(pk=a.supersedes_id, status=PUBLISHED).update(
                status=AssessmentStatus.SUPERSEDED, updated_at=now)
        done = Assessment.objects.filter(pk=a.pk, status=DRAFT).update(
            status=PUBLISHED, published_at=now, published_by=actor.user, updated_at=now)
        if done != 1:
            raise AssessmentState()
        a.refresh_from_db()
        audit.record(actor=actor.user, action="assessment.publish", obj=a, region=a.region,
                     request=request, data={"period": a.period, "revision": a.revision,
                                            "supersedes": a.supersedes_id})
        events.publish("cockpit.assessment.published",
                       {"assessment_id": a.pk, "region_id": a.region_id, "period": a.period,
                        "revision": a.revision})
        _notify_published(a)
    return a


def revise(*, actor: Access, assessment_id: int, reason: str, request: Any = None) -> Assessment:
    """Open a correction of a published assessment: the next revision, a draft copied from it
    (items, subunits, cells, notes) with the reason. The published one stays as it is until the
    correction is published. One open correction at a time (``correction_open``). Audited."""
    _managed(actor, assessment_id)
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(_("Say why the assessment is corrected."), code="reason_required",
                           fields={"reason": _("1 to %(n)d characters.") % {"n": REASON_MAX}})
    with transaction.atomic():
        src = (Assessment.objects.select_for_update(of=("self",)).select_related("region")
               .get(pk=assessment_id))
        if src.status != PUBLISHED:
            raise AssessmentState(_("Only the published assessment can be corrected."))
        same = Assessment.objects.filter(region=src.region, period=src.period)
        if same.filter(status=DRAFT).exists():
            raise CorrectionOpen()
        last = same.aggregate(r=Max("revision"))["r"]
        try:
            with transaction.atomic():
                new = Assessment.objects.create(
                    region=src.region, grain=src.grain, period=src.period,
                    starts_on=src.starts_on, revision=last + 1, supersedes=src, reason=reason,
                    index_version=src.index_version, figures_as_of=src.figures_as_of,
                    computed_at=src.computed_at, created_by=actor.user)
        except IntegrityError:
            raise CorrectionOpen() from None
        _copy_sheet(src, new)
        audit.record(actor=actor.user, action="assessment.revise", obj=new, region=new.region,
                     request=request, data={"supersedes": src.pk, "revision": new.revision,
                                            "reason": reason})
    return new


def _copy_sheet(src: Assessment, new: Assessment) -> None:
    item_ids: dict[int, AssessmentItem] = {}
    for item in src.items.all():
        old = item.pk
        item.pk, item.assessment = None, new
        item_ids[old] = item
    AssessmentItem.objects.bulk_create(list(item_ids.values()))
    entry_ids: dict[int, AssessmentEntry] = {}
    for entry in src.entries.all():
        old = entry.pk
        entry.pk, entry.assessment = None, new
        entry_ids[old] = entry
    AssessmentEntry.objects.bulk_create(list(entry_ids.values()))
    cells = []
    for cell in ItemScore.objects.filter(entry__assessment=src):
        cell.pk = None
        cell.entry, cell.item = entry_ids[cell.entry_id], item_ids[cell.item_id]
        cells.append(cell)
    ItemScore.objects.bulk_create(cells)


# --- telling the subunits ------------------------------------------------------------------------

def ranking_link(assessment_id: int) -> str:
    return reverse("cockpit:assessment_ranking", args=[assessment_id])


def _notify_published(a: Assessment) -> None:
    """Each subunit's own administrators (not those of the assessing region or above) hear their
    total and rank. Stored text: written in the site's language."""
    from sportsman.notifications.services import notify

    entries = list(a.entries.select_related("region").order_by("rank", "region__code"))
    admins = own_holders(Perm.COCKPIT_VIEW, [e.region_id for e in entries])
    with override(settings.LANGUAGE_CODE):
        label = period_of(a).label()
        title = (_("%(region)s published its assessment for %(period)s") if a.revision == 1
                 else _("%(region)s corrected its assessment for %(period)s")) % {
            "region": a.region.name, "period": label}
        for e in entries:
            body = _("%(unit)s: %(total)s points, rank %(rank)s of %(count)d.") % {
                "unit": e.region.name, "total": e.total, "rank": e.rank, "count": len(entries)}
            notify(users=get_user_model().objects.filter(pk__in=admins[e.region_id]),
                   category=NOTIFY_CATEGORY, title=title[:200], body=body,
                   link=ranking_link(a.pk),
                   data={"assessment_id": a.pk, "total": str(e.total), "rank": e.rank},
                   dedupe_key=f"assessment:{a.pk}:{e.region_id}")


# --- the scheduler -------------------------------------------------------------------------------

def _assessing_regions() -> Iterator[Region]:
    return (Region.objects.filter(level__in=ASSESSING_LEVELS, children__isnull=False)
            .distinct().order_by("path").iterator(chunk_size=500))


def open_due_drafts(today: dt.date | None = None) -> int:
    """Open the draft of every city, district and town for the month, quarter and year that
    ended within the last ``CATCH_UP_DAYS`` days (so the 1st of a month opens last month's, and
    a scheduler that was down a few days catches up). Idempotent: a region and period that has
    an assessment is skipped, and a concurrent run's insert loses on the unique constraint.
    Returns the number opened."""
    today = today or timezone.localdate()
    due = [p for grain in (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
           if (today - (p := periods.period_containing(grain, today).previous()).end).days
           <= CATCH_UP_DAYS]
    if not due:
        return 0
    have = set(Assessment.objects.filter(period__in=[p.key for p in due])
               .values_list("region_id", "period"))
    opened = 0
    for region in _assessing_regions():
        for period in due:
            if (region.pk, period.key) in have:
                continue
            try:
                with transaction.atomic():
                    a = _create(region, period, None, created_by=None)
                    audit.record(actor=None, action="assessment.create", obj=a, region=region,
                                 data={"period": a.period, "index_version": a.index_version,
                                       "items": _items_record(a), "by": "schedule"})
            except IntegrityError:
                continue  # another run opened it meanwhile
            opened += 1
    return opened


def recompute_drafts(today: dt.date | None = None) -> int:
    """Recompute the data items of every draft whose period ended within the days the nightly
    figure refresh revisits (late records change those figures). Returns how many."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=tallies.RECENT_MAX_DAYS)
    done = 0
    for a_id, key in (Assessment.objects.filter(status=DRAFT,
                                                starts_on__gte=since - dt.timedelta(days=366))
                      .values_list("pk", "period")):
        if periods.parse(key).end < since:
            continue
        with transaction.atomic():
            try:
                _compute(_lock_draft(a_id))
            except (AssessmentState, AssessmentNotFound):
                continue  # published meanwhile
        done += 1
    return done


def daily(today: dt.date | None = None) -> int:
    """The nightly job: open due drafts, then bring recent drafts up to date."""
    return open_due_drafts(today) + recompute_drafts(today)


# --- export --------------------------------------------------------------------------------------

def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def ranking_xlsx(*, access: Access, assessment_id: int, request: Any = None) -> tuple[str, bytes]:
    """(file name stem, xlsx) of an assessment's ranking: one row per subunit with its points per
    item, total and rank; what the assessment is; the assessors' notes. The actor may see the
    assessment. Audited (``assessment.export``, kind view)."""
    from sportsman.core import xlsx
    from sportsman.core.models import AuditEntry

    a = get_assessment(access, assessment_id)
    sheet = score_sheet(a)
    heads = [f"{i.label} ({i.max_score})" for i in sheet.items]  # type: ignore[attr-defined]
    ranking: xlsx.Sheet = (
        _("Ranking"),
        [_("Rank"), _("Subunit"), _("Code"), *heads, f"{_('Total')} ({sheet.max_total})"],
        [[row.entry.rank, row.entry.region.name, row.entry.region.code,
          *(_num(c.points) for c in row.cells), _num(row.entry.total)] for row in sheet.rows])
    about: xlsx.Sheet = (_("About"), [_("Item"), _("Value")], [
        [_("Assessing region"), a.region.name],
        [_("Period"), sheet.period.label()],
        [_("Status"), str(a.get_status_display())],  # type: ignore[attr-defined]
        [_("Revision"), a.revision],
        [_("Reason for the correction"), a.reason],
        [_("Published"), a.published_at],
        [_("Figures as of"), a.figures_as_of],
        [_("Index version"), a.index_version]])
    noted: list[list[Any]] = [[row.entry.region.name, i.name, c.note] for row in sheet.rows
                              for i, c in zip(sheet.items, row.cells, strict=True) if c.note]
    notes: xlsx.Sheet = (_("Notes"), [_("Subunit"), _("Item"), _("Note")], noted)
    content = xlsx.workbook([ranking, about, notes])
    audit.record(actor=access.user, action="assessment.export", kind=AuditEntry.Kind.VIEW,
                 obj=a, region=a.region, request=request)
    return f"assessment-{a.region.code}-{a.period}-r{a.revision}", content
