"""Attendance and registration downloads: CSV, XLSX and the printable sign-in sheet.

Pure functions: they take rows and return bytes (the CSV as a stream of
chunks, so 10,000 rows never sit in memory at once). Column headers and enum
labels are translated into the current language.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import xlsxwriter
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app import labels
from app.attendance.lists import AttendanceRow, RegistrationRow, SigninRow, SigninSection
from app.attendance.services import AttendanceSummary
from app.fonts import register_fonts

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 500


def neutralise(value: str) -> str:
    """Defuse CSV injection: a leading quote makes Excel show the text, not run it."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable
    kind: str = Kind.TEXT
    width: int = 18


def _label(mapping: dict, key) -> str:
    return str(mapping[key]) if key is not None and key in mapping else ""


def attendance_columns(zone: ZoneInfo) -> list[Column]:
    """The attendance list's columns, in order."""
    yes, no, online = _("yes"), _("no"), _("Online")
    return [
        Column(_("Name"), lambda r: r.name, width=28),
        Column(_("Organisation"), lambda r: r.organization, width=30),
        Column(_("Position"), lambda r: r.position, width=20),
        Column(_("Kind of organisation"), lambda r: _label(labels.ORG_KIND, r.org_kind)),
        Column(_("Gender"), lambda r: _label(labels.GENDER, r.gender), width=10),
        Column(_("Email"), lambda r: r.email, width=28),
        Column(_("Phone"), lambda r: r.phone, width=16),
        Column(_("Mode"), lambda r: _label(labels.MODE, r.mode), width=12),
        Column(_("Registered site"), lambda r: r.registered_site, width=24),
        Column(_("Attended"), lambda r: yes if r.attended else no, width=10),
        Column(
            _("Where"),
            lambda r: r.attended_site or (online if r.attended_online else ""),
            width=24,
        ),
        Column(
            _("First check-in (%(zone)s)", zone=zone.key),
            lambda r: r.first_checkin,
            Kind.DATETIME,
        ),
        Column(_("Method"), lambda r: _label(labels.CHECKIN_METHOD, r.method)),
        Column(_("Online minutes"), lambda r: r.online_minutes, Kind.NUMBER, width=10),
    ]


def registration_columns(zone: ZoneInfo) -> list[Column]:
    """The registration list's columns, in order; never a token or badge code."""
    return [
        Column(_("Name"), lambda r: r.name, width=28),
        Column(_("Email"), lambda r: r.email, width=28),
        Column(_("Phone"), lambda r: r.phone, width=16),
        Column(_("Organisation"), lambda r: r.organization, width=30),
        Column(_("Position"), lambda r: r.position, width=20),
        Column(_("Kind of organisation"), lambda r: _label(labels.ORG_KIND, r.org_kind)),
        Column(_("Gender"), lambda r: _label(labels.GENDER, r.gender), width=10),
        Column(_("Language"), lambda r: labels.LANGUAGE_NAMES.get(r.language, r.language)),
        Column(_("Mode"), lambda r: _label(labels.MODE, r.mode), width=12),
        Column(_("Site"), lambda r: r.site, width=24),
        Column(_("Status"), lambda r: _label(labels.REGISTRATION_STATUS, r.status), width=12),
        Column(
            _("Registered at (%(zone)s)", zone=zone.key), lambda r: r.registered_at, Kind.DATETIME
        ),
        Column(
            _("Cancelled at (%(zone)s)", zone=zone.key), lambda r: r.cancelled_at, Kind.DATETIME
        ),
    ]


# --- CSV --------------------------------------------------------------------


def _csv_cell(column: Column, value, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if column.kind == Kind.DATETIME:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if column.kind == Kind.NUMBER:
        return str(value)
    return neutralise(str(value))


def csv_stream(columns: list[Column], rows: Iterable, zone: ZoneInfo) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel then reads Turkmen and Cyrillic right), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c.title) for c in columns])
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([_csv_cell(c, c.value(row), zone) for c in columns])
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def attendance_csv(rows: Iterable[AttendanceRow], zone: ZoneInfo) -> Iterator[bytes]:
    """The attendance list as streamed CSV."""
    return csv_stream(attendance_columns(zone), rows, zone)


def registrations_csv(rows: Iterable[RegistrationRow], zone: ZoneInfo) -> Iterator[bytes]:
    """The registration list as streamed CSV."""
    return csv_stream(registration_columns(zone), rows, zone)


# --- XLSX -------------------------------------------------------------------


def _write_table(workbook, sheet, columns: list[Column], rows: Iterable, zone: ZoneInfo) -> int:
    """Typed cells under a bold, frozen, filterable header; returns the number of rows."""
    header = workbook.add_format({"bold": True, "bg_color": "#E8EDF3", "bottom": 1})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width, when if column.kind == Kind.DATETIME else None)
    # Row 0 is written first: constant-memory mode flushes rows in order.
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.title, header)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, column in enumerate(columns):
            value = column.value(row)
            if value is None or value == "":
                continue
            if column.kind == Kind.DATETIME:
                local = value.astimezone(zone).replace(tzinfo=None)
                sheet.write_datetime(count, index, local, when)
            elif column.kind == Kind.NUMBER:
                sheet.write_number(count, index, value)
            else:
                # write_string, never write(): a leading "=" must stay text.
                sheet.write_string(count, index, str(value))
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    return count


def _workbook(target: io.BytesIO, tmpdir: str):
    return xlsxwriter.Workbook(
        target, {"constant_memory": True, "tmpdir": tmpdir, "strings_to_formulas": False}
    )


def attendance_xlsx(
    rows: Iterable[AttendanceRow], summary: AttendanceSummary, zone: ZoneInfo
) -> bytes:
    """The attendance list as a workbook: the list, then a summary sheet."""
    target = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="hybriddesk-xlsx-") as tmpdir:
        workbook = _workbook(target, tmpdir)
        _write_table(
            workbook, workbook.add_worksheet(_("Attendance")), attendance_columns(zone), rows, zone
        )
        _write_summary(workbook, workbook.add_worksheet(_("Summary")), summary)
        workbook.close()
    return target.getvalue()


def _write_summary(workbook, sheet, summary: AttendanceSummary) -> None:
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#E8EDF3", "bottom": 1})
    titles = [
        _("Site"),
        _("Capacity"),
        _("Confirmed"),
        _("Waitlisted"),
        _("Checked in"),
        _("Not arrived"),
    ]
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, len(titles) - 1, 14)
    for index, title in enumerate(titles):
        sheet.write_string(0, index, title, header)
    row = 1
    for site in summary.sites:
        sheet.write_string(row, 0, site.name)
        for index, value in enumerate(
            (site.capacity, site.confirmed, site.waitlisted, site.checked_in, site.not_arrived),
            start=1,
        ):
            sheet.write_number(row, index, value)
        row += 1
    totals = summary.totals
    sheet.write_string(row, 0, _("All sites"), bold)
    for index, value in enumerate(
        (
            totals.capacity,
            totals.confirmed,
            totals.waitlisted,
            totals.checked_in,
            totals.not_arrived,
        ),
        start=1,
    ):
        sheet.write_number(row, index, value, bold)
    row += 2
    if summary.online is not None:
        for index, title in enumerate(
            (_("Online"), _("Registered"), _("Joined"), _("Attended by report"))
        ):
            sheet.write_string(row, index, title, header)
        row += 1
        sheet.write_string(row, 0, _("Online"))
        for index, value in enumerate(
            (summary.online.registered, summary.online.joined, summary.online.attended_by_report),
            start=1,
        ):
            sheet.write_number(row, index, value)
        row += 2
    sheet.write_string(row, 0, _("Attended in total"), bold)
    sheet.write_number(row, 1, totals.attended, bold)


def registrations_xlsx(rows: Iterable[RegistrationRow], zone: ZoneInfo) -> bytes:
    """The registration list as a workbook."""
    target = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="hybriddesk-xlsx-") as tmpdir:
        workbook = _workbook(target, tmpdir)
        _write_table(
            workbook,
            workbook.add_worksheet(_("Registrations")),
            registration_columns(zone),
            rows,
            zone,
        )
        workbook.close()
    return target.getvalue()


# --- the sign-in sheet ------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 36
HEADER_HEIGHT = 58
COLUMN_HEADER_HEIGHT = 18
ROW_HEIGHT = 26
BLANK_ROWS = 10
ROWS_PER_PAGE = int((PAGE_HEIGHT - 2 * MARGIN - HEADER_HEIGHT - COLUMN_HEADER_HEIGHT) // ROW_HEIGHT)
#: Column widths in points: number, name, organisation and position, arrival, signature.
WIDTHS = (26, 150, 170, 48, PAGE_WIDTH - 2 * MARGIN - 26 - 150 - 170 - 48)


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut text to one line of the given width, with an ellipsis when it was cut."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _two_lines(text: str, font: str, size: float, width: float) -> list[str]:
    lines = simpleSplit(text, font, size, width)
    if len(lines) <= 2:
        return lines
    return [lines[0], _fit(" ".join(lines[1:]), font, size, width)]


def section_pages(section: SigninSection) -> int:
    return max(1, math.ceil((len(section.rows) + BLANK_ROWS) / ROWS_PER_PAGE))


def signin_sheet_pdf(
    event_title: str, date_text: str, sections: list[SigninSection], zone: ZoneInfo
) -> bytes:
    """A4 sign-in sheets: one section per site, each starting on a new page.

    Numbered rows sorted by name, the arrival time of those already checked in,
    a box to sign, and ten numbered blank rows for walk-ins. Pages are counted
    per site ("page 2 of 5"), since each site prints its own sheets.
    """
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(event_title)
    canvas.setAuthor("HybridDesk")
    titles = (_("No."), _("Name"), _("Organisation / position"), _("Arrival"), _("Signature"))
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
    canvas.drawString(MARGIN, top - 12, _fit(title, bold, 12, width - page_width - 12))
    canvas.setFont(regular, 9)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 12, page_text)
    canvas.setFont(bold, 11)
    canvas.drawString(MARGIN, top - 30, _fit(site_name, bold, 11, width * 0.6))
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
        canvas.drawString(x + 3, y - 12.5, _fit(text, bold, 8.5, column_width - 6))
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
        lines = _two_lines(entry.name, regular, 9, WIDTHS[1] - 6)
        canvas.setFont(regular, 9)
        baseline = top - 11 if len(lines) == 2 else top - 15
        for line in lines:
            canvas.drawString(x + 3, baseline, line)
            baseline -= 10
        x += WIDTHS[1]
        canvas.setFont(regular, 8.5)
        canvas.drawString(x + 3, top - 11, _fit(entry.organization, regular, 8.5, WIDTHS[2] - 6))
        canvas.setFont(regular, 7.5)
        canvas.setFillGray(0.35)
        canvas.drawString(x + 3, top - 21, _fit(entry.position, regular, 7.5, WIDTHS[2] - 6))
        canvas.setFillGray(0)
        x += WIDTHS[2]
        if entry.arrived_at is not None:
            canvas.setFont(regular, 9)
            canvas.drawString(x + 3, top - 15, entry.arrived_at.astimezone(zone).strftime("%H:%M"))
        x += WIDTHS[3]
    else:
        x += WIDTHS[1] + WIDTHS[2] + WIDTHS[3]
    canvas.setStrokeGray(0.55)
    canvas.rect(x + 3, bottom + 3, WIDTHS[4] - 6, ROW_HEIGHT - 6, stroke=1, fill=0)
