"""Printable badges: one A6 badge, or sheets of four A6 badges per A4 page.

Both take plain ``BadgeData`` and return PDF bytes. Text is set in the
embedded DejaVu Sans, so Turkmen (ä ç ž ň ö ş ü ý) and Cyrillic print as
typed. Every text block is fitted into a fixed box: it wraps, then shrinks,
and only as a last resort is cut with an ellipsis, so nothing runs off the
badge. The QR is drawn as vector rectangles, which print crisply and cost
little even on a sheet of a thousand badges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from babel.dates import format_date, format_time
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.badges.qr import QUIET_ZONE, qr_matrix
from app.fonts import register_fonts
from app.models import Mode, Registration
from app.text import fold_for_search

ACCENT = HexColor("#0b5cad")
INK = HexColor("#1b1f24")
MUTED = HexColor("#5b6470")
CUT_MARK = Color(0, 0, 0)
CUT_GUIDE = Color(0.75, 0.75, 0.75)

#: Line height as a multiple of the font size.
LEADING = 1.2
#: DejaVu Sans rises about 0.93 em above the baseline.
ASCENT = 0.93
ELLIPSIS = "…"


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


# --- fitting text into boxes ------------------------------------------------


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    """Split a word wider than the box at character boundaries."""
    pieces, current = [], ""
    for char in word:
        if current and stringWidth(current + char, font, size) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word that cannot fit on a line is broken."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if stringWidth(word, font, size) <= width:
            current = word
        else:
            *whole, current = _break_word(word, font, size, width)
            lines.extend(whole)
    if current:
        lines.append(current)
    return lines


def _shorten(line: str, font: str, size: float, width: float) -> str:
    while line and stringWidth(line + ELLIPSIS, font, size) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


@lru_cache(maxsize=16384)
def fit_text(
    text: str,
    font: str,
    width: float,
    height: float,
    max_size: float,
    min_size: float,
    max_lines: int = 0,
) -> tuple[float, tuple[str, ...]]:
    """The largest font size at which ``text`` fits the box, and its lines.

    Sizes step down by half a point. If even ``min_size`` does not fit, the
    lines that fit are kept and the last one ends with an ellipsis.
    """
    text = " ".join(text.split())
    if not text:
        return max_size, ()
    size = max_size
    while True:
        lines = wrap_text(text, font, size, width)
        room = max(int(height // (size * LEADING)), 1)
        if max_lines:
            room = min(room, max_lines)
        if len(lines) <= room:
            return size, tuple(lines)
        if size <= min_size:
            kept = lines[:room]
            kept[-1] = _shorten(kept[-1], font, size, width)
            return size, tuple(kept)
        size = max(min_size, size - 0.5)


# --- drawing --------------------------------------------------------------------

BADGE_WIDTH, BADGE_HEIGHT = A6
MARGIN = 7 * mm
CONTENT_WIDTH = BADGE_WIDTH - 2 * MARGIN

#: Boxes from the top of the badge down: (height, gap after it).
TITLE_BOX = 18 * mm
WHEN_BOX = 8 * mm
NAME_BOX = 27 * mm
POSITION_BOX = 8 * mm
ORGANIZATION_BOX = 13 * mm
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


def _draw_block(
    canvas: Canvas,
    text: str,
    *,
    font: str,
    top: float,
    height: float,
    max_size: float,
    min_size: float,
    color=INK,
) -> None:
    fitted = fit_text(text, font, CONTENT_WIDTH, height, max_size, min_size)
    _draw_lines(canvas, fitted, font=font, top=top, height=height, color=color)


def fit_name(name: str, font: str) -> tuple[float, tuple[str, ...]]:
    """A name on one line while it stays large; otherwise wrapped, then shrunk."""
    name = " ".join(name.split())
    natural = stringWidth(name, font, 1)
    size = min(NAME_MAX_SIZE, math.floor(CONTENT_WIDTH / natural * 2) / 2) if natural else 0
    if size >= NAME_ONE_LINE_MIN_SIZE:
        return size, (name,)
    return fit_text(name, font, CONTENT_WIDTH, NAME_BOX, NAME_MAX_SIZE, NAME_MIN_SIZE)


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


def _draw_qr(canvas: Canvas, code: str, x: float, y: float, size: float) -> None:
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
    regular, bold = register_fonts()
    top = BADGE_HEIGHT - MARGIN
    _draw_block(
        canvas,
        badge.event_title,
        font=bold,
        top=top,
        height=TITLE_BOX,
        max_size=12,
        min_size=7,
        color=ACCENT,
    )
    top -= TITLE_BOX
    _draw_block(
        canvas,
        badge.event_when,
        font=regular,
        top=top,
        height=WHEN_BOX,
        max_size=8.5,
        min_size=6,
        color=MUTED,
    )
    top -= WHEN_BOX
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, top - 1 * mm, BADGE_WIDTH - MARGIN, top - 1 * mm)
    top -= 3 * mm
    _draw_lines(
        canvas,
        fit_name(badge.name, bold),
        font=bold,
        top=top,
        height=NAME_BOX,
        centre_vertically=True,
    )
    top -= NAME_BOX
    _draw_block(
        canvas,
        badge.position,
        font=regular,
        top=top,
        height=POSITION_BOX,
        max_size=11,
        min_size=7,
        color=MUTED,
    )
    top -= POSITION_BOX
    _draw_block(
        canvas,
        badge.organization,
        font=regular,
        top=top,
        height=ORGANIZATION_BOX,
        max_size=12,
        min_size=7,
    )
    top -= ORGANIZATION_BOX + 2 * mm
    _draw_pill(canvas, badge.participation, bold, top)
    _draw_qr(canvas, badge.code, (BADGE_WIDTH - QR_SIZE) / 2, MARGIN - 2 * mm, QR_SIZE)


def _new_canvas(buffer: BytesIO, pagesize, title: str) -> Canvas:
    regular, _bold = register_fonts()
    # Starting in DejaVu keeps the unembedded Helvetica out of the file entirely.
    canvas = Canvas(buffer, pagesize=pagesize, pageCompression=1, initialFontName=regular)
    canvas.setTitle(title)
    canvas.setCreator("HybridDesk")
    return canvas


def render_badge(badge: BadgeData) -> bytes:
    """A single A6 badge as a one-page PDF."""
    buffer = BytesIO()
    canvas = _new_canvas(buffer, A6, f"{badge.name}: {badge.event_title}")
    draw_badge(canvas, badge)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_cut_marks(canvas: Canvas) -> None:
    width, height = A4
    middle_x, middle_y = width / 2, height / 2
    canvas.setStrokeColor(CUT_GUIDE)
    canvas.setLineWidth(0.3)
    canvas.setDash(2, 3)
    canvas.line(middle_x, 0, middle_x, height)
    canvas.line(0, middle_y, width, middle_y)
    canvas.setDash()
    canvas.setStrokeColor(CUT_MARK)
    canvas.setLineWidth(0.5)
    tick = 10 * mm
    for x0, y0, x1, y1 in (
        (middle_x, 0, middle_x, tick),
        (middle_x, height - tick, middle_x, height),
        (0, middle_y, tick, middle_y),
        (width - tick, middle_y, width, middle_y),
        (middle_x - tick / 2, middle_y, middle_x + tick / 2, middle_y),
        (middle_x, middle_y - tick / 2, middle_x, middle_y + tick / 2),
    ):
        canvas.line(x0, y0, x1, y1)


def sort_badges(badges: Iterable[BadgeData]) -> list[BadgeData]:
    """By name, so that "Ňurgeldi" files under N and "Şükürow" under S."""
    return sorted(badges, key=lambda b: (fold_for_search(b.name), b.name))


def render_badge_sheet(badges: Iterable[BadgeData], title: str = "Badges") -> bytes:
    """Four A6 badges per A4 page, sorted by name, with cut marks."""
    width, height = A4
    cell_width, cell_height = width / 2, height / 2
    # A4 is a hair taller than two A6, so each badge is centred in its quarter.
    offset_x = (cell_width - BADGE_WIDTH) / 2
    offset_y = (cell_height - BADGE_HEIGHT) / 2
    origins = [
        (0, cell_height),
        (cell_width, cell_height),
        (0, 0),
        (cell_width, 0),
    ]
    buffer = BytesIO()
    canvas = _new_canvas(buffer, A4, title)
    ordered = sort_badges(badges)
    # At least one page: a PDF without pages is not one that viewers open.
    for start in range(0, max(len(ordered), 1), 4):
        for badge, (x, y) in zip(ordered[start : start + 4], origins, strict=False):
            canvas.saveState()
            canvas.translate(x + offset_x, y + offset_y)
            draw_badge(canvas, badge)
            canvas.restoreState()
        _draw_cut_marks(canvas)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
