"""The certificates blueprint: the public check and download (``routes``), the staff pages
(``manage``)."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)
