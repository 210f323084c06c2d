"""Staff pages for an event's registrations: the list, corrections and cancelling.

Opening, correcting or cancelling one person's registration is written to the audit log.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.auth.access import organizer_required
from app.extensions import db
from app.forms import ONLINE, mode_and_site, options
from app.messages.personal import message_history
from app.models import AuditAction, Event, Registration, RegistrationStatus
from app.privacy.audit import record, requested_path
from app.privacy.services import is_anonymised
from app.registrations.forms import RegistrationEditForm, RegistrationFilterForm
from app.registrations.listing import (
    MAX_PAGE,
    RegistrationFilters,
    registrations_page,
    status_counts,
)
from app.registrations.services import cancel_registration, update_registration, waitlist_note
from app.web import (
    event_or_404,
    event_registration_or_404,
    int_arg,
    on_get,
    require_button_post,
    save,
)

bp = Blueprint("registrations_manage", __name__, url_prefix="/manage")


def _corrected(
    event: Event, registration: Registration, form: RegistrationEditForm
) -> Registration:
    """Apply the staff's correction and log it, in one transaction."""
    changed = update_registration(
        registration, form.to_details(), *mode_and_site(form.participation.data)
    )
    record(AuditAction.CHANGE, event, registration, detail=requested_path())
    return changed


def _filters(event: Event, form: RegistrationFilterForm) -> RegistrationFilters:
    if not form.validate():
        return RegistrationFilters()
    event_site = event.event_site(form.site.data) if form.site.data else None
    return RegistrationFilters(
        site_id=event_site.site_id if event_site else None,
        mode=form.mode_value(),
        status=form.status_value(),
        text=form.q.data or "",
    )


@bp.route("/events/<slug>/registrations")
@organizer_required
def registrations(slug: str):
    """An event's registrations, filtered, searched and paged."""
    event = event_or_404(slug)
    form = RegistrationFilterForm(request.args)
    form.site.choices = options(
        [("", _("All")), *((es.site.slug, es.site.name) for es in event.event_sites)]
    )
    page = int_arg("page", 1, minimum=1, maximum=MAX_PAGE)
    return render_template(
        "registrations/staff_list.html",
        event=event,
        form=form,
        results=registrations_page(event, _filters(event, form), page),
        counts=status_counts(event),
        filtered=form.site.data or form.mode.data or form.status.data or form.q.data,
    )


@bp.route("/events/<slug>/registrations/<int:registration_id>", methods=["GET", "POST"])
@organizer_required
def edit_registration(slug: str, registration_id: int):
    """Correct one registration, or move it to another site or mode."""
    event = event_or_404(slug)
    registration = event_registration_or_404(event, registration_id)
    form = RegistrationEditForm(obj=on_get(registration))
    form.participation.choices = options(
        [*((es.site.slug, es.site.name) for es in event.event_sites), (ONLINE, _("Online"))]
    )
    if request.method == "GET":
        form.participation.data = registration.site.slug if registration.site else ONLINE
        form.org_kind.data = registration.org_kind.value
        form.gender.data = registration.gender.value if registration.gender else ""
    erased = is_anonymised(registration)
    # Nothing is typed back into an erased registration: it stays anonymous.
    submitted = not erased and form.validate_on_submit()
    if submitted and (
        saved := save(
            lambda: _corrected(event, registration, form),
            form=form,
            success=lambda r: _("The registration of %(name)s is saved.", name=r.name),
            redirect_to=url_for("registrations_manage.registrations", slug=slug),
        )
    ):
        return saved
    if not erased:
        record(AuditAction.VIEW, event, registration, detail=requested_path())
        db.session.commit()
    return render_template(
        "registrations/staff_edit.html",
        event=event,
        registration=registration,
        form=form,
        cancel_form=FlaskForm(formdata=None),
        message_history=message_history(registration),
    )


@bp.route("/events/<slug>/registrations/<int:registration_id>/cancel", methods=["POST"])
@organizer_required
def cancel_registration_view(slug: str, registration_id: int):
    """Cancel one registration; the first waitlisted person at that site moves up."""
    event = event_or_404(slug)
    registration = event_registration_or_404(event, registration_id)
    require_button_post()
    back = url_for("registrations_manage.registrations", slug=slug)
    if registration.status == RegistrationStatus.CANCELLED:
        flash(_("This registration was already cancelled."), "info")
        return redirect(back)

    def cancel():
        promoted = cancel_registration(registration)
        record(AuditAction.CHANGE, event, registration, detail=requested_path())
        return promoted

    return save(
        cancel,
        success=_("The registration of %(name)s is cancelled.", name=registration.name),
        notes=waitlist_note,
        redirect_to=back,
    )
