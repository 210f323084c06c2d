"""Attendance pages: the online join link, the live dashboard and the attendance report.

The downloads are in ``downloads`` and the report imports in ``import_views``;
all three add their views to the one ``attendance`` blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from app.attendance.blueprint import bp, site_scope
from app.attendance.charts import arrivals_svg, bars_svg
from app.attendance.completion import event_days
from app.attendance.counting import parse_day
from app.attendance.days import days_and_sessions
from app.attendance.reports import attendance_report, methods_note, report_arrivals
from app.attendance.rooms import centre_rooms
from app.attendance.services import (
    AttendanceSummary,
    JoinState,
    arrivals_over_time,
    join_refusal,
    join_state,
    join_window,
    record_online_join,
    site_attendance,
)
from app.auth.access import organizer_required, staff_required
from app.extensions import db
from app.models import Event, EventSite
from app.refusals import Refusal
from app.templating import event_time
from app.web import event_or_404, registration_for_token

# --- the personal join link -------------------------------------------------


@bp.route("/r/<token>/join")
def join(token: str):
    """Record an online participant's join and send them to the meeting."""
    registration = registration_for_token(token)
    event = registration.event
    refusal = join_refusal(registration)
    if refusal is not None:
        return render_template(
            "attendance/join_unavailable.html",
            registration=registration,
            event=event,
            refusal=refusal,
        ), 403
    opens_before = current_app.config["JOIN_OPENS_MINUTES_BEFORE"]
    state = join_state(event, opens_before)
    if state != JoinState.OPEN:
        opens_at, _closes_at = join_window(event, opens_before)
        return render_template(
            "attendance/join_wait.html",
            registration=registration,
            event=event,
            state=state,
            opens_at=opens_at,
        )
    record_online_join(registration)
    db.session.commit()
    # Like every answer under /r/<token>, this one is not cached and sends no referrer
    # (see app.is_personal_response), so the meeting site never sees the token.
    return redirect(event.meeting_url, code=302)


# --- the live dashboard -----------------------------------------------------


@dataclass(frozen=True)
class DashboardView:
    event: Event
    #: The site asked for, if any.
    event_site: EventSite | None
    summary: AttendanceSummary
    #: A chart of arrivals per site, by slug.
    charts: dict[str, Markup]
    #: The event's days, to choose one from (one day: no choice to make).
    days: list[date]
    #: Why the ?day= asked for was not used, or "".
    day_error: str


def _dashboard(slug: str) -> DashboardView:
    """The event, the site and day asked for, the figures and a chart per site."""
    event = event_or_404(slug)
    site_ids, event_site = site_scope(event)
    try:
        day = parse_day(request.args.get("day"))
        day_error = ""
    except Refusal as refusal:
        day, day_error = None, refusal.message
    summary = site_attendance(event, site_ids, day)
    arrivals = arrivals_over_time(event, site_ids, day=day)
    start, end = arrivals.domain(event)
    charts = {
        site.slug: arrivals_svg(
            arrivals.per_site.get(site.site_id, []),
            start,
            end,
            site.registered,
            event.zone,
            _("Arrivals over time at %(site)s", site=site.name),
        )
        for site in summary.sites
    }
    return DashboardView(event, event_site, summary, charts, event_days(event), day_error)


@bp.route("/manage/events/<slug>/dashboard")
@staff_required
def dashboard(slug: str):
    """Live arrivals per site and online; coordinators see their own sites."""
    view = _dashboard(slug)
    day = view.summary.day
    return render_template(
        "attendance/dashboard.html",
        event=view.event,
        summary=view.summary,
        charts=view.charts,
        event_site=view.event_site,
        days=view.days,
        day_error=view.day_error,
        data_url=url_for(
            "attendance.dashboard_data",
            slug=slug,
            site=request.args.get("site"),
            day=day.isoformat() if day else None,
        ),
        refresh_ms=current_app.config["DASHBOARD_REFRESH_MS"],
    )


@bp.route("/manage/events/<slug>/dashboard.json")
@staff_required
def dashboard_data(slug: str):
    """The dashboard's figures and charts, fetched every few seconds by the page."""
    view = _dashboard(slug)
    response = jsonify(
        summary=view.summary.to_dict(),
        charts={slug: str(svg) for slug, svg in view.charts.items()},
        updated=event_time(view.summary.generated_at, view.event, "medium"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the report -------------------------------------------------------------


@bp.route("/manage/events/<slug>/report")
@organizer_required
def report(slug: str):
    """Registered versus attended by site, mode, kind of organisation and gender."""
    event = event_or_404(slug)
    report = attendance_report(event)
    sections = [
        (table, bars_svg(table.lines, _("%(table)s: registered and attended", table=table.title)))
        for table in report.tables()
    ]
    arrivals = report_arrivals(event, report)
    arrival_charts = [
        (
            series.line,
            arrivals_svg(
                series.points,
                arrivals.start,
                arrivals.end,
                series.line.registered,
                event.zone,
                _("Arrivals over time at %(site)s", site=series.line.label),
            ),
        )
        for series in arrivals.series
    ]
    return render_template(
        "attendance/report.html",
        event=event,
        report=report,
        sections=sections,
        arrival_charts=arrival_charts,
        days_sessions=days_and_sessions(event),
        rooms=centre_rooms(event),
        methods=methods_note(),
        printable=request.args.get("print") == "1",
    )
