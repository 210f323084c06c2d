"""Staff pages for data protection: the audit log, anonymising an event, erasing a person."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.access import admin_required, organizer_required
from app.extensions import db
from app.forms import options
from app.models import Event
from app.privacy.audit import ACTION_LABELS, MAX_PAGE, audit_page
from app.privacy.forms import AuditFilterForm, ConfirmForm
from app.privacy.services import (
    anonymise_event,
    erase_registration,
    has_ended,
    is_anonymised,
    personal_data_left,
    retention_ends_at,
)
from app.web import event_or_404, event_registration_or_404, int_arg, save

bp = Blueprint("privacy", __name__, url_prefix="/manage")


@bp.app_context_processor
def inject_privacy_helpers():
    return {
        "is_anonymised": is_anonymised,
        "retention_ends_at": retention_ends_at,
        "has_ended": has_ended,
    }


@bp.route("/audit")
@admin_required
def audit_log():
    """Who exported, viewed, changed, erased or anonymised personal data, newest first."""
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_at.desc())).all()
    form = AuditFilterForm(request.args)
    form.event.choices = options([("", _("All")), *((e.slug, e.title) for e in events)])
    chosen = None
    if form.validate() and form.event.data:
        chosen = next(e for e in events if e.slug == form.event.data)
    page = int_arg("page", 1, minimum=1, maximum=MAX_PAGE)
    return render_template(
        "privacy/audit.html",
        form=form,
        chosen=chosen,
        entries=audit_page(chosen.id if chosen else None, page),
        action_labels=ACTION_LABELS,
    )


@bp.route("/events/<slug>/anonymise", methods=["GET", "POST"])
@organizer_required
def anonymise_event_view(slug: str):
    """Anonymise every participant of an ended event now, after a confirmation."""
    event = event_or_404(slug)
    form = ConfirmForm()
    if form.validate_on_submit() and (
        saved := save(
            lambda: anonymise_event(event, current_user),
            form=form,
            success=lambda count: ngettext(
                "The personal data of %(num)d registration is anonymised.",
                "The personal data of %(num)d registrations is anonymised.",
                count,
            ),
            redirect_to=url_for("events_manage.edit_event", slug=slug),
        )
    ):
        return saved
    return render_template(
        "privacy/anonymise_event.html",
        event=event,
        form=form,
        ended=has_ended(event),
        left=personal_data_left(event),
    )


@bp.route("/events/<slug>/registrations/<int:registration_id>/erase", methods=["GET", "POST"])
@organizer_required
def erase_registration_view(slug: str, registration_id: int):
    """Erase one person's details on their request, after a confirmation."""
    event = event_or_404(slug)
    registration = event_registration_or_404(event, registration_id)
    back = url_for(
        "registrations_manage.edit_registration", slug=slug, registration_id=registration.id
    )
    if is_anonymised(registration):
        flash(_("This person's personal data was erased already."), "info")
        return redirect(back)
    form = ConfirmForm()
    if form.validate_on_submit() and (
        saved := save(
            lambda: erase_registration(registration, current_user),
            form=form,
            success=_("The participant's personal data is erased; their attendance still counts."),
            redirect_to=back,
        )
    ):
        return saved
    return render_template(
        "privacy/erase_registration.html", event=event, registration=registration, form=form
    )
