"""Organiser pages: events, their sites, agenda and registrations."""

from flask import Blueprint, render_template

from app.auth.access import staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.route("/")
@staff_required
def index():
    """The staff home page."""
    return render_template("manage/index.html")
