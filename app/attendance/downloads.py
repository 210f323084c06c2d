"""Attendance downloads: the attendance and registration lists, the sign-in sheet, the report.

Each download is written to the audit log (``audited``), with the user and its ``?site=``.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable

from flask import Response, send_file, stream_with_context

from app.attendance import exports
from app.attendance.blueprint import bp, site_scope
from app.attendance.lists import attendance_rows, registration_rows, signin_sections
from app.attendance.report_pdf import ReportFacts, render_report_pdf
from app.attendance.reports import AttendanceReport, attendance_report, report_arrivals, report_csv
from app.attendance.services import site_attendance
from app.attendance.signin_sheet import signin_sheet_pdf
from app.auth.access import organizer_required, staff_required
from app.models import Event, EventSite
from app.privacy.audit import audited
from app.templating import event_date, event_datetime, event_span, event_time
from app.web import event_or_404

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: How each kind of file is sent, by extension; CSV is streamed as text/csv instead.
MIMETYPES = {"xlsx": XLSX_MIMETYPE, "pdf": "application/pdf"}

#: Builds a file from the event and the ids of the sites it covers (None: every site):
#: CSV as a stream of chunks, anything else as bytes.
Builder = Callable[[Event, set[int] | None], "Iterable[bytes] | bytes"]


def csv_response(chunks, filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _file_response(data: bytes, mimetype: str, filename: str) -> Response:
    response = send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _filename(event: Event, event_site: EventSite | None, stem: str, extension: str) -> str:
    parts = [event.slug, stem]
    if event_site is not None:
        parts.append(event_site.site.slug)
    return "-".join(parts) + "." + extension


def site_download(stem: str, extension: str) -> Callable[[Builder], Callable[[str], Response]]:
    """Turn a builder into a download view for the sites the request covers.

    The view finds the event (404), narrows to ``?site=`` or the user's own
    sites (see ``site_scope``), builds the file and sends it as
    ``<event>-<stem>[-<site>].<extension>``, never cached.
    """

    def decorate(build: Builder) -> Callable[[str], Response]:
        @functools.wraps(build)
        def view(slug: str) -> Response:
            event = event_or_404(slug)
            site_ids, event_site = site_scope(event)
            content = build(event, site_ids)
            filename = _filename(event, event_site, stem, extension)
            if extension == "csv":
                return csv_response(content, filename)
            return _file_response(content, MIMETYPES[extension], filename)

        return view

    return decorate


@bp.route("/manage/events/<slug>/attendance.csv")
@staff_required
@audited()
@site_download("attendance", "csv")
def attendance_csv(event: Event, site_ids: set[int] | None) -> Iterable[bytes]:
    """Who attended, where and how: one row per registration, streamed."""
    return exports.attendance_csv(attendance_rows(event, site_ids), event.zone)


@bp.route("/manage/events/<slug>/attendance.xlsx")
@staff_required
@audited()
@site_download("attendance", "xlsx")
def attendance_xlsx(event: Event, site_ids: set[int] | None) -> bytes:
    """The attendance list as a workbook, with a summary sheet."""
    return exports.attendance_xlsx(
        attendance_rows(event, site_ids), site_attendance(event, site_ids), event.zone
    )


@bp.route("/manage/events/<slug>/attendance.pdf")
@staff_required
@audited()
@site_download("sign-in-sheet", "pdf")
def attendance_pdf(event: Event, site_ids: set[int] | None) -> bytes:
    """The printable sign-in sheet: one section per site."""
    date_text = "{}, {}–{}".format(
        event_date(event.starts_at, event, "long"),
        event_time(event.starts_at, event),
        event_time(event.ends_at, event),
    )
    return signin_sheet_pdf(event.title, date_text, signin_sections(event, site_ids), event.zone)


@bp.route("/manage/events/<slug>/registrations.csv")
@staff_required
@audited()
@site_download("registrations", "csv")
def registrations_csv(event: Event, site_ids: set[int] | None) -> Iterable[bytes]:
    """Every registration with its status, streamed."""
    return exports.registrations_csv(registration_rows(event, site_ids), event.zone)


@bp.route("/manage/events/<slug>/registrations.xlsx")
@staff_required
@audited()
@site_download("registrations", "xlsx")
def registrations_xlsx(event: Event, site_ids: set[int] | None) -> bytes:
    """Every registration with its status, as a workbook."""
    return exports.registrations_xlsx(registration_rows(event, site_ids), event.zone)


@bp.route("/manage/events/<slug>/report.csv")
@organizer_required
@audited()
def report_download(slug: str):
    """The report as CSV, for pasting into a donor report."""
    event = event_or_404(slug)
    data = report_csv(event.title, attendance_report(event))
    return _file_response(data, "text/csv; charset=utf-8", f"{event.slug}-report.csv")


@bp.route("/manage/events/<slug>/report.pdf")
@organizer_required
@audited()
def report_pdf(slug: str):
    """The report on A4, with its charts and a note on method, in the reader's language."""
    event = event_or_404(slug)
    report = attendance_report(event)
    data = render_report_pdf(
        _report_facts(event, report), report, report_arrivals(event, report), event.zone
    )
    return _file_response(data, "application/pdf", f"{event.slug}-report.pdf")


def _report_facts(event: Event, report: AttendanceReport) -> ReportFacts:
    organizer = event.organizer_name
    if event.organizer_email:
        organizer = f"{organizer} ({event.organizer_email})" if organizer else event.organizer_email
    return ReportFacts(
        title=event.title,
        when=event_span(event),
        timezone=event.timezone,
        organizer=organizer,
        sites=[
            (event_site.site.name, event_site.site.address or event_site.site.region)
            for event_site in event.event_sites
        ],
        generated=event_datetime(report.generated_at, event),
    )
