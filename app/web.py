"""What the blueprints share between a request and the services.

The lookups that turn a URL into a record (or a 404), and the one way a page
runs a service for a submitted form: on a refusal roll back and show each
message at its field, else commit, flash and redirect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from app.auth.access import can_access_site
from app.errors import render_error
from app.extensions import db
from app.models import Event, EventSite, EventStatus, Registration, StaffUser
from app.refusals import Refusal

T = TypeVar("T")

#: Personal tokens are 43 characters; anything much longer is not one.
TOKEN_MAX_LENGTH = 64
#: The largest value of an INTEGER column, the ids' type on PostgreSQL.
INT_MAX = 2**31 - 1
#: ASCII digits, few enough for any column: int() also reads "٣" and "1_000", and raises
#: on "²" or five thousand digits.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


# --- lookups ------------------------------------------------------------------


def get_event_or_none(slug: str) -> Event | None:
    """An event by slug, with its sites and agenda loaded in the same round trips."""
    return db.session.scalar(
        sa.select(Event)
        .where(Event.slug == slug)
        .options(
            selectinload(Event.event_sites).joinedload(EventSite.site),
            selectinload(Event.agenda_items),
        )
    )


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


def registration_for_token(token: str) -> Registration:
    """The registration behind a personal link; anything else is a plain 404."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        abort(404)
    return db.first_or_404(sa.select(Registration).where(Registration.manage_token == token))


def event_registration_or_404(event: Event, registration_id: int) -> Registration:
    """One of the event's registrations by id; 404 for another event's."""
    return db.first_or_404(
        sa.select(Registration).where(
            Registration.id == registration_id, Registration.event_id == event.id
        )
    )


def event_site_or_404(event: Event, site_slug: str, user: StaffUser) -> EventSite:
    """The event's site named in a request, if this user may act on it.

    A site not taking part in the event answers 404 with a clear message; a
    site the user does not serve answers 403.
    """
    event_site = event.event_site(site_slug)
    if event_site is None:
        message = _("The site “%(site)s” does not take part in this event.", site=site_slug)
        abort(make_response(render_error(404, message)))
    if not can_access_site(user, event_site.site_id):
        abort(403)
    return event_site


def parse_int(text: str | None, *, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    """``text`` as a whole number from ``minimum`` to ``maximum``; None for anything else."""
    text = (text or "").strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def int_arg(name: str, default: int, *, minimum: int = 0, maximum: int = INT_MAX) -> int:
    """The query string's ``name`` as a bounded whole number; ``default`` if it is not one."""
    number = parse_int(request.args.get(name), minimum=minimum, maximum=maximum)
    return default if number is None else number


def on_get(obj: T) -> T | None:
    """The object to prefill a form from, on GET only.

    On POST only what was sent counts: a field missing from a tampered request
    must not fall back to the stored value, e.g. a UTC time read as local time.
    """
    return obj if request.method == "GET" else None


def require_button_post(prefix: str = "") -> None:
    """Refuse with 400 a button's POST whose form (its CSRF token) does not validate."""
    if not FlaskForm(prefix=prefix).validate_on_submit():
        abort(400)


# --- running a service for a form ---------------------------------------------


def show_refusal(refusal: Refusal, form: FlaskForm | None = None) -> None:
    """Put each message at the form field it concerns, or flash it."""
    for name, message in refusal.errors.items():
        field = form[name] if form is not None and name and name in form else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


def save(
    change: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    redirect_to: str | Callable[[T], str],
    form: FlaskForm | None = None,
    notes: Callable[[T], Iterable[str]] | None = None,
) -> Response | None:
    """Run a service and commit; flash ``success`` (and any ``notes``) and redirect.

    On a refusal roll back, show its messages (at ``form``'s fields where they
    belong) and return None, so the view renders its page again.
    """
    try:
        result = change()
    except Refusal as refusal:
        db.session.rollback()
        show_refusal(refusal, form)
        return None
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    for note in notes(result) if notes else ():
        flash(note, "info")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def save_and_go_back(
    change: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    back: str,
    notes: Callable[[T], Iterable[str]] | None = None,
) -> Response:
    """``save`` for a button on the page at ``back``: return there after a refusal too."""
    return save(change, success=success, redirect_to=back, notes=notes) or redirect(back)
