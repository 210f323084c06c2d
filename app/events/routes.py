"""Public pages: the list of upcoming events and each event's page."""

from flask import Blueprint, abort, render_template

from app.events.services import get_event_or_none, upcoming_events
from app.models import Event, EventStatus
from app.registrations.services import seats_left

bp = Blueprint("events", __name__)


def event_or_404(slug: str) -> Event:
    """An event by slug, whatever its status (staff pages)."""
    event = get_event_or_none(slug)
    if event is None:
        abort(404)
    return event


def public_event_or_404(slug: str) -> Event:
    """A published or cancelled event; drafts stay hidden from the public."""
    event = event_or_404(slug)
    if event.status == EventStatus.DRAFT:
        abort(404)
    return event


@bp.route("/")
def index():
    """Upcoming published events."""
    return render_template("events/index.html", events=upcoming_events())


@bp.route("/events/<slug>")
def show(slug: str):
    """An event's page: times in its zone, agenda, format and free seats per site."""
    event = public_event_or_404(slug)
    return render_template(
        "events/show.html",
        event=event,
        seats=seats_left(event),
        registration_state=event.registration_state(),
    )
