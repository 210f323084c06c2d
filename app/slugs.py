"""Slugs: the short names in links that events and sites share with every scanner."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from app.database import flush_unless_duplicate
from app.extensions import db
from app.refusals import Reason, Refusal

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _taken() -> Refusal:
    return Refusal(Reason.TAKEN, _("This slug is already in use. Choose another."), "slug")


def check_new_slug(model: type[db.Model], slug: str) -> None:
    """Refuse a slug that is malformed or that another row of ``model`` already uses."""
    if not SLUG_PATTERN.match(slug):
        raise Refusal(Reason.INVALID, _("Use lower-case letters, digits and dashes only."), "slug")
    if db.session.scalar(sa.select(model.id).where(model.slug == slug)) is not None:
        raise _taken()


def add_with_new_slug(instance: db.Model) -> None:
    """Insert a row whose slug was checked; one taken meanwhile becomes a field error."""
    check_new_slug(type(instance), instance.slug)
    if not flush_unless_duplicate(instance):
        raise _taken()
