"""Charts drawn on the server as SVG, for documents that cannot run ECharts: WeasyPrint renders
the monthly report's PDF from HTML and draws inline SVG, but runs no JavaScript.

Two kinds, each with axes, round ticks and labels (Chinese text included):

- :func:`line_chart`: one or more series over the same categories (days, months); a missing value
  (None) leaves a gap. Each value is marked by a ``<circle class="point">``.
- :func:`bar_chart`: one value per category, vertical (months) or horizontal (subunits, whose
  names need the room). Each value is a ``<rect class="bar">``.

Pure Python and deterministic: the same input gives the same bytes (coordinates rounded to a
tenth, no random ids), so documents can be compared and cached. Every text is XML-escaped; styles
are presentation attributes, never ``style=""``, which the site's Content-Security-Policy blocks.
Values are counts and shares: negative values are drawn as 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
PALETTE = ("#0b6e4f", "#e07a1f", "#3568a8", "#b23a48", "#6c5b7b", "#7a9e3d")
INK = "#222"
MUTED = "#666"
GRID = "#ddd"
TITLE_SIZE = 13
LABEL_SIZE = 10

Formatter = Callable[[float], str]


def plain(value: float) -> str:
    """A number as written in a label: whole numbers without decimals, others with one."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


# --- measuring and writing -------------------------------------------------------------------

def text_width(text: str, size: float) -> float:
    """An estimate of the rendered width: CJK and full-width characters take 1 em, others about
    0.6 em (enough to leave room for labels without measuring fonts)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def clip(text: str, width: float, size: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width``."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: str) -> str:
    """Text for an XML text node: escaped, without the characters XML cannot carry."""
    return escape(_NOT_XML.sub("", text))


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attrs(values: dict[str, object]) -> str:
    return "".join(f" {k.replace('_', '-')}={quoteattr(_n(v) if isinstance(v, float) else str(v))}"
                   for k, v in values.items())


def _text(x: float, y: float, text: str, **attrs: object) -> str:
    attrs.setdefault("font_size", LABEL_SIZE)
    attrs.setdefault("fill", MUTED)
    return f"<text{_attrs({'x': float(x), 'y': float(y), **attrs})}>{_esc(text)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, **attrs: object) -> str:
    attrs.setdefault("stroke", GRID)
    return f"<line{_attrs({'x1': x1, 'y1': y1, 'x2': x2, 'y2': y2, **attrs})}/>"


def _svg(width: int, height: int, title: str, kind: str, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'font-family={quoteattr(FONT)}>')
    return "\n".join([head, f"<title>{_esc(title)}</title>",
                      _text(0, TITLE_SIZE + 2, title, font_size=TITLE_SIZE, fill=INK,
                            font_weight="bold"), *body, "</svg>"])


# --- scales ----------------------------------------------------------------------------------

def nice_ticks(high: float, count: int = 5) -> list[float]:
    """From 0 up to at least ``high`` in about ``count`` round steps (1, 2 or 5 × 10ⁿ)."""
    raw = high / count if high > 0 else 0.0
    if not raw > 1e-300:  # nothing, or so small that its tenth underflows to nothing
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(high / step - 1e-9)
    decimals = max(0, -math.floor(math.log10(step))) + 1  # 0.1 + 0.2 is shown as 0.3
    return [round(i * step, decimals) for i in range(steps + 1)]


def _every(count: int, room: float, label_width: float) -> int:
    """Show every n-th category label so that labels do not overlap."""
    if count <= 0:
        return 1
    fits = max(1, int(room // max(label_width, 1)))
    return max(1, math.ceil(count / fits))


@dataclass(frozen=True)
class _Frame:
    """The plotting area of a vertical chart and its value scale."""

    left: float
    top: float
    right: float
    bottom: float
    ticks: list[float]

    def y(self, value: float) -> float:
        top_value = self.ticks[-1]
        return self.bottom - (min(max(value, 0), top_value) / top_value) * (self.bottom - self.top)

    def axes(self, fmt: Formatter, unit: str) -> list[str]:
        out = []
        for tick in self.ticks:
            y = self.y(tick)
            out.append(_line(self.left, y, self.right, y))
            out.append(_text(self.left - 4, y + 3.5, fmt(tick), text_anchor="end"))
        out.append(_line(self.left, self.top, self.left, self.bottom, stroke=MUTED))
        out.append(_line(self.left, self.bottom, self.right, self.bottom, stroke=MUTED))
        if unit:
            out.append(_text(self.left, self.top - 6, unit, text_anchor="start"))
        return out


def _frame(width: int, height: int, high: float, fmt: Formatter, top: float) -> _Frame:
    ticks = nice_ticks(high)
    left = max(text_width(fmt(t), LABEL_SIZE) for t in ticks) + 10
    return _Frame(left=left, top=top, right=width - 8, bottom=height - 22, ticks=ticks)


def _category_labels(frame: _Frame, labels: Sequence[str], centre: Callable[[int], float],
                     slot: float) -> list[str]:
    widest = max((text_width(label, LABEL_SIZE) for label in labels), default=0) + 6
    every = _every(len(labels), frame.right - frame.left, widest) if widest > slot else 1
    return [_text(centre(i), frame.bottom + 14, clip(label, slot * every - 2, LABEL_SIZE),
                  text_anchor="middle")
            for i, label in enumerate(labels) if i % every == 0]


def _empty(frame: _Frame, text: str) -> str:
    return _text((frame.left + frame.right) / 2, (frame.top + frame.bottom) / 2, text,
                 text_anchor="middle")


# --- charts ----------------------------------------------------------------------------------

def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, unit: str = "",
               width: int = 640, height: int = 240, fmt: Formatter = plain,
               empty: str = "—") -> str:
    """Lines over ``labels`` (one value per label in each series; None: no figure)."""
    values = [v for s in series for v in s.values if v is not None]
    top = TITLE_SIZE + 22 + (14 if len(series) > 1 else 0)
    frame = _frame(width, height, max(values, default=0), fmt, top)
    body = frame.axes(fmt, unit)
    count = len(labels)
    slot = (frame.right - frame.left) / max(count, 1)

    def x(i: int) -> float:
        return frame.left + slot * (i + 0.5)

    body += _category_labels(frame, labels, x, slot)
    if len(series) > 1:
        cursor = frame.left
        for k, s in enumerate(series):
            colour = PALETTE[k % len(PALETTE)]
            body.append(f'<rect x="{_n(cursor)}" y="{_n(TITLE_SIZE + 9)}" width="10" '
                        f'height="3" fill="{colour}"/>')
            body.append(_text(cursor + 14, TITLE_SIZE + 14, s.name))
            cursor += 24 + text_width(s.name, LABEL_SIZE)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        runs: list[list[str]] = [[]]
        points = []
        for i, v in enumerate(list(s.values)[:count]):
            if v is None:
                runs.append([])
                continue
            xy = f"{_n(x(i))},{_n(frame.y(v))}"
            runs[-1].append(xy)
            points.append(f'<circle class="point" cx="{_n(x(i))}" cy="{_n(frame.y(v))}" r="2" '
                          f'fill="{colour}"><title>{_esc(labels[i])}: {_esc(fmt(v))}'
                          f"</title></circle>")
        body += [f'<polyline class="line" points="{" ".join(run)}" fill="none" '
                 f'stroke="{colour}" stroke-width="1.6"/>' for run in runs if len(run) > 1]
        body += points
    if not values:
        body.append(_empty(frame, empty))
    return _svg(width, height, title, "line", body)


def bar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str,
              unit: str = "", horizontal: bool = False, width: int = 640,
              height: int | None = None, fmt: Formatter = plain, empty: str = "—") -> str:
    """One bar per label (None: no bar). Horizontal charts grow with the number of labels."""
    if horizontal:
        return _horizontal(labels, values, title=title, unit=unit, width=width, height=height,
                           fmt=fmt, empty=empty)
    present = [v for v in values if v is not None]
    frame = _frame(width, height or 240, max(present, default=0), fmt, TITLE_SIZE + 22)
    body = frame.axes(fmt, unit)
    slot = (frame.right - frame.left) / max(len(labels), 1)
    bar = max(slot * 0.64, 1)
    body += _category_labels(frame, labels, lambda i: frame.left + slot * (i + 0.5), slot)
    for i, v in enumerate(list(values)[:len(labels)]):
        if v is None:
            continue
        y = frame.y(v)
        body.append(f'<rect class="bar" x="{_n(frame.left + slot * i + (slot - bar) / 2)}" '
                    f'y="{_n(y)}" width="{_n(bar)}" height="{_n(frame.bottom - y)}" '
                    f'fill="{PALETTE[0]}"><title>{_esc(labels[i])}: {_esc(fmt(v))}</title>'
                    f"</rect>")
    if not present:
        body.append(_empty(frame, empty))
    return _svg(width, height or 240, title, "bar", body)


ROW = 18  # height of one horizontal bar's row


def _horizontal(labels: Sequence[str], values: Sequence[float | None], *, title: str, unit: str,
                width: int, height: int | None, fmt: Formatter, empty: str) -> str:
    present = [v for v in values if v is not None]
    ticks = nice_ticks(max(present, default=0))
    top = TITLE_SIZE + 22.0
    height = height or int(top + ROW * max(len(labels), 1) + 24)
    name_room = min(max((text_width(label, LABEL_SIZE) for label in labels), default=0),
                    width * 0.3)
    # The last tick's label is centred on the right end of the axis: leave it room.
    right = width - 4 - text_width(fmt(ticks[-1]), LABEL_SIZE) / 2
    left, bottom = name_room + 10, height - 22.0
    row = (bottom - top) / max(len(labels), 1)

    def x(value: float) -> float:
        return left + (min(max(value, 0), ticks[-1]) / ticks[-1]) * (right - left)

    body = []
    for tick in ticks:
        body.append(_line(x(tick), top, x(tick), bottom))
        body.append(_text(x(tick), bottom + 14, fmt(tick), text_anchor="middle"))
    body.append(_line(left, top, left, bottom, stroke=MUTED))
    body.append(_line(left, bottom, right, bottom, stroke=MUTED))
    if unit:
        body.append(_text(right, top - 6, unit, text_anchor="end"))
    for i, label in enumerate(labels):
        centre = top + row * (i + 0.5)
        body.append(_text(left - 4, centre + 3.5, clip(label, name_room, LABEL_SIZE),
                          text_anchor="end", fill=INK))
        v = values[i] if i < len(values) else None
        if v is None:
            continue
        bar = max(min(row * 0.7, 14), 1)
        body.append(f'<rect class="bar" x="{_n(left)}" y="{_n(centre - bar / 2)}" '
                    f'width="{_n(x(v) - left)}" height="{_n(bar)}" fill="{PALETTE[0]}">'
                    f"<title>{_esc(label)}: {_esc(fmt(v))}</title></rect>")
    if not present:
        body.append(_text((left + right) / 2, (top + bottom) / 2, empty, text_anchor="middle"))
    return _svg(width, height, title, "bar", body)
