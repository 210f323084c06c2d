"""The audit log: one helper that records an access, and a decorator for downloads."""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlalchemy as sa
from flask import has_request_context, make_response, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination

from app.extensions import db
from app.models import AuditAction, AuditEntry, Event, Registration, StaffUser

#: Entries on one page of the audit log.
ENTRIES_PER_PAGE = 50
#: Pages beyond this are not offered; filter by event instead.
MAX_PAGE = 10_000
DETAIL_LENGTH = 500

#: What each action is called on the audit log's page.
ACTION_LABELS = {
    AuditAction.EXPORT: _l("Downloaded"),
    AuditAction.VIEW: _l("Viewed"),
    AuditAction.CHANGE: _l("Changed"),
    AuditAction.ERASE: _l("Erased"),
    AuditAction.ANONYMISE: _l("Anonymised"),
}


def _signed_in_user() -> StaffUser | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user
    return None


def record(
    action: AuditAction,
    event: Event | None,
    registration: Registration | None = None,
    detail: str = "",
    *,
    user: StaffUser | None = None,
) -> AuditEntry:
    """Log ``action`` by ``user`` (default: the signed-in staff member), in the caller's
    transaction. Without a user it was the scheduled job or the command line.
    """
    user = user if user is not None else _signed_in_user()
    entry = AuditEntry(
        action=action,
        event_id=event.id if event is not None else None,
        registration_id=registration.id if registration is not None else None,
        staff_user_id=user.id if user is not None else None,
        staff_email=user.email if user is not None else "",
        detail=detail[:DETAIL_LENGTH],
    )
    db.session.add(entry)
    return entry


def requested_path() -> str:
    """The path and query string asked for, e.g. ``/manage/events/x/attendance.csv?site=ahal``."""
    return request.full_path.rstrip("?")


def audited(action: AuditAction = AuditAction.EXPORT) -> Callable:
    """Log each successful answer of a view on ``/events/<slug>/...`` as ``action``.

    The entry names the event and the requested path with its ``?site=``; it is
    committed before the file is sent, so a download that is streamed is logged
    even if the client stops reading. A refusal (403, 404) logs nothing.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            response = make_response(view(*args, **kwargs))
            if response.status_code == 200:
                event = db.session.scalar(sa.select(Event).where(Event.slug == kwargs["slug"]))
                record(action, event, detail=requested_path())
                db.session.commit()
            return response

        return wrapped

    return decorate


def audit_page(event_id: int | None, page: int) -> Pagination:
    """One page of the log, newest first, of one event or of all."""
    query = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if event_id is not None:
        query = query.where(AuditEntry.event_id == event_id)
    return db.paginate(
        query, page=min(max(page, 1), MAX_PAGE), per_page=ENTRIES_PER_PAGE, error_out=False
    )
