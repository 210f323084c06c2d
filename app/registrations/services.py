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
from flask_babel import gettext as _

from app.database import flush_unless_duplicate
from app.extensions import db
from app.models import (
    CheckIn,
    Event,
    EventSite,
    EventStatus,
    Gender,
    MessageKind,
    Mode,
    OrgKind,
    Registration,
    RegistrationState,
    RegistrationStatus,
    Site,
    StaffUser,
    live_admission,
    utcnow,
)
from app.refusals import Reason, Refusal
from app.signals import registration_changed


@dataclass(kw_only=True)
class RegistrationDetails:
    """A person's details, as they give them or as staff correct them."""

    name: str
    email: str
    phone: str = ""
    organization: str = ""
    position: str = ""
    org_kind: OrgKind = OrgKind.OTHER
    gender: Gender | None = None
    language: str = "en"

    def fields(self) -> dict:
        """The values to store: trimmed, the email in lower case."""
        return {
            "name": self.name.strip(),
            "email": self.email.strip().lower(),
            "phone": self.phone.strip(),
            "organization": self.organization.strip(),
            "position": self.position.strip(),
            "org_kind": self.org_kind,
            "gender": self.gender,
            "language": self.language,
        }


@dataclass(kw_only=True)
class RegistrationInput(RegistrationDetails):
    """What a person (or a staff member, for a walk-in) submits."""

    mode: Mode
    site_slug: str | None = None
    consent: bool = False


@dataclass
class RegistrationOutcome:
    registration: Registration
    #: False when this email was already registered; the existing one is returned.
    created: bool


def _refused(key: str) -> Refusal:
    """The refusals of the registration rules, by name."""
    refusals = {
        "not_open": (Reason.NOT_OPEN, _("Registration is not open for this event."), None),
        "no_online": (Reason.INVALID, _("This event cannot be followed online."), "participation"),
        "no_in_person": (Reason.INVALID, _("This event has no in-person places."), "participation"),
        "site_required": (
            Reason.INVALID,
            _("Choose the site where you will take part."),
            "participation",
        ),
        "unknown_site": (
            Reason.UNKNOWN_SITE,
            _("This site does not take part in this event."),
            "participation",
        ),
        "consent": (Reason.INVALID, _("Please agree to the processing of your data."), "consent"),
        "site_full": (
            Reason.SITE_FULL,
            _("There are no seats left at this site."),
            "participation",
        ),
    }
    return Refusal(*refusals[key])


def _announce(registration: Registration, kind: MessageKind) -> None:
    registration_changed.send(registration, kind=kind)


def confirmation_kind(registration: Registration) -> MessageKind:
    """The email that confirms an active registration: a seat, or a place on the waitlist."""
    if registration.status == RegistrationStatus.CONFIRMED:
        return MessageKind.CONFIRMATION
    return MessageKind.WAITLISTED


def _event_site_by_id(event: Event, site_id: int) -> EventSite | None:
    return next((es for es in event.event_sites if es.site_id == site_id), None)


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
    if data.mode == Mode.ONLINE:
        if not event.allows_online:
            raise _refused("no_online")
        return None
    if not event.allows_in_person:
        raise _refused("no_in_person")
    if not data.site_slug:
        raise _refused("site_required")
    event_site = event.event_site(data.site_slug)
    if event_site is None:
        raise _refused("unknown_site")
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
    if created_by is None and event.registration_state(now) != RegistrationState.OPEN:
        raise _refused("not_open")
    if created_by is None and not data.consent:
        raise _refused("consent")
    event_site = _validated_site(event, data)
    email = data.email.strip().lower()

    existing = find_active_registration(event, email)
    if existing is not None:
        _announce(existing, MessageKind.LINK_RESEND)
        return RegistrationOutcome(existing, created=False)

    status = (
        _status_for_new_seat(event, event_site)
        if event_site is not None
        else RegistrationStatus.CONFIRMED
    )
    registration = Registration(
        **data.fields(),
        event=event,
        mode=data.mode,
        site=event_site.site if event_site else None,
        status=status,
        consent_at=utcnow() if data.consent else None,
        created_by_id=created_by.id if created_by else None,
    )
    # A double submit racing this one finds the other's row; the transaction stays usable.
    if not flush_unless_duplicate(registration):
        existing = find_active_registration(event, email)
        if existing is None:
            raise RuntimeError("a unique constraint refused a registration nobody holds")
        _announce(existing, MessageKind.LINK_RESEND)
        return RegistrationOutcome(existing, created=False)
    _announce(registration, confirmation_kind(registration))
    return RegistrationOutcome(registration, created=True)


def promote_waitlisted(event: Event, site_id: int) -> list[Registration]:
    """Confirm waitlisted people at a site, first come first served, while seats are free.

    The caller must hold the site's lock (``lock_event_site``).
    """
    event_site = _event_site_by_id(event, site_id)
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
        _announce(registration, MessageKind.PROMOTED)
    return list(waiting)


def refill_site(event: Event, site_id: int) -> list[Registration]:
    """Lock a site and promote from its waitlist; used after capacity grows."""
    event_site = _event_site_by_id(event, site_id)
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
    _announce(registration, MessageKind.CANCELLED)
    db.session.flush()
    if freed_site is None:
        return []
    return refill_site(registration.event, freed_site)


def change_participation(
    registration: Registration, mode: Mode, site_slug: str | None
) -> Registration:
    """Switch site or mode, subject to capacity; frees the old seat for the waitlist.

    Raises Refusal when the new site is full; nothing changes then.
    """
    event = registration.event
    if registration.status == RegistrationStatus.CANCELLED:
        raise _refused("not_open")
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
            raise _refused("site_full")
    registration.mode = mode
    registration.site = new_site.site if new_site else None
    registration.status = RegistrationStatus.CONFIRMED
    registration.ical_sequence += 1
    _announce(registration, MessageKind.UPDATED)
    db.session.flush()
    if old_site_id is not None and was_confirmed:
        refill_site(event, old_site_id)
    return registration


def site_admitted_today(registration: Registration, now: datetime | None = None) -> Site | None:
    """The site where this person was admitted today (the event's day), if any."""
    day = registration.event.local_day(now or utcnow())
    return db.session.scalar(
        sa.select(Site)
        .join(CheckIn, CheckIn.site_id == Site.id)
        .where(
            CheckIn.registration_id == registration.id,
            CheckIn.day == day,
            live_admission(),
        )
        .limit(1)
    )


def online_switch_refusal(
    registration: Registration, now: datetime | None = None
) -> Refusal | None:
    """Why this person may not switch to online themselves now, or None if they may.

    A confirmed in-person participant of an event that can be followed online may
    switch until the event ends, after registration has closed too; not once they
    have been admitted at a site today (that refusal's reason is ``conflict``).
    """
    now = now or utcnow()
    event = registration.event
    if registration.mode != Mode.IN_PERSON or registration.status != RegistrationStatus.CONFIRMED:
        return Refusal(
            Reason.INVALID, _("Only a confirmed place at a site can be switched to online.")
        )
    if not event.allows_online:
        return _refused("no_online")
    if event.status != EventStatus.PUBLISHED or now >= event.ends_at:
        return Refusal(Reason.NOT_OPEN, _("The event is over: nothing can be changed now."))
    site = site_admitted_today(registration, now)
    if site is not None:
        return Refusal(
            Reason.CONFLICT,
            _(
                "You were checked in at %(site)s today, so you can no longer switch to online.",
                site=site.name,
            ),
        )
    return None


def switch_to_online(registration: Registration, now: datetime | None = None) -> Registration:
    """Take part online instead of at a site: the seat goes to the waiting list and the
    person gets the updated invite, with the join link.

    Raises Refusal (see ``online_switch_refusal``); nothing changes then.
    """
    refusal = online_switch_refusal(registration, now)
    if refusal is not None:
        raise refusal
    return change_participation(registration, Mode.ONLINE, None)


def _email_taken() -> Refusal:
    return Refusal(Reason.TAKEN, _("Someone else is already registered with this email."), "email")


def update_registration(
    registration: Registration, details: RegistrationDetails, mode: Mode, site_slug: str | None
) -> Registration:
    """Correct a person's details and, through the registration rules, their site or mode.

    A site change is subject to capacity and tells the person; nothing is
    written when it is refused.
    """
    fields = details.fields()
    email = fields["email"]
    active = registration.status != RegistrationStatus.CANCELLED
    if active and email != registration.email:
        other = find_active_registration(registration.event, email)
        if other is not None and other.id != registration.id:
            raise _email_taken()
    if mode == Mode.IN_PERSON:
        event_site = registration.event.event_site(site_slug)
        moves = event_site is None or event_site.site_id != registration.site_id
    else:
        moves = registration.mode != Mode.ONLINE
    if moves and not active:
        raise Refusal(
            Reason.CONFLICT,
            _("A cancelled registration cannot change site or mode."),
            "participation",
        )

    for name, value in fields.items():
        setattr(registration, name, value)
    # An email taken meanwhile by another registration is a field error.
    if not flush_unless_duplicate():
        raise _email_taken()
    if moves:
        change_participation(registration, mode, site_slug)
    return registration


def waitlist_note(promoted: list[Registration]) -> list[str]:
    """The message naming who moved up from the waiting list, if anyone did."""
    if not promoted:
        return []
    names = ", ".join(r.name for r in promoted)
    return [_("Moved up from the waiting list: %(names)s.", names=names)]
