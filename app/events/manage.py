"""Staff pages for events: the staff home, creating and editing events, and the agenda."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.access import organizer_required, staff_required
from app.events import services
from app.events.forms import AgendaItemForm, EditEventForm, EventForm
from app.extensions import db
from app.models import AgendaItem, Event
from app.privacy.services import default_retention_days
from app.registrations.listing import registration_counts
from app.timezones import utc_to_local
from app.web import event_or_404, on_get, require_button_post, save, save_and_go_back

bp = Blueprint("events_manage", __name__, url_prefix="/manage")

#: The event's times as the form shows them, in the event's own zone.
LOCAL_TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


@bp.route("/")
@staff_required
def index():
    """The staff home: the events this person works on."""
    events = services.events_for_staff(current_user)
    return render_template(
        "events/staff_home.html",
        events=events,
        counts=registration_counts([e.id for e in events]),
    )


@bp.route("/events/new", methods=["GET", "POST"])
@organizer_required
def new_event():
    """Create an event."""
    form = EventForm(personal_data_retention_days=default_retention_days())
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.create_event(form.slug.data, form.to_input()),
            form=form,
            success=_("The event is created. Now add its sites and agenda."),
            redirect_to=lambda event: url_for("sites.event_sites", slug=event.slug),
        )
    ):
        return saved
    return render_template("events/edit.html", form=form, event=None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@organizer_required
def edit_event(slug: str):
    """Edit an event; a new time or place, or cancelling, updates everyone's invite."""
    event = event_or_404(slug)
    form = EditEventForm(obj=on_get(event))
    if request.method == "GET":
        form.format.data = event.format.value
        form.status.data = event.status.value
        form.completion_rule.data = event.completion_rule.value
        for name in LOCAL_TIME_FIELDS:
            form[name].data = utc_to_local(getattr(event, name), event.zone)
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.update_event(
                event, form.to_input(), move_agenda=form.move_agenda.data
            ),
            form=form,
            success=lambda notified: (
                _("The event is saved, and participants are sent the change.")
                if notified
                else _("The event is saved.")
            ),
            redirect_to=url_for("events_manage.edit_event", slug=slug),
        )
    ):
        return saved
    return render_template("events/edit.html", form=form, event=event)


# --- agenda ------------------------------------------------------------------------


def _agenda_item_or_404(event: Event, item_id: int) -> AgendaItem:
    item = db.get_or_404(AgendaItem, item_id)
    if item.event_id != event.id:
        abort(404)
    return item


@bp.route("/events/<slug>/agenda", methods=["GET", "POST"])
@organizer_required
def agenda(slug: str):
    """An event's agenda; POST adds an item."""
    event = event_or_404(slug)
    form = AgendaItemForm()
    if request.method == "GET":
        last = event.agenda_items[-1] if event.agenda_items else None
        start = utc_to_local(last.ends_at if last else event.starts_at, event.zone)
        form.starts_at.data = form.ends_at.data = start
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.add_agenda_item(event, form.to_input()),
            form=form,
            success=lambda item: _("Added to the agenda: %(title)s.", title=item.title),
            redirect_to=url_for("events_manage.agenda", slug=slug),
        )
    ):
        return saved
    return render_template(
        "events/agenda.html", event=event, form=form, delete_form=FlaskForm(formdata=None)
    )


@bp.route("/events/<slug>/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_agenda_item(slug: str, item_id: int):
    """Edit one agenda item."""
    event = event_or_404(slug)
    item = _agenda_item_or_404(event, item_id)
    form = AgendaItemForm(obj=on_get(item))
    if request.method == "GET":
        form.starts_at.data = utc_to_local(item.starts_at, event.zone)
        form.ends_at.data = utc_to_local(item.ends_at, event.zone)
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.update_agenda_item(item, form.to_input()),
            form=form,
            success=_("The agenda item is saved."),
            redirect_to=url_for("events_manage.agenda", slug=slug),
        )
    ):
        return saved
    return render_template("events/agenda_item.html", event=event, item=item, form=form)


@bp.route("/events/<slug>/agenda/<int:item_id>/delete", methods=["POST"])
@organizer_required
def delete_agenda_item(slug: str, item_id: int):
    """Remove one agenda item."""
    event = event_or_404(slug)
    item = _agenda_item_or_404(event, item_id)
    require_button_post()
    return save_and_go_back(
        lambda: services.delete_agenda_item(item),
        success=lambda title: _("Removed from the agenda: %(title)s.", title=title),
        back=url_for("events_manage.agenda", slug=slug),
    )
