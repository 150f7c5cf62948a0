"""The monthly report of a region (月度报告): what it says, and the HTML and PDF that show it.

Everything is derived from the figures (``tallies.sheet`` and ``tallies.series``, through the
dashboard's ``board``), never from records, and follows the registry
(``sportsman.core.figures``): a domain that declares figures gets its rows in the table and a
sentence in the summary without a template change.

- :func:`build` gathers the content: the headline figures with their change on the previous month
  (环比) and, when that month was computed, on the same month a year before (同比); a summary
  paragraph written from them; every figure in a table; the subunits ranked; the trend charts
  (the month by day, the twelve months up to it by month, the subunits side by side) drawn as
  SVG by ``svgcharts``; and the sections other parts of the cockpit add when present
  (overdue supervision tasks).
- :func:`render_html` gives the one template both the printable page and the PDF use;
  :func:`render_pdf` lays it out on A4 with WeasyPrint (CJK fonts: Noto Sans CJK), loading
  nothing from the network.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from sportsman.cockpit import board, periods, svgcharts, tallies
from sportsman.cockpit.board import Figure, Value
from sportsman.cockpit.models import Tally
from sportsman.cockpit.periods import Grain, Period
from sportsman.core import figures
from sportsman.core.errors import InvalidInput
from sportsman.regions.models import Region

TEMPLATE = "cockpit/report/document.html"
STYLESHEET = "cockpit/report.css"
# The figures the summary speaks of, in this order (those the registry knows); each domain
# not covered here adds its first figure, so a new domain is never left out.
SUMMARY = ("exercise_minutes", "regular_share", "residents_active_30d", "residents_registered",
           "visits", "utilisation")
CARDS = 8  # headline figures on the cover
SUBUNIT_COLUMNS = 4  # figures of the subunit table besides the one it is ranked by
TREND_MONTHS = 12
SMALL = (330, 190)  # one of two charts side by side on an A4 page, in CSS px


# --- the period -----------------------------------------------------------------------------------

def month(value: str, *, finished: bool = False, today: dt.date | None = None) -> Period:
    """The month ``value`` ("2026-05") names; ``finished``: only a month that is over (a stored
    report is of a whole month). InvalidInput ``period_not_begun`` for a month still to come,
    ``bad_period`` otherwise, saying why."""
    today = today or timezone.localdate()
    try:
        period = periods.parse_key(value) if value else None
    except InvalidInput:
        period = None
    code = "bad_period"
    if period is None or period.grain is not Grain.MONTH:
        problem = _("Unknown month: give it as YYYY-MM, for example 2026-05.")
    elif period.start > today:
        code, problem = "period_not_begun", _(
            "This month has not begun: choose this month or an earlier one.")
    elif finished and period.end >= today:
        problem = _("This month is not over yet: its report can be generated from the first "
                    "day of the next month.")
    else:
        return period
    raise InvalidInput(problem, code=code, fields={"period": problem})


def last_month(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    return periods.period_containing(Grain.MONTH, today.replace(day=1) - dt.timedelta(days=1))


def _year_before(period: Period) -> Period:
    return periods.period_containing(Grain.MONTH, period.start.replace(year=period.start.year - 1))


def _months_back(period: Period, count: int) -> Period:
    for _i in range(count):
        period = period.previous()
    return period


def computed(period: Period) -> bool:
    """Whether any figure was computed for a day of ``period`` (a month before the figures were
    first built has none: nothing to compare with, rather than zeros)."""
    keys = [m.key for m in figures.metrics()]
    return Tally.objects.filter(metric__in=keys,
                                day__range=(period.start, period.end)).exists()


# --- formatting -----------------------------------------------------------------------------------

def number(value: float | None, decimals: int = 0) -> str:
    """A number written for the current language (zh: 12345; en: 12,345)."""
    if value is None:
        return "—"
    return number_format(round(value, decimals), decimals, force_grouping=True)


def show(figure: Figure, value: float | None) -> str:
    """A figure's value without its unit (the table's heading carries it), a share with %."""
    if value is None:
        return "—"
    if figure.is_ratio:
        return number(value, 1) + ("%" if str(figure.unit) == "%" else "")
    return number(value)


def with_unit(figure: Figure, value: float | None) -> str:
    text = show(figure, value)
    unit = str(figure.unit)
    if value is None or not unit or (figure.is_ratio and unit == "%"):
        return text
    return f"{text} {unit}"


def compact_change(v: Value) -> str:
    """+5.2% (a count, in percent) or +1.3 pt (a share, in percentage points); — when there is
    nothing to compare with."""
    change = v.change
    if change is None:
        return "—"
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    if v.figure.is_ratio:
        return _("%(sign)s%(points)s pt") % {"sign": sign, "points": number(abs(change), 1)}
    return f"{sign}{number(abs(change), 1)}%"


def _phrase(v: Value, *, year: bool) -> str:
    """How a value moved, as a clause: 环比增长 5.2% / 同比提高 1.3 个百分点 / 与上月持平 …"""
    change = v.change
    if change is None and v.previous == 0 and v.value:
        return _("up from zero a year before") if year else _("up from zero the previous month")
    if change == 0 or (change is None and v.previous == 0 and v.value == 0):
        return _("the same as a year before") if year else _("the same as the previous month")
    if change is None:
        return "" if year else _("no figures for the previous month to compare")
    amount = number(abs(change), 1)
    if v.figure.is_ratio:
        if year:
            return (_("up %(amount)s percentage points on the same month last year")
                    if change > 0 else
                    _("down %(amount)s percentage points on the same month last year")
                    ) % {"amount": amount}
        return (_("up %(amount)s percentage points on the previous month") if change > 0 else
                _("down %(amount)s percentage points on the previous month")
                ) % {"amount": amount}
    if year:
        return (_("up %(amount)s%% on the same month last year") if change > 0 else
                _("down %(amount)s%% on the same month last year")) % {"amount": amount}
    return (_("up %(amount)s%% on the previous month") if change > 0 else
            _("down %(amount)s%% on the previous month")) % {"amount": amount}


def _sentence(line: Line) -> str:
    clauses = [c for c in (_phrase(line.month, year=False),
                           _phrase(line.year, year=True) if line.year else "") if c]
    changes = functools.reduce(lambda a, b: _("%(first)s, %(second)s") % {"first": a,
                                                                          "second": b}, clauses)
    f = line.figure
    values = {"label": f.label, "value": with_unit(f, line.value), "changes": changes}
    if f.is_ratio:
        return _("%(label)s: %(value)s, %(changes)s.") % values
    if f.kind == figures.Kind.STOCK:
        return _("%(label)s at the end of the month: %(value)s, %(changes)s.") % values
    return _("This month's %(label)s: %(value)s, %(changes)s.") % values


# --- the content ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One figure of the month, with the previous month and the same month a year before."""

    month: Value  # against the previous month (previous None: that month was not computed)
    year: Value | None  # against the same month a year before (None: not computed)

    @property
    def figure(self) -> Figure:
        return self.month.figure

    @property
    def value(self) -> int | float | None:
        return self.month.value

    @property
    def text(self) -> str:
        return show(self.figure, self.value)

    @property
    def text_with_unit(self) -> str:
        return with_unit(self.figure, self.value)

    @property
    def previous_text(self) -> str:
        return show(self.figure, self.month.previous)

    @property
    def change_text(self) -> str:
        return compact_change(self.month)

    @property
    def year_text(self) -> str:
        return show(self.figure, self.year.previous) if self.year else "—"

    @property
    def year_change_text(self) -> str:
        return compact_change(self.year) if self.year else "—"


@dataclass(frozen=True)
class RankRow:
    rank: int
    region: Region
    cells: list[str]


@dataclass(frozen=True)
class Ranking:
    by: Figure
    columns: list[Figure]  # ``by`` first
    rows: list[RankRow]


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString


@dataclass(frozen=True)
class Section:
    """A part another area of the cockpit adds: its own template and context."""

    key: str
    title: str
    template: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Content:
    region: Region
    trail: list[Region]  # the region's ancestors, top first
    period: Period
    previous: Period
    year_before: Period | None  # None: that month was not computed
    as_of: dt.date | None
    generated_at: dt.datetime
    lines: list[Line]  # every figure, in the registry's order
    headline: list[Line]
    summary: list[str]  # sentences
    ranking: Ranking | None  # None: the region has no subunits
    daily: list[Chart]
    monthly: list[Chart]
    subunit_chart: Chart | None
    sections: list[Section] = field(default_factory=list)

    def line(self, key: str) -> Line | None:
        return next((line for line in self.lines if line.figure.key == key), None)

    @property
    def summary_text(self) -> str:
        # Chinese runs its sentences together; other languages separate them with a space.
        joiner = "" if (get_language() or "").startswith("zh") else " "
        return joiner.join(self.summary)

    @property
    def title(self) -> str:
        return _("%(region)s monthly report, %(month)s") % {"region": self.region.name,
                                                           "month": self.period.label()}


def _summary(content_lines: list[Line], period: Period, as_of: dt.date | None,
             ranking: Ranking | None) -> list[str]:
    if as_of is None:
        return [_("No figures have been computed for this month yet.")]
    by_key = {line.figure.key: line for line in content_lines}
    chosen = [by_key[k] for k in SUMMARY if k in by_key]
    domains = {line.figure.domain for line in chosen}
    for line in content_lines:
        if line.figure.domain not in domains:
            chosen.append(line)
            domains.add(line.figure.domain)
    out = [_sentence(line) for line in chosen]
    if ranking is not None and len(ranking.rows) > 1:
        first, last = ranking.rows[0], ranking.rows[-1]
        if first.cells[0] != last.cells[0]:
            count = len(ranking.rows)
            out.append(ngettext(
                "Of its %(count)d subunit, %(first)s had the highest %(label)s (%(high)s) and "
                "%(last)s the lowest (%(low)s).",
                "Of its %(count)d subunits, %(first)s had the highest %(label)s (%(high)s) and "
                "%(last)s the lowest (%(low)s).", count) % {
                    "count": count, "first": first.region.name, "last": last.region.name,
                    "label": ranking.by.label, "high": first.cells[0], "low": last.cells[0]})
    if as_of < period.end:
        out.append(_("Figures are complete up to %(date)s.")
                   % {"date": date_format(as_of, "SHORT_DATE_FORMAT")})
    return out


def _ranking(b: board.Board) -> Ranking | None:
    if not b.subunits:
        return None
    others = [v.figure for v in b.headline if v.figure.key != b.sort.key][:SUBUNIT_COLUMNS]
    columns = [b.sort, *others]
    return Ranking(b.sort, columns, [
        RankRow(s.rank, s.region, [show(f, s.column.get(f.key)) for f in columns])
        for s in b.subunits])


def _formatter(figure: Figure) -> Callable[[float], str]:
    def fmt(value: float) -> str:
        return number(value, 1 if figure.is_ratio and not float(value).is_integer() else 0)
    return fmt


def _values(points: Sequence[tallies.Point], figure: Figure) -> list[float | None]:
    ratio = next((r for r in figures.ratios() if r.key == figure.key), None)
    if ratio is not None:
        return [ratio.of(p.values) for p in points]
    return [p.values.get(figure.key) for p in points]


def _charts(region: Region, period: Period, as_of: dt.date | None, b: board.Board,
            ranking: Ranking | None) -> tuple[list[Chart], list[Chart], Chart | None]:
    chosen = b.screen_trends
    keys = sorted({k for f in chosen for k in _series_keys(f)})
    days = tallies.series(region, keys, grain="day", start=period.start,
                          end=period.end) if keys else []
    shown_days = {p.start for p in days if as_of is not None and p.start <= as_of}
    labels = [str(d.day) for d in figures.days(period.start, period.end)]
    width, height = SMALL
    daily = []
    for f in chosen:
        by_day = dict(zip([p.start for p in days], _values(days, f), strict=True))
        values = [by_day.get(d) if d in shown_days else None
                  for d in figures.days(period.start, period.end)]
        title = _("%(label)s by day") % {"label": f.label}
        daily.append(Chart(title, mark_safe(svgcharts.line_chart(  # noqa: S308 (escaped)
            labels, [svgcharts.Series(str(f.label), values)], title=title,
            unit=str(f.unit), width=width, height=height, fmt=_formatter(f),
            empty=_("no figures")))))
    first = _months_back(period, TREND_MONTHS - 1)
    months = tallies.series(region, keys, grain="month", start=first.start,
                            end=period.end) if keys else []
    month_labels = [f"{p.start:%Y-%m}" if p.start.month == 1 or i == 0 else f"{p.start.month}"
                    for i, p in enumerate(months)]
    monthly = []
    for f in chosen:
        title = _("%(label)s, the last 12 months") % {"label": f.label}
        monthly.append(Chart(title, mark_safe(svgcharts.bar_chart(  # noqa: S308 (escaped)
            month_labels, _values(months, f), title=title, unit=str(f.unit), width=width,
            height=height, fmt=_formatter(f), empty=_("no figures")))))
    subunit_chart = None
    if ranking is not None:
        by = ranking.by
        title = _("Subunits by %(label)s") % {"label": by.label}
        subunit_chart = Chart(title, mark_safe(svgcharts.bar_chart(  # noqa: S308 (escaped)
            [row.region.name for row in ranking.rows],
            [s.column.get(by.key) for s in b.subunits], title=title, unit=str(by.unit),
            horizontal=True, width=660, fmt=_formatter(by), empty=_("no figures"))))
    return daily, monthly, subunit_chart


def _series_keys(f: Figure) -> list[str]:
    ratio = next((r for r in figures.ratios() if r.key == f.key), None)
    return [ratio.numerator, ratio.denominator] if ratio is not None else [f.key]


def _supervision(region: Region) -> Section | None:
    """The overdue supervision tasks the region issued or was given, when that part exists."""
    try:
        from sportsman.cockpit.supervision import panel
    except ImportError:
        return None
    found = panel(region, limit=50)
    return Section("supervision", _("Overdue supervision tasks"),
                   "cockpit/report/_supervision.html",
                   {"panel": found, "issued": found.issued.overdue_items,
                    "assigned": found.assigned.overdue_items})


SECTIONS: list[Callable[[Region], Section | None]] = [_supervision]


def build(region: Region, period: Period) -> Content:
    """The report of ``region`` for the month ``period``. No access check: the caller has
    checked the actor's ``COCKPIT_VIEW`` over ``region`` (or is the scheduled job)."""
    b = board.build(region, period, grain="day")
    previous = period.previous()
    has_previous = computed(previous)
    year_before = _year_before(period)
    before_total = tallies.sheet(region, year_before).total if computed(year_before) else None
    lines = []
    for v in (v for panel in b.panels for v in panel.values):
        month_value = v if has_previous else Value(v.figure, v.value, None)
        year_value = (Value(v.figure, v.value, before_total.get(v.figure.key))
                      if before_total is not None else None)
        lines.append(Line(month_value, year_value))
    lines.sort(key=lambda line: (line.figure.order, line.figure.is_ratio, line.figure.key))
    by_key = {line.figure.key: line for line in lines}
    headline = [by_key[v.figure.key] for v in b.headline][:CARDS]
    ranking = _ranking(b)
    daily, monthly, subunit_chart = _charts(region, period, b.as_of, b, ranking)
    return Content(
        region=region, trail=list(region.ancestors()), period=period, previous=previous,
        year_before=year_before if before_total is not None else None, as_of=b.as_of,
        generated_at=timezone.now(), lines=lines, headline=headline,
        summary=_summary(lines, period, b.as_of, ranking), ranking=ranking, daily=daily,
        monthly=monthly, subunit_chart=subunit_chart,
        sections=[s for make in SECTIONS if (s := make(region)) is not None])


# --- HTML and PDF ---------------------------------------------------------------------------------

def render_html(content: Content, *, pdf: bool = False, urls: dict[str, str] | None = None,
                request: Any = None) -> str:
    """The report as one HTML document: for the printable page (its toolbar and stylesheet
    link; ``urls``: back, pdf) or, with ``pdf``, for WeasyPrint (page boxes, no toolbar)."""
    return render_to_string(TEMPLATE, {"report": content, "pdf": pdf, "urls": urls or {},
                                       "page_css": _page_css(content) if pdf else ""},
                            request=request)


def _css_string(text: str) -> str:
    """``text`` as the inside of a CSS string in a ``<style>`` element: quotes, backslashes,
    control characters and ``<>&`` (which could close the element) as hex escapes."""
    return "".join(f"\\{ord(ch):x} " if ch in '"\\<>&' or ord(ch) < 32 else ch for ch in text)


def _page_css(content: Content) -> SafeString:
    """The running header and footer of the PDF's pages: the report's title (region and
    month) and "page n of m" in the report's language."""
    marked = _("Page %(page)s of %(pages)s") % {"page": "\x00", "pages": "\x01"}
    counters = {"\x00": "counter(page)", "\x01": "counter(pages)"}
    page = " ".join(counters.get(part) or f'"{_css_string(part)}"'
                    for part in re.split(r"([\x00\x01])", marked) if part)
    return mark_safe(  # noqa: S308 (every text is escaped for CSS above)
        f'@page {{ @top-left {{ content: "{_css_string(content.title)}"; }} '
        f"@bottom-right {{ content: {page}; }} }}")


@functools.cache
def _stylesheet() -> str:
    found = finders.find(STYLESHEET)
    if not found:
        raise FileNotFoundError(STYLESHEET)
    with open(found if isinstance(found, str) else found[0], encoding="utf-8") as f:
        return f.read()


def _no_fetching(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """WeasyPrint fetches nothing: the report is self-contained (inline SVG, one stylesheet),
    and a URL that slipped into it must not reach the network or the file system."""
    raise ValueError(f"the report loads no resources: {url[:80]}")


def render_document(content: Content) -> Any:
    """The report laid out on A4 pages by WeasyPrint (a ``weasyprint.Document``)."""
    from weasyprint import CSS, HTML

    return HTML(string=render_html(content, pdf=True), url_fetcher=_no_fetching).render(
        stylesheets=[CSS(string=_stylesheet())])


def render_pdf(content: Content, *, progress: Callable[[int], None] | None = None
               ) -> tuple[bytes, int]:
    """(PDF, number of pages) of the report on A4, in the site's fonts (Noto Sans CJK);
    ``progress(80)`` is called once the pages are laid out."""
    document = render_document(content)
    if progress:
        progress(80)
    return document.write_pdf(), len(document.pages)
