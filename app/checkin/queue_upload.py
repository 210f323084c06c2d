"""Uploading a queue file: the scans a device saved while it had no connection."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired

from app.auth.access import can_access_site, staff_required
from app.checkin.queue_file import (
    MAX_QUEUE_FILE_BYTES,
    RecordedScan,
    read_queue_file,
    record_queued_scans,
)
from app.checkin.roster import event_and_site
from app.checkin.routes import bp
from app.extensions import db
from app.forms import Form
from app.labels import REFUSAL_REASON
from app.refusals import Refusal
from app.web import show_refusal


class QueueUploadForm(Form):
    queue_file = FileField(
        _l("Queue file"),
        validators=[FileRequired(message=_l("Choose the queue file saved on the check-in page."))],
    )


def describe(recorded: RecordedScan) -> str:
    """What recording one scan did, in the words of the check-in page."""
    outcome = recorded.outcome
    if outcome.admitted:
        result = (
            _("Admitted at this site instead of the registered one")
            if outcome.checkin.forced
            else _("Admitted")
        )
    else:
        result = str(REFUSAL_REASON[outcome.reason])
    if outcome.replayed:
        return _("Already recorded (%(result)s): nothing changed", result=result.lower())
    return result


def _summary(recorded: list[RecordedScan]) -> str:
    new = [item for item in recorded if not item.outcome.replayed]
    admitted = sum(item.outcome.admitted for item in new)
    return ngettext(
        "%(num)d scan in the file: %(admitted)d admitted, %(refused)d refused, "
        "%(replayed)d already recorded.",
        "%(num)d scans in the file: %(admitted)d admitted, %(refused)d refused, "
        "%(replayed)d already recorded.",
        len(recorded),
        admitted=admitted,
        refused=len(new) - admitted,
        replayed=len(recorded) - len(new),
    )


@bp.route("/events/<slug>/checkin/<site_slug>/upload", methods=["GET", "POST"])
@staff_required
def upload_queue(slug: str, site_slug: str):
    """Record the scans of a queue file saved offline at this site, and show what each did."""
    event, site = event_and_site(slug, site_slug)
    if event is None or site is None:
        abort(404)
    if not can_access_site(current_user, site.id):
        abort(403)
    form = QueueUploadForm()
    recorded = None
    if form.validate_on_submit():
        data = form.queue_file.data.read(MAX_QUEUE_FILE_BYTES + 1)
        try:
            scans = read_queue_file(data, event, site)
            recorded = record_queued_scans(event, site, scans, current_user)
        except Refusal as refusal:
            db.session.rollback()
            show_refusal(refusal, form)
        else:
            # Shown at once rather than after a redirect: sending the same file again is
            # harmless, each scan answering with what it did the first time.
            db.session.commit()
    return render_template(
        "checkin/upload.html",
        event=event,
        site=site,
        form=form,
        recorded=recorded,
        summary=_summary(recorded) if recorded else "",
        describe=describe,
    )
