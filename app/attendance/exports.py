"""Attendance and registration downloads as CSV and XLSX.

Pure functions: they take rows and return bytes (the CSV as a stream of
chunks, so 10,000 rows never sit in memory at once). Column headers and enum
labels are translated into the current language.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import xlsxwriter
from flask_babel import gettext as _

from app import labels
from app.attendance.lists import AttendanceRow, RegistrationRow
from app.attendance.services import AttendanceSummary

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


def summary_columns() -> list[str]:
    """The summary sheet's headings: the report's by-site columns, then the site's room."""
    return [
        _("Site"),
        _("Registered"),
        _("Attended here"),
        _("Attended at another site"),
        _("Came from another site"),
        _("Attendance rate"),
        _("Not arrived"),
        _("Capacity"),
        _("Confirmed"),
        _("Waitlisted"),
    ]


def _write_summary(workbook, sheet, summary: AttendanceSummary) -> None:
    """The dashboard's table: each site, online, and the total, counted by the one rule."""
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#E8EDF3", "bottom": 1})
    percent = workbook.add_format({"num_format": "0%"})
    bold_percent = workbook.add_format({"bold": True, "num_format": "0%"})
    titles = summary_columns()
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, len(titles) - 1, 14)
    for index, title in enumerate(titles):
        sheet.write_string(0, index, title, header)

    def write_line(row: int, label: str, line, here: int, awaited: int, room, *, strong=False):
        sheet.write_string(row, 0, label, bold if strong else None)
        figures = (line.registered, here, line.attended_elsewhere, line.from_other_sites)
        for index, value in enumerate(figures, start=1):
            sheet.write_number(row, index, value, bold if strong else None)
        if line.registered:
            # Rounded down, as the page writes it, so 100% means everyone.
            rate = (100 * line.arrived // line.registered) / 100
            sheet.write_number(row, 5, rate, bold_percent if strong else percent)
        else:
            sheet.write_string(row, 5, "–", bold if strong else None)
        sheet.write_number(row, 6, awaited, bold if strong else None)
        for index, value in enumerate(room, start=7):
            sheet.write_number(row, index, value, bold if strong else None)

    row = 1
    for site in summary.sites:
        room = (site.capacity, site.confirmed, site.waitlisted)
        write_line(row, site.name, site, site.checked_in, site.not_arrived, room)
        row += 1
    online = summary.online
    if online is not None:
        write_line(row, _("Online"), online, online.attended, online.not_arrived, ())
        row += 1
    totals = summary.totals
    room = (totals.capacity, totals.confirmed, totals.waitlisted)
    write_line(row, _("Total"), totals, totals.attended, totals.awaited, room, strong=True)
    row += 2
    if online is not None:
        for index, title in enumerate((_("Online"), _("Joined"), _("Attended by report"))):
            sheet.write_string(row, index, title, header)
        row += 1
        sheet.write_string(row, 0, _("Online"))
        sheet.write_number(row, 1, online.joined)
        sheet.write_number(row, 2, online.attended_by_report)
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
