"""Who may see and act on which event and site."""

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort, make_response
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Event, EventSite, Role, StaffUser, staff_sites


def load_staff_user(user_id: str) -> StaffUser | None:
    """Flask-Login's user loader; inactive accounts are treated as logged out."""
    try:
        user = db.session.get(StaffUser, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None


def roles_required(*roles: Role) -> Callable:
    """Log in first; then answer 403 unless the user has one of these roles."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = roles_required(Role.ADMIN, Role.ORGANIZER)
admin_required = roles_required(Role.ADMIN)
staff_required = roles_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)


def allowed_site_ids(user: StaffUser) -> set[int] | None:
    """The sites this user may act on, or None for every site."""
    if user.sees_all_sites:
        return None
    return {site.id for site in user.sites}


def can_access_site(user: StaffUser, site_id: int | None) -> bool:
    """Whether this user may see and act on a site (None: all sites at once)."""
    if user.sees_all_sites:
        return True
    if site_id is None:
        return False
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                staff_sites.c.staff_user_id == user.id, staff_sites.c.site_id == site_id
            )
        )
        is not None
    )


def requested_event_site(event: Event, user: StaffUser, site_slug: str) -> EventSite:
    """The event's site named in a request (?site=), if this user may act on it.

    A site not taking part in the event answers 404 with a clear message; a
    site the user does not serve answers 403.
    """
    from app.errors import render_error
    from app.registrations.services import event_site_for

    event_site = event_site_for(event, site_slug)
    if event_site is None:
        message = _("The site “%(site)s” does not take part in this event.", site=site_slug)
        abort(make_response(render_error(404, message)))
    if not can_access_site(user, event_site.site_id):
        abort(403)
    return event_site


def site_access_clause(user: StaffUser, site_id_column) -> sa.ColumnElement[bool]:
    """A SQL condition, true where the user may act on the site in that column.

    Lets a query check access without loading the user's sites first.
    """
    if user.sees_all_sites:
        return sa.true()
    return sa.exists().where(
        staff_sites.c.staff_user_id == user.id, staff_sites.c.site_id == site_id_column
    )
