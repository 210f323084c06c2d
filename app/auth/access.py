"""Who may see and act on which event and site."""

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Role, StaffUser, staff_sites


def load_staff_user(session_id: str) -> StaffUser | None:
    """Flask-Login's user loader: the user of a session that has not been ended.

    The session holds ``"<id>:<version>"`` (``StaffUser.get_id``). Signing out and a
    password change raise the user's version, so every earlier session, and every copy
    of its cookie, no longer loads. Inactive accounts are treated as signed out too.
    """
    user_id, _, version = session_id.partition(":")
    try:
        user = db.session.get(StaffUser, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.is_active or version != str(user.session_version):
        return None
    return user


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


def site_access_clause(user: StaffUser, site_id_column) -> sa.ColumnElement[bool]:
    """A SQL condition, true where the user may act on the site in that column.

    Lets a query check access without loading the user's sites first.
    """
    if user.sees_all_sites:
        return sa.true()
    return sa.exists().where(
        staff_sites.c.staff_user_id == user.id, staff_sites.c.site_id == site_id_column
    )
