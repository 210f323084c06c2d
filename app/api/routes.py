"""The JSON API under /api/v1, for scanners and scripts."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
