"""Attendance: the live dashboard, downloads, report imports and the online join link."""

from flask import Blueprint

bp = Blueprint("attendance", __name__)
