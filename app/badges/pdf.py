"""Printable badges: one A6 badge, or sheets of four A6 badges per A4 page.

Both take plain ``BadgeData`` and return PDF bytes. Text is set in the
embedded DejaVu Sans, so Turkmen (ä ç ž ň ö ş ü ý) and Cyrillic print as
typed. Every text block is fitted into a fixed box: it wraps, then shrinks,
and only as a last resort is cut with an ellipsis, so nothing runs off the
badge. The QR is drawn as vector rectangles, which print crisply and cost
little even on a sheet of a thousand badges.

What a badge shows and how it is laid out is in ``layout``; this module puts
badges on pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.badges.layout import BADGE_HEIGHT, BADGE_WIDTH, BadgeData, draw_badge
from app.fonts import register_fonts
from app.text import fold_for_search

CUT_MARK = Color(0, 0, 0)
CUT_GUIDE = Color(0.75, 0.75, 0.75)


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
