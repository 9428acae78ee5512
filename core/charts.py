"""Small server-rendered SVG charts for the admin: no JavaScript, no CDN, work offline.

Every app's report screens use these (bars for distributions, lines for trends), so a
chart looks the same everywhere. Labels are escaped; the SVG carries a <title> and
role="img" with an aria-label so screen readers get the figures too.
"""

from collections.abc import Sequence

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(data: Sequence[tuple[str, float | None]], *, title: str, width: int = 560, height: int = 200,
              color: str = "#417690", value_suffix: str = "") -> SafeString:
    if not data:
        return format_html('<p class="chart-empty">{}</p>', title)
    pad_top, pad_bottom, pad_side = 20, 34, 8
    plot_height = height - pad_top - pad_bottom
    top = max((value or 0) for _, value in data) or 1
    slot = (width - 2 * pad_side) / len(data)
    bar_width = max(4.0, slot * 0.7)
    parts = []
    for index, (label, value) in enumerate(data):
        bar_height = plot_height * (value or 0) / top
        x = pad_side + index * slot + (slot - bar_width) / 2
        y = pad_top + plot_height - bar_height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{bar_height:.1f}" fill="{color}">'
            f"<title>{escape(label)}: {escape(_fmt(value))}{escape(value_suffix)}</title></rect>"
            f'<text x="{x + bar_width / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle">{escape(_fmt(value))}</text>'
            f'<text x="{x + bar_width / 2:.1f}" y="{height - pad_bottom + 16:.1f}" font-size="11" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return _svg(title, width, height, "".join(parts), data, value_suffix)


def line_chart(data: Sequence[tuple[str, float | None]], *, title: str, width: int = 560, height: int = 200,
               color: str = "#417690", value_suffix: str = "", minimum: float | None = None,
               maximum: float | None = None, show_labels: bool = True) -> SafeString:
    """A line through the points that have a value (None leaves a gap)."""
    values = [value for _, value in data if value is not None]
    if not values:
        return format_html('<p class="chart-empty">{}</p>', title)
    pad_top, pad_bottom, pad_side = 16, 30 if show_labels else 6, 12
    low = min(values) if minimum is None else minimum
    high = max(values) if maximum is None else maximum
    span = (high - low) or 1
    plot_height = height - pad_top - pad_bottom
    step = (width - 2 * pad_side) / max(1, len(data) - 1)
    segments, current, parts = [], [], []
    for index, (label, value) in enumerate(data):
        x = pad_side + index * step
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            y = pad_top + plot_height * (1 - (value - low) / span)
            current.append((x, y))
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(label)}: '
                         f"{escape(_fmt(value))}{escape(value_suffix)}</title></circle>")
        if show_labels and (len(data) <= 12 or index % max(1, len(data) // 12) == 0):
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{escape(label)}</text>')
    if current:
        segments.append(current)
    lines = "".join(
        f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in segment) + '"/>'
        for segment in segments
    )
    return _svg(title, width, height, lines + "".join(parts), data, value_suffix)


def sparkline(values: Sequence[float | None], *, title: str, width: int = 100, height: int = 24,
              color: str = "#417690") -> SafeString:
    return line_chart([(str(i), v) for i, v in enumerate(values)], title=title, width=width, height=height,
                      color=color, show_labels=False)


def _svg(title: str, width: int, height: int, body: str, data, suffix: str) -> SafeString:
    summary = ", ".join(f"{label}: {_fmt(value)}{suffix}" for label, value in data)
    return mark_safe(  # nosec B308 B703 - labels, values and title are escaped; sizes and colours come from code
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" role="img" aria-label="{escape(title)}: {escape(summary)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
