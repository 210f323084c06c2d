"""Server-rendered SVG charts: no chart library, nothing to download on a slow link."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 10, 22


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
    total = sum(count for _moment, count in points)
    top_value = max(expected, total, 1)
    span = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        ratio = min(max((moment - start).total_seconds() / span, 0.0), 1.0)
        return round(LEFT + ratio * plot_width, 1)

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
        running = 0
        path = [f"M{x(start)},{y(0)}"]
        for moment, count in points:
            path.append(f"H{x(moment)}")
            running += count
            path.append(f"V{y(running)}")
        path.append(f"H{x(end)}")
        parts.append(f'<path class="arrivals" d="{" ".join(path)}"/>')
    else:
        parts.append(
            f'<text class="empty" x="{LEFT + plot_width / 2}" y="{TOP + plot_height / 2}" '
            f'text-anchor="middle">{escape(_("No arrivals yet"))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
