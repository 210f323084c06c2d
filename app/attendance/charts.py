"""Server-rendered SVG charts: no chart library, nothing to download on a slow link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from app.attendance.reports import ReportLine

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 10, 22

#: The bar chart: its width, the room for the legend and the values, and each line's height.
BARS_WIDTH, BARS_LEGEND, BARS_RIGHT, BARS_ROW = 480, 24, 44, 44
BAR_HEIGHT = 10
#: Labels longer than this are cut in the chart; the table beside it has them whole.
LABEL_CHARACTERS = 70


@dataclass(frozen=True)
class ArrivalSteps:
    """Cumulative arrivals as the corners of a step line, for any drawing surface."""

    #: The value at the top of the chart: the expected number or the arrivals, whichever is more.
    top: int
    #: (share of the time span from 0 to 1, running total) at each corner, left to right.
    corners: list[tuple[float, int]]


def arrival_steps(
    points: list[tuple[datetime, int]], start: datetime, end: datetime, expected: int
) -> ArrivalSteps:
    """The step line of arrivals ``points`` (moment, how many) between ``start`` and ``end``."""
    span = max((end - start).total_seconds(), 1.0)
    corners = [(0.0, 0)]
    running = 0
    for moment, count in points:
        share = min(max((moment - start).total_seconds() / span, 0.0), 1.0)
        corners.append((share, running))
        running += count
        corners.append((share, running))
    corners.append((1.0, running))
    return ArrivalSteps(top=max(expected, running, 1), corners=corners)


def arrivals_svg(
    points: list[tuple[datetime, int]],
    start: datetime,
    end: datetime,
    expected: int,
    zone: ZoneInfo,
    label: str,
) -> Markup:
    """Cumulative arrivals as a step line, with the expected number as a dashed line."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    steps = arrival_steps(points, start, end, expected)
    top_value = steps.top

    def x(share: float) -> float:
        return round(LEFT + share * plot_width, 1)

    def y(value: int) -> float:
        return round(TOP + plot_height - value / top_value * plot_height, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="arrivals-chart" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_height}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_height}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_height}" text-anchor="end">0</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{top_value}</text>',
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{start.astimezone(zone):%H:%M}</text>',
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{end.astimezone(zone):%H:%M}</text>",
    ]
    if expected:
        parts.append(
            f'<line class="expected" x1="{LEFT}" y1="{y(expected)}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(expected)}"><title>{escape(_("Expected: %(n)d", n=expected))}</title></line>'
        )
    if points:
        path = " L".join(f"{x(share)},{y(value)}" for share, value in steps.corners)
        parts.append(f'<path class="arrivals" d="M{path}"/>')
    else:
        parts.append(
            f'<text class="empty" x="{LEFT + plot_width / 2}" y="{TOP + plot_height / 2}" '
            f'text-anchor="middle">{escape(_("No arrivals yet"))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)


def _shorten(text: str, limit: int = LABEL_CHARACTERS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bars_svg(lines: Sequence[ReportLine], label: str) -> Markup:
    """Registered and attended as a pair of horizontal bars per line of a report table.

    Each line's label sits above its bars, so long names fit; both bars share one
    scale, and each bar ends with its number.
    """
    plot_width = BARS_WIDTH - BARS_RIGHT
    height = BARS_LEGEND + BARS_ROW * max(len(lines), 1)
    top_value = max([1, *(max(line.registered, line.attended) for line in lines)])

    def bar_length(value: int) -> float:
        return round(value / top_value * plot_width, 1)

    series = (("registered", _("Registered")), ("attended", _("Attended")))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BARS_WIDTH} {height}" '
        f'width="{BARS_WIDTH}" height="{height}" class="bar-chart" role="img" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    x = 0
    for css_class, name in series:
        parts.append(
            f'<rect class="swatch {css_class}" x="{x}" y="4" width="{BAR_HEIGHT}" '
            f'height="{BAR_HEIGHT}"/>'
            f'<text class="legend" x="{x + BAR_HEIGHT + 4}" y="{4 + BAR_HEIGHT}">'
            f"{escape(name)}</text>"
        )
        x += BAR_HEIGHT + 12 + 8 * len(name)
    for index, line in enumerate(lines):
        top = BARS_LEGEND + index * BARS_ROW
        summary = _(
            "%(label)s: %(registered)d registered, %(attended)d attended",
            label=line.label,
            registered=line.registered,
            attended=line.attended,
        )
        parts.append(
            f'<g class="line"><title>{escape(summary)}</title>'
            f'<text class="label" x="0" y="{top + 12}">{escape(_shorten(line.label))}</text>'
        )
        for offset, (css_class, value) in enumerate(
            (("registered", line.registered), ("attended", line.attended))
        ):
            y = top + 17 + offset * (BAR_HEIGHT + 2)
            length = bar_length(value)
            parts.append(
                f'<rect class="bar {css_class}" x="0" y="{y}" width="{length}" '
                f'height="{BAR_HEIGHT}"/>'
                f'<text class="value" x="{length + 4}" y="{y + BAR_HEIGHT - 1}">{value}</text>'
            )
        parts.append("</g>")
    if not lines:
        parts.append(
            f'<text class="empty" x="0" y="{BARS_LEGEND + 16}">{escape(_("Nobody."))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
