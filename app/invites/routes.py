"""Calendar files and badges for participants, and badge sheets for organisers."""

from flask import Blueprint, abort

bp = Blueprint("invites", __name__)


@bp.route("/events/<slug>/event.ics")
def event_ics(slug: str):
    """The public calendar entry (METHOD:PUBLISH)."""
    abort(404)
