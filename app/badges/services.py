"""Who gets a badge, and which badges an organiser or coordinator may print."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.auth.access import site_access_clause
from app.extensions import db
from app.models import (
    Event,
    EventStatus,
    Mode,
    Registration,
    RegistrationStatus,
    StaffUser,
)


class NoBadge(enum.StrEnum):
    """Why a registration has no badge."""

    CANCELLED = "cancelled"
    EVENT_CANCELLED = "event_cancelled"
    ONLINE = "online"
    WAITLISTED = "waitlisted"


def badge_refusal(registration: Registration) -> NoBadge | None:
    """None when this person gets a badge: confirmed, in person, event not cancelled."""
    if registration.status == RegistrationStatus.CANCELLED:
        return NoBadge.CANCELLED
    if registration.event.status == EventStatus.CANCELLED:
        return NoBadge.EVENT_CANCELLED
    if registration.mode == Mode.ONLINE:
        return NoBadge.ONLINE
    if registration.status != RegistrationStatus.CONFIRMED:
        return NoBadge.WAITLISTED
    return None


def registrations_for_badges(
    event: Event, user: StaffUser, site_id: int | None = None
) -> list[Registration]:
    """Confirmed in-person registrations at the sites this user may act on, in one query.

    ``site_id`` narrows to one site; the caller checks that the site takes
    part in the event and that the user may see it.
    """
    query = (
        sa.select(Registration)
        .options(joinedload(Registration.site))
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.mode == Mode.IN_PERSON,
            site_access_clause(user, Registration.site_id),
        )
    )
    if site_id is not None:
        query = query.where(Registration.site_id == site_id)
    return list(db.session.scalars(query))
