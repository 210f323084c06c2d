"""Queries and changes for events that pages and the API share."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Event, EventSite, EventStatus, Registration, RegistrationStatus, utcnow


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


def upcoming_events() -> list[Event]:
    """Published events that have not ended, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > utcnow())
            .order_by(Event.starts_at)
        )
    )


#: Changing these means every calendar must follow.
CALENDAR_FIELDS = ("starts_at", "ends_at", "timezone", "meeting_url", "title", "format")


def apply_event_changes(event: Event, changes: dict) -> bool:
    """Set fields on an event; when time or place changed, send updated invites.

    Returns True when participants were notified. People who cancelled hear
    nothing; a change that sets the same values sends nothing.
    """
    from app.mail.messages import notify_registration

    changed = {field for field, value in changes.items() if getattr(event, field) != value}
    for field in changed:
        setattr(event, field, changes[field])
    cancelled_now = "status" in changed and event.status == EventStatus.CANCELLED
    if not (changed & set(CALENDAR_FIELDS)) and not cancelled_now:
        return False
    event.ical_sequence += 1
    if event.status == EventStatus.DRAFT:
        return False
    kind = "event_cancelled" if event.status == EventStatus.CANCELLED else "updated"
    for registration in db.session.scalars(
        sa.select(Registration).where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    ):
        notify_registration(registration, kind)
    return True
