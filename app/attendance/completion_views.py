"""Who completed an event: the organisers' list, on the page and as CSV."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from app.attendance import exports
from app.attendance.blueprint import bp
from app.attendance.completion import CompletionRow, completion_list
from app.attendance.downloads import csv_response
from app.auth.access import organizer_required
from app.privacy.audit import audited
from app.web import event_or_404


def completion_columns() -> list[exports.Column]:
    """The completion list's columns, in order."""
    yes, no = _("yes"), _("no")
    return [
        exports.Column(_("Name"), lambda r: r.name, width=28),
        exports.Column(_("Organisation"), lambda r: r.organization, width=30),
        exports.Column(_("Site"), lambda r: r.site or _("Online"), width=24),
        exports.Column(_("Days attended"), lambda r: r.days_attended, exports.Kind.NUMBER),
        exports.Column(_("Sessions attended"), lambda r: r.sessions_attended, exports.Kind.NUMBER),
        exports.Column(_("Completed"), lambda r: yes if r.completed else no, width=10),
    ]


@bp.route("/manage/events/<slug>/completion")
@organizer_required
def completion(slug: str):
    """Each person's days and sessions attended, and whether they completed the event."""
    event = event_or_404(slug)
    rows: list[CompletionRow] = completion_list(event)
    return render_template(
        "attendance/completion.html",
        event=event,
        rows=rows,
        completed=sum(1 for row in rows if row.completed),
    )


@bp.route("/manage/events/<slug>/completion.csv")
@organizer_required
@audited()
def completion_csv(slug: str):
    """The completion list as CSV."""
    event = event_or_404(slug)
    chunks = exports.csv_stream(completion_columns(), completion_list(event), event.zone)
    return csv_response(chunks, f"{event.slug}-completion.csv")
