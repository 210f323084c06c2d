"""Attendance: the live dashboard, downloads, report imports and the online join link."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.attendance import exports
from app.attendance.charts import arrivals_svg
from app.attendance.forms import ConfirmImportForm, ReportUploadForm
from app.attendance.imports import (
    ReportFormatError,
    ReportSource,
    apply_import,
    build_import_plan,
    parse_report,
    people_from_payload,
    people_to_payload,
    threshold_minutes,
)
from app.attendance.lists import attendance_rows, registration_rows, signin_sections
from app.attendance.reports import attendance_report, report_csv
from app.attendance.services import (
    JoinState,
    arrivals_over_time,
    join_refusal,
    join_state,
    join_window,
    record_online_join,
    site_attendance,
)
from app.auth.access import allowed_site_ids, organizer_required, staff_required
from app.errors import render_error
from app.extensions import db
from app.models import Event, EventSite
from app.templating import event_date, event_time
from app.web import event_or_404, event_site_or_404, registration_for_token

bp = Blueprint("attendance", __name__)

#: How long a previewed report may wait for its confirmation.
IMPORT_PREVIEW_MAX_AGE = 6 * 3600
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- the personal join link -------------------------------------------------


@bp.route("/r/<token>/join")
def join(token: str):
    """Record an online participant's join and send them to the meeting."""
    registration = registration_for_token(token)
    event = registration.event
    refusal = join_refusal(registration)
    if refusal is not None:
        response = render_template(
            "attendance/join_unavailable.html",
            registration=registration,
            event=event,
            refusal=refusal,
        )
        return _private(Response(response, status=403))
    opens_before = current_app.config["JOIN_OPENS_MINUTES_BEFORE"]
    state = join_state(event, opens_before)
    if state != JoinState.OPEN:
        opens_at, _closes_at = join_window(event, opens_before)
        response = render_template(
            "attendance/join_wait.html",
            registration=registration,
            event=event,
            state=state,
            opens_at=opens_at,
        )
        return _private(Response(response))
    record_online_join(registration)
    db.session.commit()
    return _private(redirect(event.meeting_url, code=302))


def _private(response: Response) -> Response:
    # The personal token is in the URL: keep it out of caches and the meeting site's logs.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- scope: which event and which sites -------------------------------------


def _site_scope(event: Event) -> tuple[set[int] | None, EventSite | None]:
    """The sites a request covers: ?site=, or all the user may see (None: every site).

    A site not in this event is 404; one the coordinator does not serve is 403.
    """
    allowed = allowed_site_ids(current_user)
    slug = request.args.get("site", "").strip()
    if slug:
        event_site = event_site_or_404(event, slug, current_user)
        return {event_site.site_id}, event_site
    if allowed is None:
        return None, None
    mine = allowed & {es.site_id for es in event.event_sites}
    if not mine:
        abort(403)
    return mine, None


def _filename(event: Event, event_site: EventSite | None, stem: str, extension: str) -> str:
    parts = [event.slug, stem]
    if event_site is not None:
        parts.append(event_site.site.slug)
    return "-".join(parts) + "." + extension


# --- the live dashboard -----------------------------------------------------


def _dashboard_data(event: Event, site_ids: set[int] | None):
    summary = site_attendance(event, site_ids)
    arrivals = arrivals_over_time(event, site_ids)
    start, end = arrivals.domain(event)
    charts = {
        site.slug: arrivals_svg(
            arrivals.per_site.get(site.site_id, []),
            start,
            end,
            site.confirmed,
            event.zone,
            _("Arrivals over time at %(site)s", site=site.name),
        )
        for site in summary.sites
    }
    return summary, charts


@bp.route("/manage/events/<slug>/dashboard")
@staff_required
def dashboard(slug: str):
    """Live arrivals per site and online; coordinators see their own sites."""
    event = event_or_404(slug)
    site_ids, event_site = _site_scope(event)
    summary, charts = _dashboard_data(event, site_ids)
    return render_template(
        "attendance/dashboard.html",
        event=event,
        summary=summary,
        charts=charts,
        event_site=event_site,
        data_url=url_for("attendance.dashboard_data", slug=slug, site=request.args.get("site")),
        refresh_ms=current_app.config["DASHBOARD_REFRESH_MS"],
    )


@bp.route("/manage/events/<slug>/dashboard.json")
@staff_required
def dashboard_data(slug: str):
    """The dashboard's figures and charts, fetched every few seconds by the page."""
    event = event_or_404(slug)
    site_ids, _event_site = _site_scope(event)
    summary, charts = _dashboard_data(event, site_ids)
    response = jsonify(
        summary=summary.to_dict(),
        charts={slug: str(svg) for slug, svg in charts.items()},
        updated=event_time(summary.generated_at, event, "medium"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- downloads --------------------------------------------------------------


def _csv_response(chunks, filename: str) -> Response:
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


@bp.route("/manage/events/<slug>/attendance.csv")
@staff_required
def attendance_csv(slug: str):
    """Who attended, where and how: one row per registration, streamed."""
    event = event_or_404(slug)
    site_ids, event_site = _site_scope(event)
    chunks = exports.attendance_csv(attendance_rows(event, site_ids), event.zone)
    return _csv_response(chunks, _filename(event, event_site, "attendance", "csv"))


@bp.route("/manage/events/<slug>/attendance.xlsx")
@staff_required
def attendance_xlsx(slug: str):
    """The attendance list as a workbook, with a summary sheet."""
    event = event_or_404(slug)
    site_ids, event_site = _site_scope(event)
    data = exports.attendance_xlsx(
        attendance_rows(event, site_ids), site_attendance(event, site_ids), event.zone
    )
    return _file_response(data, XLSX_MIMETYPE, _filename(event, event_site, "attendance", "xlsx"))


@bp.route("/manage/events/<slug>/attendance.pdf")
@staff_required
def attendance_pdf(slug: str):
    """The printable sign-in sheet: one section per site."""
    event = event_or_404(slug)
    site_ids, event_site = _site_scope(event)
    date_text = "{}, {}–{}".format(
        event_date(event.starts_at, event, "long"),
        event_time(event.starts_at, event),
        event_time(event.ends_at, event),
    )
    data = exports.signin_sheet_pdf(
        event.title, date_text, signin_sections(event, site_ids), event.zone
    )
    return _file_response(
        data, "application/pdf", _filename(event, event_site, "sign-in-sheet", "pdf")
    )


@bp.route("/manage/events/<slug>/registrations.csv")
@staff_required
def registrations_csv(slug: str):
    """Every registration with its status, streamed."""
    event = event_or_404(slug)
    site_ids, event_site = _site_scope(event)
    chunks = exports.registrations_csv(registration_rows(event, site_ids), event.zone)
    return _csv_response(chunks, _filename(event, event_site, "registrations", "csv"))


@bp.route("/manage/events/<slug>/registrations.xlsx")
@staff_required
def registrations_xlsx(slug: str):
    """Every registration with its status, as a workbook."""
    event = event_or_404(slug)
    site_ids, event_site = _site_scope(event)
    data = exports.registrations_xlsx(registration_rows(event, site_ids), event.zone)
    return _file_response(
        data, XLSX_MIMETYPE, _filename(event, event_site, "registrations", "xlsx")
    )


# --- the report -------------------------------------------------------------


@bp.route("/manage/events/<slug>/report")
@organizer_required
def report(slug: str):
    """Registered versus attended by site, mode, kind of organisation and gender."""
    event = event_or_404(slug)
    return render_template(
        "attendance/report.html",
        event=event,
        report=attendance_report(event),
        printable=request.args.get("print") == "1",
    )


@bp.route("/manage/events/<slug>/report.csv")
@organizer_required
def report_download(slug: str):
    """The report as CSV, for pasting into a donor report."""
    event = event_or_404(slug)
    data = report_csv(event.title, attendance_report(event))
    return _file_response(data, "text/csv; charset=utf-8", f"{event.slug}-report.csv")


# --- importing a meeting report ---------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attendance-report-import")


def _form_field_limit() -> int:
    return current_app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000


@bp.route("/manage/events/<slug>/attendance/import", methods=["GET", "POST"])
@organizer_required
def import_report(slug: str):
    """Upload a Zoom or Teams report and preview what it would record."""
    event = event_or_404(slug)
    form = ReportUploadForm()
    form.set_zone_choices(event.timezone)
    if form.validate_on_submit():
        data = form.report.data.read()
        try:
            report_data = parse_report(data, ZoneInfo(form.timezone.data), near=event.starts_at)
        except ReportFormatError as error:
            form.report.errors = [str(error)]
        else:
            threshold = threshold_minutes(event, form.threshold.data, form.threshold_unit.data)
            payload = {
                "event": event.id,
                "threshold": threshold,
                "file": form.report.data.filename or "",
                **people_to_payload(report_data),
            }
            token = _serializer().dumps(payload)
            if len(token) > _form_field_limit():
                form.report.errors = [
                    _(
                        "This report has too many rows to import at once. "
                        "Split it into smaller files."
                    )
                ]
            else:
                return _render_preview(event, payload, token, manual={})
    return render_template("attendance/import_upload.html", event=event, form=form)


def _render_preview(event: Event, payload: dict, token: str, manual: dict[str, int]):
    plan = build_import_plan(
        event,
        ReportSource(payload["source"]),
        payload["title"],
        people_from_payload(payload),
        payload["threshold"],
        manual,
    )
    form = ConfirmImportForm(payload=token)
    return render_template(
        "attendance/import_preview.html",
        event=event,
        plan=plan,
        form=form,
        manual=manual,
        filename=payload.get("file", ""),
    )


def _manual_matches() -> dict[str, int]:
    manual = {}
    for key, value in request.form.items():
        if key.startswith("match-") and value.isdigit():
            manual[key.removeprefix("match-")] = int(value)
    return manual


@bp.route("/manage/events/<slug>/attendance/import/confirm", methods=["POST"])
@organizer_required
def confirm_import(slug: str):
    """Record the previewed report, with any rows the organiser matched by hand."""
    event = event_or_404(slug)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        flash(_("The preview expired. Please upload the report again."), "error")
        return redirect(url_for("attendance.import_report", slug=slug))
    try:
        payload = _serializer().loads(form.payload.data, max_age=IMPORT_PREVIEW_MAX_AGE)
    except BadSignature:
        flash(_("The preview expired. Please upload the report again."), "error")
        return redirect(url_for("attendance.import_report", slug=slug))
    if payload.get("event") != event.id:
        abort(400)
    manual = _manual_matches()
    if "preview" in request.form:
        return _render_preview(event, payload, form.payload.data, manual)
    plan = build_import_plan(
        event,
        ReportSource(payload["source"]),
        payload["title"],
        people_from_payload(payload),
        payload["threshold"],
        manual,
    )
    try:
        outcome = apply_import(
            event,
            plan,
            current_user.id,
            device=f"{payload['source']} report {payload.get('file', '')}",
        )
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        flash(
            _(
                "Someone else imported a report at the same moment. Nothing was saved; "
                "please confirm again."
            ),
            "error",
        )
        return _render_preview(event, payload, form.payload.data, manual)
    flash(
        _(
            "Report imported: %(new)d new, %(updated)d updated, %(unchanged)d unchanged.",
            new=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
        )
        + " "
        + ngettext(
            "%(num)d person in the report was not matched.",
            "%(num)d people in the report were not matched.",
            len(plan.unmatched),
        ),
        "success",
    )
    return redirect(url_for("attendance.report", slug=slug))


@bp.errorhandler(413)
def too_large(error):
    """A friendlier message than the generic one when a report is too big."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return render_error(
        413, _("The file is too large. The limit is %(mb)d MB.", mb=limit // (1024 * 1024))
    )
