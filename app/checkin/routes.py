"""The check-in page for one event and site."""

from flask import Blueprint

bp = Blueprint("checkin", __name__, url_prefix="/manage")
