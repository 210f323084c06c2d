"""Public pages: the list of upcoming events and each event's page."""

from flask import Blueprint, redirect, render_template, url_for

from app.events.services import upcoming_events
from app.registrations.services import seats_left
from app.web import public_event_or_404

bp = Blueprint("events", __name__)


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


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; send them to the SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"))
