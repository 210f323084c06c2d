"""One A6 badge: what it shows, and how its text, participation pill and QR are laid out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from babel.dates import format_date, format_time
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.badges.fitting import LEADING, fit_text
from app.badges.qr import QUIET_ZONE, qr_matrix
from app.fonts import register_fonts
from app.models import Mode, Registration

ACCENT = HexColor("#0b5cad")
INK = HexColor("#1b1f24")
MUTED = HexColor("#5b6470")
#: DejaVu Sans rises about 0.93 em above the baseline.
ASCENT = 0.93


@dataclass(frozen=True)
class BadgeData:
    """What a badge shows, already formatted in the reader's language."""

    name: str
    organization: str
    position: str
    #: The site's name, or "Online".
    participation: str
    event_title: str
    #: Date and time in the event's zone, e.g. "Friday, 12 June 2026 · 10:00–14:00".
    event_when: str
    #: The badge code the QR carries.
    code: str


def badge_data(
    registration: Registration, locale: str = "en", online_label: str = "Online"
) -> BadgeData:
    """The badge of one registration, with its date written for ``locale``."""
    event = registration.event
    start, end = event.local(event.starts_at), event.local(event.ends_at)
    when = (
        f"{format_date(start.date(), 'full', locale=locale)} · "
        f"{format_time(start, 'short', locale=locale)}–{format_time(end, 'short', locale=locale)}"
    )
    if start.date() != end.date():
        when = (
            f"{format_date(start.date(), 'medium', locale=locale)} "
            f"{format_time(start, 'short', locale=locale)} – "
            f"{format_date(end.date(), 'medium', locale=locale)} "
            f"{format_time(end, 'short', locale=locale)}"
        )
    if registration.mode == Mode.IN_PERSON and registration.site is not None:
        participation = registration.site.name
    else:
        participation = online_label
    return BadgeData(
        name=registration.name,
        organization=registration.organization,
        position=registration.position,
        participation=participation,
        event_title=event.title,
        event_when=when,
        code=registration.badge_code,
    )


# --- drawing --------------------------------------------------------------------

BADGE_WIDTH, BADGE_HEIGHT = A6
MARGIN = 7 * mm
CONTENT_WIDTH = BADGE_WIDTH - 2 * MARGIN


@dataclass(frozen=True)
class TextBox:
    """A band across the badge: its height, and the font and sizes its text is set in."""

    height: float
    max_size: float
    min_size: float
    bold: bool = False
    color: Color = INK


#: The bands from the top of the badge down; the name's, fitted by ``fit_name``,
#: comes between the date and the position.
TITLE_BOX = TextBox(18 * mm, max_size=12, min_size=7, bold=True, color=ACCENT)
WHEN_BOX = TextBox(8 * mm, max_size=8.5, min_size=6, color=MUTED)
NAME_HEIGHT = 27 * mm
POSITION_BOX = TextBox(8 * mm, max_size=11, min_size=7, color=MUTED)
ORGANIZATION_BOX = TextBox(13 * mm, max_size=12, min_size=7)
PILL_HEIGHT = 9 * mm
QR_SIZE = 44 * mm
NAME_MAX_SIZE = 26
#: Below this a name reads better on two lines than squeezed onto one.
NAME_ONE_LINE_MIN_SIZE = 18
NAME_MIN_SIZE = 11


def _draw_lines(
    canvas: Canvas,
    fitted: tuple[float, tuple[str, ...]],
    *,
    font: str,
    top: float,
    height: float,
    color=INK,
    centre_vertically: bool = False,
) -> None:
    size, lines = fitted
    if not lines:
        return
    leading = size * LEADING
    baseline = top - size * ASCENT - (leading - size) / 2
    if centre_vertically:
        baseline -= (height - len(lines) * leading) / 2
    canvas.setFillColor(color)
    canvas.setFont(font, size)
    for line in lines:
        canvas.drawCentredString(BADGE_WIDTH / 2, baseline, line)
        baseline -= leading


def _draw_boxes(canvas: Canvas, top: float, *boxes: tuple[str, TextBox]) -> float:
    """Fit each text into its box, the boxes one below the other; returns where they end."""
    regular, bold = register_fonts()
    for text, box in boxes:
        font = bold if box.bold else regular
        fitted = fit_text(text, font, CONTENT_WIDTH, box.height, box.max_size, box.min_size)
        _draw_lines(canvas, fitted, font=font, top=top, height=box.height, color=box.color)
        top -= box.height
    return top


def fit_name(name: str, font: str) -> tuple[float, tuple[str, ...]]:
    """A name on one line while it stays large; otherwise wrapped, then shrunk."""
    name = " ".join(name.split())
    natural = stringWidth(name, font, 1)
    size = min(NAME_MAX_SIZE, math.floor(CONTENT_WIDTH / natural * 2) / 2) if natural else 0
    if size >= NAME_ONE_LINE_MIN_SIZE:
        return size, (name,)
    return fit_text(name, font, CONTENT_WIDTH, NAME_HEIGHT, NAME_MAX_SIZE, NAME_MIN_SIZE)


@lru_cache(maxsize=4096)
def _qr_rectangles(code: str) -> tuple[tuple[int, int, int, int], ...]:
    """The dark modules as few rectangles (column, row, width, height), in modules.

    Runs along each row are joined, then identical runs in the rows below,
    which roughly halves what the PDF has to say per badge.
    """
    open_runs: dict[tuple[int, int], list[int]] = {}
    rectangles = []
    for row, modules in enumerate((*qr_matrix(code), ())):
        runs, start = set(), None
        for column, dark in enumerate((*modules, False)):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                runs.add((start, column - start))
                start = None
        for key in list(open_runs):
            if key not in runs:
                first_row, height = open_runs.pop(key)
                rectangles.append((key[0], first_row, key[1], height))
        for key in runs:
            if key in open_runs:
                open_runs[key][1] += 1
            else:
                open_runs[key] = [row, 1]
    return tuple(sorted(rectangles, key=lambda r: (r[1], r[0])))


def draw_qr(canvas: Canvas, code: str, x: float, y: float, size: float) -> None:
    """The QR with its quiet zone inside the ``size`` square whose lower left is (x, y)."""
    count = len(qr_matrix(code))
    module = size / (count + 2 * QUIET_ZONE)
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.saveState()
    # Work in modules from the symbol's top left corner, rows growing downwards.
    canvas.translate(x + QUIET_ZONE * module, y + size - QUIET_ZONE * module)
    canvas.scale(module, -module)
    path = canvas.beginPath()
    for column, row, width, height in _qr_rectangles(code):
        path.rect(column, row, width, height)
    canvas.setFillColor(INK)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _draw_pill(canvas: Canvas, text: str, bold: str, top: float) -> None:
    size, lines = fit_text(text, bold, CONTENT_WIDTH - 6 * mm, PILL_HEIGHT, 12, 6, 1)
    if not lines:
        return
    width = min(stringWidth(lines[0], bold, size) + 8 * mm, CONTENT_WIDTH)
    canvas.setFillColor(ACCENT)
    canvas.roundRect(
        (BADGE_WIDTH - width) / 2,
        top - PILL_HEIGHT,
        width,
        PILL_HEIGHT,
        PILL_HEIGHT / 2,
        stroke=0,
        fill=1,
    )
    canvas.setFillColor(white)
    canvas.setFont(bold, size)
    canvas.drawCentredString(BADGE_WIDTH / 2, top - PILL_HEIGHT / 2 - size * 0.35, lines[0])


def draw_badge(canvas: Canvas, badge: BadgeData) -> None:
    """Draw one badge with its lower left corner at the canvas origin."""
    _regular, bold = register_fonts()
    top = _draw_boxes(
        canvas, BADGE_HEIGHT - MARGIN, (badge.event_title, TITLE_BOX), (badge.event_when, WHEN_BOX)
    )
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, top - 1 * mm, BADGE_WIDTH - MARGIN, top - 1 * mm)
    top -= 3 * mm
    _draw_lines(
        canvas,
        fit_name(badge.name, bold),
        font=bold,
        top=top,
        height=NAME_HEIGHT,
        centre_vertically=True,
    )
    top -= NAME_HEIGHT
    top = _draw_boxes(
        canvas, top, (badge.position, POSITION_BOX), (badge.organization, ORGANIZATION_BOX)
    )
    _draw_pill(canvas, badge.participation, bold, top - 2 * mm)
    draw_qr(canvas, badge.code, (BADGE_WIDTH - QR_SIZE) / 2, MARGIN - 2 * mm, QR_SIZE)
