"""Staff accounts: roles, the sites a coordinator serves, passwords and API tokens.

The admin pages and ``flask users`` both go through these functions, so the
same rules hold whichever is used: a coordinator serves at least one site,
the last active admin cannot be demoted or disabled, and a new password ends
the sessions opened with the old one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.database import flush_unless_duplicate
from app.extensions import db
from app.models import ApiToken, Role, Site, StaffUser, hash_api_token, utcnow
from app.refusals import Reason, Refusal


@dataclass
class StaffInput:
    name: str
    role: Role
    site_ids: list[int]
    is_active: bool = True


def _email_taken() -> Refusal:
    return Refusal(Reason.TAKEN, _("A staff account with this email already exists."), "email")


def _sites_for(data: StaffInput) -> list[Site]:
    if data.role != Role.COORDINATOR:
        # Organisers and admins see every site; a stale list would only mislead.
        return []
    sites = list(db.session.scalars(sa.select(Site).where(Site.id.in_(data.site_ids))))
    if not sites:
        raise Refusal(Reason.INVALID, _("A coordinator needs at least one site."), "sites")
    return sites


def _other_active_admins(user: StaffUser) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(StaffUser.id)).where(
            StaffUser.role == Role.ADMIN,
            StaffUser.is_active_user.is_(True),
            StaffUser.id != user.id,
        )
    )


def staff_user_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))


def create_staff_user(email: str, password: str, data: StaffInput) -> StaffUser:
    """Create a staff account with a role and, for coordinators, their sites."""
    email = email.strip().lower()
    if staff_user_by_email(email) is not None:
        raise _email_taken()
    user = StaffUser(email=email, name=data.name.strip(), role=data.role)
    user.sites = _sites_for(data)
    user.is_active_user = data.is_active
    user.set_password(password)
    if not flush_unless_duplicate(user):
        raise _email_taken()
    return user


def update_staff_user(user: StaffUser, data: StaffInput) -> StaffUser:
    """Change a staff member's name, role, sites and whether they may sign in.

    Refuses to leave the system without an active admin.
    """
    loses_admin = (
        user.role == Role.ADMIN
        and user.is_active_user
        and (data.role != Role.ADMIN or not data.is_active)
    )
    if loses_admin and _other_active_admins(user) == 0:
        raise Refusal(
            Reason.CONFLICT, _("This is the last active admin. Make someone else admin first.")
        )
    user.sites = _sites_for(data)
    user.name = data.name.strip()
    user.role = data.role
    user.is_active_user = data.is_active
    return user


def reset_staff_password(user: StaffUser, password: str) -> StaffUser:
    """Give a staff member a new password; the sessions opened with the old one end."""
    user.set_password(password)
    return end_staff_sessions(user)


def end_staff_sessions(user: StaffUser) -> StaffUser:
    """End every session of this staff member, on every device, copied cookies included.

    Signing out does this too: a session cookie holds no secret of its own, so the
    only way to make a copy of it useless is to retire every session of the user.
    """
    user.session_version += 1
    return user


def issue_api_token(user: StaffUser, label: str = "") -> str:
    """A new API token for this user; only its hash is stored, so it is shown once."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_api_token(token), label=label))
    return token


def revoke_api_token(token: ApiToken) -> bool:
    """Revoke an API token; returns False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def staff_users() -> list[StaffUser]:
    """Every staff account with its sites, in two queries."""
    return list(
        db.session.scalars(
            sa.select(StaffUser)
            .options(sa.orm.selectinload(StaffUser.sites))
            .order_by(StaffUser.role, StaffUser.email)
        )
    )
