"""The printable A4 sign-in sheet: one section of numbered rows per site, to sign on arrival."""

from __future__ import annotations

import io
import math
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.attendance.lists import SigninRow, SigninSection
from app.fonts import fit_text, register_fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 36
HEADER_HEIGHT = 58
COLUMN_HEADER_HEIGHT = 18
ROW_HEIGHT = 26
BLANK_ROWS = 10
ROWS_PER_PAGE = int((PAGE_HEIGHT - 2 * MARGIN - HEADER_HEIGHT - COLUMN_HEADER_HEIGHT) // ROW_HEIGHT)
#: Column widths in points: number, row code, name, organisation and position, arrival,
#: signature.
WIDTHS = (26, 44, 140, 140, 44, PAGE_WIDTH - 2 * MARGIN - 26 - 44 - 140 - 140 - 44)


def _two_lines(text: str, font: str, size: float, width: float) -> list[str]:
    lines = simpleSplit(text, font, size, width)
    if len(lines) <= 2:
        return lines
    return [lines[0], fit_text(" ".join(lines[1:]), font, size, width)]


def section_pages(section: SigninSection) -> int:
    return max(1, math.ceil((len(section.rows) + BLANK_ROWS) / ROWS_PER_PAGE))


def signin_sheet_pdf(
    event_title: str, date_text: str, sections: list[SigninSection], zone: ZoneInfo
) -> bytes:
    """A4 sign-in sheets: one section per site, each starting on a new page.

    Numbered rows sorted by name, each with its row code (to find the row again
    when the signed sheet is recorded), the arrival time of those already checked
    in, a box to sign, and ten numbered blank rows for walk-ins. Pages are counted
    per site ("page 2 of 5"), since each site prints its own sheets.
    """
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(event_title)
    canvas.setAuthor("HybridDesk")
    titles = (
        _("No."),
        _("Code"),
        _("Name"),
        _("Organisation / position"),
        _("Arrival"),
        _("Signature"),
    )
    if not sections:
        sections = [SigninSection(_("No site"), [])]
    for section in sections:
        total_pages = section_pages(section)
        entries: list[SigninRow | None] = [*section.rows, *([None] * BLANK_ROWS)]
        for page in range(total_pages):
            _page_header(
                canvas,
                regular,
                bold,
                event_title,
                section.site_name,
                date_text,
                page + 1,
                total_pages,
                titles,
            )
            chunk = entries[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
            top = PAGE_HEIGHT - MARGIN - HEADER_HEIGHT - COLUMN_HEADER_HEIGHT
            for offset, entry in enumerate(chunk):
                number = page * ROWS_PER_PAGE + offset + 1
                _signin_row(canvas, regular, top - offset * ROW_HEIGHT, number, entry, zone)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _page_header(canvas, regular, bold, title, site_name, date_text, page, pages, titles):
    top = PAGE_HEIGHT - MARGIN
    width = PAGE_WIDTH - 2 * MARGIN
    canvas.setFillGray(0)
    canvas.setFont(bold, 12)
    page_text = _("Page %(page)d of %(pages)d", page=page, pages=pages)
    page_width = stringWidth(page_text, regular, 9)
    canvas.drawString(MARGIN, top - 12, fit_text(title, bold, 12, width - page_width - 12))
    canvas.setFont(regular, 9)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 12, page_text)
    canvas.setFont(bold, 11)
    canvas.drawString(MARGIN, top - 30, fit_text(site_name, bold, 11, width * 0.6))
    canvas.setFont(regular, 10)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 30, date_text)
    canvas.setFont(regular, 8)
    canvas.setFillGray(0.35)
    canvas.drawString(
        MARGIN,
        top - 44,
        _(
            "Please sign next to your name. Add your details "
            "on an empty line if your name is not listed."
        ),
    )
    canvas.setFillGray(0)
    y = top - HEADER_HEIGHT
    canvas.setFillGray(0.9)
    canvas.rect(MARGIN, y - COLUMN_HEADER_HEIGHT, width, COLUMN_HEADER_HEIGHT, stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.setFont(bold, 8.5)
    x = MARGIN
    for text, column_width in zip(titles, WIDTHS, strict=True):
        canvas.drawString(x + 3, y - 12.5, fit_text(text, bold, 8.5, column_width - 6))
        x += column_width


def _signin_row(canvas, regular, top, number, entry, zone):
    bottom = top - ROW_HEIGHT
    canvas.setStrokeGray(0.75)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, bottom, PAGE_WIDTH - MARGIN, bottom)
    x = MARGIN
    canvas.setFont(regular, 8)
    canvas.setFillGray(0.35)
    canvas.drawRightString(x + WIDTHS[0] - 4, top - 15, str(number))
    canvas.setFillGray(0)
    x += WIDTHS[0]
    if entry is not None:
        canvas.setFont(regular, 8)
        canvas.drawString(x + 3, top - 15, fit_text(entry.code, regular, 8, WIDTHS[1] - 6))
        x += WIDTHS[1]
        lines = _two_lines(entry.name, regular, 9, WIDTHS[2] - 6)
        canvas.setFont(regular, 9)
        baseline = top - 11 if len(lines) == 2 else top - 15
        for line in lines:
            canvas.drawString(x + 3, baseline, line)
            baseline -= 10
        x += WIDTHS[2]
        canvas.setFont(regular, 8.5)
        canvas.drawString(
            x + 3, top - 11, fit_text(entry.organization, regular, 8.5, WIDTHS[3] - 6)
        )
        canvas.setFont(regular, 7.5)
        canvas.setFillGray(0.35)
        canvas.drawString(x + 3, top - 21, fit_text(entry.position, regular, 7.5, WIDTHS[3] - 6))
        canvas.setFillGray(0)
        x += WIDTHS[3]
        if entry.arrived_at is not None:
            canvas.setFont(regular, 9)
            canvas.drawString(x + 3, top - 15, entry.arrived_at.astimezone(zone).strftime("%H:%M"))
        x += WIDTHS[4]
    else:
        x += WIDTHS[1] + WIDTHS[2] + WIDTHS[3] + WIDTHS[4]
    canvas.setStrokeGray(0.55)
    canvas.rect(x + 3, bottom + 3, WIDTHS[5] - 6, ROW_HEIGHT - 6, stroke=1, fill=0)
