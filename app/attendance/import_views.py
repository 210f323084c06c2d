"""Importing a Zoom or Teams report: upload, preview with matching by hand, confirmation."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.attendance.blueprint import bp
from app.attendance.forms import ConfirmImportForm, ReportUploadForm
from app.attendance.imports import (
    ImportPlan,
    ReportFormatError,
    ReportSource,
    apply_import,
    build_import_plan,
    parse_report,
    people_from_payload,
    people_to_payload,
    threshold_minutes,
)
from app.auth.access import organizer_required
from app.errors import render_error
from app.extensions import db
from app.models import Event
from app.web import event_or_404, parse_int

#: How long a previewed report may wait for its confirmation.
IMPORT_PREVIEW_MAX_AGE = 6 * 3600


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
                return _render_preview(event, payload, token, manual={}, rooms={})
    return render_template("attendance/import_upload.html", event=event, form=form)


def _plan(event: Event, payload: dict, manual: dict[str, int], rooms: dict[str, int]) -> ImportPlan:
    """The plan for a previewed report, matched against the registrations as they are now."""
    return build_import_plan(
        event,
        ReportSource(payload["source"]),
        payload["title"],
        people_from_payload(payload),
        payload["threshold"],
        manual,
        rooms,
    )


def _render_preview(
    event: Event, payload: dict, token: str, manual: dict[str, int], rooms: dict[str, int]
):
    plan = _plan(event, payload, manual, rooms)
    form = ConfirmImportForm(payload=token)
    return render_template(
        "attendance/import_preview.html",
        event=event,
        plan=plan,
        form=form,
        manual=manual,
        filename=payload.get("file", ""),
    )


def _tagged(prefix: str) -> dict[str, int]:
    """The rows the organiser chose for by hand: ``<prefix><key>`` names an id.

    Anything else is ignored; an id that is not the event's is ignored by the plan.
    """
    tagged = {}
    for key, value in request.form.items():
        chosen_id = parse_int(value, minimum=1)
        if key.startswith(prefix) and chosen_id is not None:
            tagged[key.removeprefix(prefix)] = chosen_id
    return tagged


def _preview_expired(slug: str):
    flash(_("The preview expired. Please upload the report again."), "error")
    return redirect(url_for("attendance.import_report", slug=slug))


@bp.route("/manage/events/<slug>/attendance/import/confirm", methods=["POST"])
@organizer_required
def confirm_import(slug: str):
    """Record the previewed report, with any rows the organiser matched by hand."""
    event = event_or_404(slug)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        return _preview_expired(slug)
    try:
        payload = _serializer().loads(form.payload.data, max_age=IMPORT_PREVIEW_MAX_AGE)
    except BadSignature:
        return _preview_expired(slug)
    if payload.get("event") != event.id:
        abort(400)
    # ``match-<key>``: a registration picked by hand; ``room-<key>``: a centre's room.
    manual, rooms = _tagged("match-"), _tagged("room-")
    if "preview" in request.form:
        return _render_preview(event, payload, form.payload.data, manual, rooms)
    plan = _plan(event, payload, manual, rooms)
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
        return _render_preview(event, payload, form.payload.data, manual, rooms)
    rooms_note = (
        " "
        + ngettext(
            "%(num)d centre's room recorded.", "%(num)d centres' rooms recorded.", len(plan.rooms)
        )
        if plan.rooms
        else ""
    )
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
        )
        + rooms_note,
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
