"""Registration rules: capacity, the waitlist, changes and cancellation.

Each function works inside the caller's transaction and leaves the commit to
the caller, so the HTML form and the JSON API share one path. Seats are
counted after locking the event's site row, which serialises registrations
for one site on PostgreSQL and SQLite alike; no site is ever overbooked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.database import is_unique_violation
from app.extensions import db
from app.mail.messages import notify_registration
from app.models import (
    Event,
    EventSite,
    Gender,
    Mode,
    OrgKind,
    Registration,
    RegistrationStatus,
    StaffUser,
    utcnow,
)


class RegistrationError(Exception):
    """A registration the rules refuse; ``message`` is shown to the person."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        #: The form field the message belongs to, if any.
        self.field = field


@dataclass
class RegistrationInput:
    """What a person (or a staff member, for a walk-in) submits."""

    name: str
    email: str
    mode: Mode
    site_slug: str | None = None
    phone: str = ""
    organization: str = ""
    position: str = ""
    org_kind: OrgKind = OrgKind.OTHER
    gender: Gender | None = None
    language: str = "en"
    consent: bool = False


@dataclass
class RegistrationOutcome:
    registration: Registration
    #: False when this email was already registered; the existing one is returned.
    created: bool


def _messages():
    from flask_babel import gettext as _

    return {
        "not_open": _("Registration is not open for this event."),
        "no_online": _("This event cannot be followed online."),
        "no_in_person": _("This event has no in-person places."),
        "site_required": _("Choose the site where you will take part."),
        "unknown_site": _("This site does not take part in this event."),
        "consent": _("Please agree to the processing of your data."),
        "site_full": _("There are no seats left at this site."),
    }


def event_site_for(event: Event, site_slug: str | None) -> EventSite | None:
    """The event's participating site with that slug, or None."""
    for event_site in event.event_sites:
        if event_site.site.slug == site_slug:
            return event_site
    return None


def lock_event_site(event_site_id: int) -> None:
    """Take the write lock on one event-site row until the transaction ends.

    A no-op UPDATE locks the row on PostgreSQL and takes SQLite's write lock,
    so two registrations for the same site count seats one after the other.
    """
    db.session.execute(
        sa.update(EventSite)
        .where(EventSite.id == event_site_id)
        .values(capacity=EventSite.capacity)
        .execution_options(synchronize_session=False)
    )


def confirmed_count(event_id: int, site_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.event_id == event_id,
            Registration.site_id == site_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


def seats_taken(event: Event) -> dict[int, dict[str, int]]:
    """Confirmed and waitlisted counts per site for an event, in one query."""
    rows = db.session.execute(
        sa.select(Registration.site_id, Registration.status, sa.func.count(Registration.id))
        .where(
            Registration.event_id == event.id,
            Registration.mode == Mode.IN_PERSON,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .group_by(Registration.site_id, Registration.status)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for site_id, status, number in rows:
        counts.setdefault(site_id, {"confirmed": 0, "waitlisted": 0})[status.value] = number
    return counts


def seats_left(event: Event) -> dict[int, int]:
    """Free seats per participating site id."""
    taken = seats_taken(event)
    return {
        es.site_id: max(es.capacity - taken.get(es.site_id, {}).get("confirmed", 0), 0)
        for es in event.event_sites
    }


def _status_for_new_seat(event: Event, event_site: EventSite) -> RegistrationStatus:
    lock_event_site(event_site.id)
    if confirmed_count(event.id, event_site.site_id) < event_site.capacity:
        return RegistrationStatus.CONFIRMED
    return RegistrationStatus.WAITLISTED


def find_active_registration(event: Event, email: str) -> Registration | None:
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id,
            Registration.email == email.strip().lower(),
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )


def _validated_site(event: Event, data: RegistrationInput) -> EventSite | None:
    messages = _messages()
    if data.mode == Mode.ONLINE:
        if not event.allows_online:
            raise RegistrationError(messages["no_online"], "participation")
        return None
    if not event.allows_in_person:
        raise RegistrationError(messages["no_in_person"], "participation")
    if not data.site_slug:
        raise RegistrationError(messages["site_required"], "participation")
    event_site = event_site_for(event, data.site_slug)
    if event_site is None:
        raise RegistrationError(messages["unknown_site"], "participation")
    return event_site


def register_participant(
    event: Event,
    data: RegistrationInput,
    *,
    created_by: StaffUser | None = None,
    now: datetime | None = None,
) -> RegistrationOutcome:
    """Register one person, confirmed if a seat is free, else waitlisted.

    Staff (``created_by``) may register outside the registration window, for
    walk-ins and imports. If the email is already registered, nothing is
    created and the personal link is sent again to that address only.
    """
    messages = _messages()
    if created_by is None and event.registration_state(now) != "open":
        raise RegistrationError(messages["not_open"])
    if created_by is None and not data.consent:
        raise RegistrationError(messages["consent"], "consent")
    event_site = _validated_site(event, data)
    email = data.email.strip().lower()

    existing = find_active_registration(event, email)
    if existing is not None:
        notify_registration(existing, "link_resend")
        return RegistrationOutcome(existing, created=False)

    status = (
        _status_for_new_seat(event, event_site)
        if event_site is not None
        else RegistrationStatus.CONFIRMED
    )
    registration = Registration(
        event=event,
        name=data.name.strip(),
        email=email,
        phone=data.phone.strip(),
        organization=data.organization.strip(),
        position=data.position.strip(),
        org_kind=data.org_kind,
        gender=data.gender,
        language=data.language,
        mode=data.mode,
        site=event_site.site if event_site else None,
        status=status,
        consent_at=utcnow() if data.consent else None,
        created_by_id=created_by.id if created_by else None,
    )
    try:
        # A savepoint: a double submit racing this one leaves the outer transaction usable.
        with db.session.begin_nested():
            db.session.add(registration)
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        existing = find_active_registration(event, email)
        if existing is None:
            raise
        notify_registration(existing, "link_resend")
        return RegistrationOutcome(existing, created=False)
    notify_registration(
        registration,
        "confirmation" if status == RegistrationStatus.CONFIRMED else "waitlisted",
    )
    return RegistrationOutcome(registration, created=True)


def promote_waitlisted(event: Event, site_id: int) -> list[Registration]:
    """Confirm waitlisted people at a site, first come first served, while seats are free.

    The caller must hold the site's lock (``lock_event_site``).
    """
    event_site = next((es for es in event.event_sites if es.site_id == site_id), None)
    if event_site is None:
        return []
    free = event_site.capacity - confirmed_count(event.id, site_id)
    if free <= 0:
        return []
    waiting = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.site_id == site_id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.created_at, Registration.id)
        .limit(free)
    ).all()
    for registration in waiting:
        registration.status = RegistrationStatus.CONFIRMED
        registration.ical_sequence += 1
        notify_registration(registration, "promoted")
    return list(waiting)


def refill_site(event: Event, site_id: int) -> list[Registration]:
    """Lock a site and promote from its waitlist; used after capacity grows."""
    event_site = next((es for es in event.event_sites if es.site_id == site_id), None)
    if event_site is None:
        return []
    lock_event_site(event_site.id)
    return promote_waitlisted(event, site_id)


def cancel_registration(registration: Registration) -> list[Registration]:
    """Cancel, tell the person, and move the first waitlisted person up.

    Returns the registrations promoted into the freed seat.
    """
    if registration.status == RegistrationStatus.CANCELLED:
        return []
    freed_site = (
        registration.site_id
        if registration.mode == Mode.IN_PERSON
        and registration.status == RegistrationStatus.CONFIRMED
        else None
    )
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = utcnow()
    registration.ical_sequence += 1
    notify_registration(registration, "cancelled")
    db.session.flush()
    if freed_site is None:
        return []
    return refill_site(registration.event, freed_site)


def change_participation(
    registration: Registration, mode: Mode, site_slug: str | None
) -> Registration:
    """Switch site or mode, subject to capacity; frees the old seat for the waitlist.

    Raises RegistrationError when the new site is full; nothing changes then.
    """
    event = registration.event
    if registration.status == RegistrationStatus.CANCELLED:
        raise RegistrationError(_messages()["not_open"])
    data = RegistrationInput(name="", email="", mode=mode, site_slug=site_slug)
    new_site = _validated_site(event, data)
    new_site_id = new_site.site_id if new_site else None
    if mode == registration.mode and new_site_id == registration.site_id:
        return registration

    old_site_id = registration.site_id
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    if new_site is not None:
        lock_event_site(new_site.id)
        if confirmed_count(event.id, new_site.site_id) >= new_site.capacity:
            raise RegistrationError(_messages()["site_full"], "participation")
    registration.mode = mode
    registration.site = new_site.site if new_site else None
    registration.status = RegistrationStatus.CONFIRMED
    registration.ical_sequence += 1
    notify_registration(registration, "updated")
    db.session.flush()
    if old_site_id is not None and was_confirmed:
        refill_site(event, old_site_id)
    return registration
