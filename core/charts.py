"""Small server-rendered SVG charts for the admin: no JavaScript, no CDN, work offline.

Every app's report screens use these (bars for distributions, lines for trends, sparklines in
tables), so a chart reads the same everywhere:

- a y axis with value ticks at rounded steps ("%" after them when the series is a rate);
- x labels that fit: the first and last are kept inside the drawing, and when they are crowded
  only every n-th is written (never one cut in half);
- a legend when there is more than one series;
- the exact value of each point or bar in a `<title>`, which the browser shows on hover;
- `role="img"`, an aria-label with every figure and a `<title>`, for screen readers;
- numbers written as the rest of the admin writes them in the active language (Django's formats);
- `dir="ltr"`: time runs left to right even inside a right-to-left page.

No figures, no chart: a plain sentence (`empty`) instead, so nothing is drawn from nothing.
Labels, names and titles are escaped; sizes and colours come from code.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.templatetags.localized import local_digits

PALETTE = ("#417690", "#ba2121", "#e08a00", "#1a7f37", "#7b4fa0")
FONT = 11
AXIS_COLOUR = "#888"
GRID_COLOUR = "#ddd"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str = ""


def bar_chart(data: Sequence[tuple[str, float | None]] = (), *, title: str, width: int = 480, height: int = 220,
              color: str = PALETTE[0], value_suffix: str = "", labels: Sequence[str] | None = None,
              series: Sequence[Series] | None = None, empty: str | None = None) -> SafeString:
    """Bars from zero, one group per label (one bar per series in the group)."""
    labels, series = _normalise(data, labels, series, color)
    values = [value for each in series for value in each.values if value is not None]
    if not values:
        return _empty(empty)
    low, high, ticks = _axis(min(0.0, *values), max(0.0, *values), whole=_whole(values))
    frame = _Frame(width, height, ticks, value_suffix, legend=len(series) > 1, low=low, high=high)
    slot = frame.plot_width / len(labels)
    bar = max(2.0, slot * 0.75 / len(series))
    zero = frame.y(0)
    parts = []
    for index, label in enumerate(labels):
        left = frame.left + index * slot + (slot - bar * len(series)) / 2
        for position, each in enumerate(series):
            value = each.values[index] if index < len(each.values) else None
            if value is None:
                continue
            x, top = left + position * bar, frame.y(value)
            y, size = min(top, zero), abs(zero - top)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(size, 0.5):.1f}" fill="{each.color}">'
                         f"<title>{_point_title(label, each, value, value_suffix, len(series))}</title></rect>")
            text = _number(value) + value_suffix
            if _text_width(text) <= (slot if len(series) == 1 else bar + 2):
                ty = (y - 3) if value >= 0 else (y + size + FONT)
                parts.append(f'<text x="{x + bar / 2:.1f}" y="{ty:.1f}" font-size="{FONT}" text-anchor="middle" '
                             f'aria-hidden="true">{escape(text)}</text>')
    centres = [frame.left + (index + 0.5) * slot for index in range(len(labels))]
    body = frame.axes() + "".join(parts) + frame.x_labels(labels, centres, slot) + frame.legend(series)
    return _svg(title, width, height, body, labels, series, value_suffix)


def line_chart(data: Sequence[tuple[str, float | None]] = (), *, title: str, width: int = 480, height: int = 220,
               color: str = PALETTE[0], value_suffix: str = "", minimum: float | None = None,
               maximum: float | None = None, labels: Sequence[str] | None = None,
               series: Sequence[Series] | None = None, empty: str | None = None) -> SafeString:
    """A line per series through the points that have a value (None leaves a gap). `minimum` and
    `maximum` fix the axis (0 and 100 for a rate in percent); otherwise it fits the values."""
    labels, series = _normalise(data, labels, series, color)
    values = [value for each in series for value in each.values if value is not None]
    if not values:
        return _empty(empty)
    low, high, ticks = _axis(min(values) if minimum is None else minimum, max(values) if maximum is None else maximum,
                             fixed=minimum is not None and maximum is not None, whole=_whole(values))
    frame = _Frame(width, height, ticks, value_suffix, legend=len(series) > 1, low=low, high=high)
    slot = frame.plot_width / len(labels)
    xs = [frame.left + (index + 0.5) * slot for index in range(len(labels))]
    body = [frame.axes()]
    for each in series:
        body.append(_polylines(each, xs, frame.y))
        for index, value in enumerate(each.values[:len(labels)]):
            if value is None:
                continue
            body.append(_point(xs[index], frame.y(value), each.color, 3,
                               _point_title(labels[index], each, value, value_suffix, len(series))))
    body.append(frame.x_labels(labels, xs, slot))
    body.append(frame.legend(series))
    return _svg(title, width, height, "".join(body), labels, series, value_suffix)


def sparkline(values: Sequence[float | None], *, title: str, labels: Sequence[str] | None = None,
              value_suffix: str = "", minimum: float | None = None, maximum: float | None = None,
              color: str = PALETTE[0], empty: str = "–") -> SafeString:
    """A small trend for a table cell: no axes, it fills its cell (at least 120px wide, see
    `.sparkline` in the page's styles); each point still says its label and value on hover."""
    labels = [local_digits(label) for label in labels] if labels is not None else [
        local_digits(index + 1) for index in range(len(values))]
    present = [value for value in values if value is not None]
    if not present:
        return format_html('<span class="chart-empty">{}</span>', empty)
    width, height, pad = 200, 40, 5
    low = min(present) if minimum is None else minimum
    high = max(present) if maximum is None else maximum
    span = (high - low) or 1
    slot = (width - 2 * pad) / len(values)
    xs = [pad + (index + 0.5) * slot for index in range(len(values))]

    def y(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - (value - low) / span)

    each = Series(title, values, color)
    body = [_polylines(each, xs, y)]
    for index, value in enumerate(values):
        if value is not None:
            body.append(_point(xs[index], y(value), color, 2, f"{escape(labels[index])}: {escape(_number(value))}"
                                                               f"{escape(value_suffix)}"))
    summary = ", ".join(f"{label}: {_number(value)}{value_suffix if value is not None else ''}"
                        for label, value in zip(labels, values))
    return mark_safe(  # nosec B308 B703 - labels, values and title are escaped; sizes and colours come from code
        f'<svg class="chart sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" dir="ltr" '
        f'role="img" aria-label="{escape(title)}: {escape(summary)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


# --- layout ---------------------------------------------------------------------------------------

class _Frame:
    """Where the plot sits inside the drawing, and how a value maps to a height."""

    def __init__(self, width: int, height: int, ticks: list[float], suffix: str, *, legend: bool,
                 low: float, high: float):
        self.width, self.height, self.ticks, self.suffix = width, height, ticks, suffix
        self.low, self.high = low, high
        self.tick_texts = [_number(tick) + suffix for tick in ticks]
        self.left = 8 + max(_text_width(text) for text in self.tick_texts)
        self.right = width - 10
        self.top = 16 + (22 if legend else 0)
        self.bottom = height - 24
        self.plot_width = self.right - self.left

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1
        return self.bottom - (self.bottom - self.top) * (value - self.low) / span

    def axes(self) -> str:
        parts = []
        for tick, text in zip(self.ticks, self.tick_texts):
            y = self.y(tick)
            parts.append(f'<line x1="{self.left:.1f}" x2="{self.right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{AXIS_COLOUR if tick == 0 else GRID_COLOUR}" stroke-width="1"/>'
                         f'<text class="tick" x="{self.left - 4:.1f}" y="{y + 4:.1f}" font-size="{FONT}" '
                         f'text-anchor="end" fill="#555">{escape(text)}</text>')
        parts.append(f'<line x1="{self.left:.1f}" x2="{self.left:.1f}" y1="{self.top:.1f}" y2="{self.bottom:.1f}" '
                     f'stroke="{AXIS_COLOUR}" stroke-width="1"/>')
        return '<g class="axis" aria-hidden="true">' + "".join(parts) + "</g>"

    def x_labels(self, labels: Sequence[str], centres: Sequence[float], slot: float) -> str:
        """Every n-th label, so that the written ones never overlap; each kept inside the drawing."""
        widest = max((_text_width(label) for label in labels), default=0)
        every = max(1, math.ceil((widest + 8) / slot)) if slot else 1
        parts = []
        for index in range(0, len(labels), every):
            text = _fit(labels[index], self.width - 4)
            half = _text_width(text) / 2
            x = min(max(centres[index], half + 2), self.width - half - 2)
            parts.append(f'<text class="x-label" x="{x:.1f}" y="{self.height - 8}" font-size="{FONT}" '
                         f'text-anchor="middle">{escape(text)}</text>')
        return '<g aria-hidden="true">' + "".join(parts) + "</g>"

    def legend(self, series: Sequence[Series]) -> str:
        if len(series) < 2:
            return ""
        parts, x = [], self.left
        for each in series:
            parts.append(f'<rect x="{x:.1f}" y="6" width="12" height="12" fill="{each.color}"/>'
                         f'<text x="{x + 16:.1f}" y="16" font-size="{FONT}">{escape(each.name)}</text>')
            x += 16 + _text_width(each.name) + 16
        return '<g class="legend">' + "".join(parts) + "</g>"


def _axis(low: float, high: float, *, fixed: bool = False, whole: bool = False,
          count: int = 5) -> tuple[float, float, list[float]]:
    """Rounded ticks (1, 2, 2.5 or 5 times a power of ten; whole steps for counts) covering
    [low, high]; a fixed range is kept."""
    if high == low:
        low, high = (low - 1, high + 1) if low else (0.0, 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(power * factor for factor in factors if power * factor >= raw)
    if whole:
        step = max(1, step)
    if not fixed:
        low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    tick = first
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    return round(low, 10), round(high, 10), ticks


def _whole(values: Sequence[float]) -> bool:
    return all(float(value).is_integer() for value in values)


def _polylines(series: Series, xs: Sequence[float], y: Callable[[float], float]) -> str:
    """One polyline per run of values; a missing value breaks the line."""
    runs, current = [], []
    for x, value in zip(xs, series.values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((x, y(value)))
    if current:
        runs.append(current)
    return "".join(
        f'<polyline fill="none" stroke="{series.color}" stroke-width="2" vector-effect="non-scaling-stroke" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in run) + '"/>'
        for run in runs
    )


def _point(x: float, y: float, color: str, radius: float, title: str) -> str:
    """A visible dot and a larger transparent target around it, so the value shows on hover."""
    return (f'<g class="point"><title>{title}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{color}"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="transparent"/></g>')


def _point_title(label: str, series: Series, value: float, suffix: str, count: int) -> str:
    name = f"{series.name}, " if count > 1 else ""
    return escape(f"{name}{label}: {_number(value)}{suffix}")


# --- text -------------------------------------------------------------------------------------------

def _number(value: float | None) -> str:
    """As the admin writes numbers in the active language, in its digits; whole numbers without decimals."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return local_digits(formats.number_format(int(value), 0, force_grouping=True))
    decimals = 1 if round(value, 1) == round(value, 2) else 2
    return local_digits(formats.number_format(round(value, decimals), decimals, force_grouping=True))


def _text_width(text: str) -> float:
    """An estimate of the rendered width at FONT px (no font metrics on the server)."""
    return len(text) * FONT * 0.62


def _fit(text: str, room: float) -> str:
    if _text_width(text) <= room:
        return text
    return text[: max(1, int(room / (FONT * 0.62)) - 1)] + "…"


def _normalise(data, labels, series, color) -> tuple[list[str], list[Series]]:
    # Labels in the reader's digits (a period, a score), as the numbers.
    if series is None:
        labels = [local_digits(label) for label, _value in data]
        series = [Series("", [value for _label, value in data], color)]
    else:
        labels = [local_digits(label) for label in labels or ()]
    series = [each if each.color else Series(each.name, each.values, PALETTE[index % len(PALETTE)])
              for index, each in enumerate(series)]
    return labels, series


def _empty(sentence: str | None) -> SafeString:
    return format_html('<p class="chart-empty">{}</p>', sentence or _("No figures yet for this chart."))


def _svg(title: str, width: int, height: int, body: str, labels: Sequence[str], series: Sequence[Series],
         suffix: str) -> SafeString:
    summary = "; ".join(
        (f"{each.name}: " if len(series) > 1 else "")
        + ", ".join(f"{label}: {_number(value)}{suffix if value is not None else ''}"
                    for label, value in zip(labels, each.values))
        for each in series
    )
    return mark_safe(  # nosec B308 B703 - labels, values and title are escaped; sizes and colours come from code
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" dir="ltr" '
        f'style="max-width:{width}px;direction:ltr" role="img" aria-label="{escape(title)}: {escape(summary)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
