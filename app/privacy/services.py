"""Anonymising participants' details: by event when its retention runs out, or one by one.

What makes a person identifiable goes: their name, email, phone,
organisation and position, their personal link and badge code, what the
door scanned for them, and the emails written to them. What the statistics
count stays: mode, site, kind of organisation, gender, status and the
check-ins, so the report and the dashboard show the same numbers after.

Each function works inside the caller's transaction, except the scheduled
job, which commits each batch it anonymises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    AuditAction,
    CheckIn,
    Event,
    OutboxMessage,
    Registration,
    StaffUser,
    new_badge_code,
    new_manage_token,
    utcnow,
)
from app.privacy.audit import record
from app.refusals import Reason, Refusal

#: What an anonymised person is called on every list.
ANONYMISED_NAME = "Anonymised participant"
#: The email of an anonymised person is ``<registration id>@`` this: unique, as the
#: one-registration-per-email index needs, and a reserved domain no mail reaches.
ANONYMISED_DOMAIN = "anonymised.invalid"
#: A new event's retention period when PERSONAL_DATA_RETENTION_DAYS is not set.
DEFAULT_RETENTION_DAYS = 365
#: The longest retention period an event may have, a century.
MAX_RETENTION_DAYS = 36_500
#: Registrations anonymised in one transaction by the scheduled job.
BATCH = 500


def default_retention_days() -> int | None:
    """A new event's retention period, from PERSONAL_DATA_RETENTION_DAYS (0: keep)."""
    days = current_app.config.get("PERSONAL_DATA_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    return int(days) or None


def anonymised_email(registration_id: int) -> str:
    return f"{registration_id}@{ANONYMISED_DOMAIN}"


def is_anonymised(registration: Registration) -> bool:
    """True once nothing of the person's own details is left in the registration."""
    return (
        registration.name == ANONYMISED_NAME
        and registration.email == anonymised_email(registration.id)
        and not (registration.phone or registration.organization or registration.position)
    )


def _holds_personal_data() -> sa.ColumnElement[bool]:
    """SQL: the registration still holds some of the person's details (see is_anonymised)."""
    return sa.or_(
        Registration.name != ANONYMISED_NAME,
        Registration.email != sa.cast(Registration.id, sa.String) + "@" + ANONYMISED_DOMAIN,
        Registration.phone != "",
        Registration.organization != "",
        Registration.position != "",
    )


def retention_ends_at(event: Event) -> datetime | None:
    """When the event's participants' details are anonymised; None: kept until done by hand."""
    if not event.personal_data_retention_days:
        return None
    return event.ends_at + timedelta(days=event.personal_data_retention_days)


def retention_reason(event: Event) -> str:
    """Why the job anonymised an event, for the audit log."""
    return f"retention of {event.personal_data_retention_days} day(s)"


def has_ended(event: Event, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= event.ends_at


def personal_data_left(event: Event) -> int:
    """How many of the event's registrations still hold a person's details."""
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.event_id == event.id, _holds_personal_data()
        )
    )


def _wipe(registrations: Sequence[Registration]) -> None:
    """Anonymise these registrations, what the door scanned for them and their emails."""
    if not registrations:
        return
    ids = [registration.id for registration in registrations]
    for registration in registrations:
        registration.name = ANONYMISED_NAME
        registration.email = anonymised_email(registration.id)
        registration.phone = ""
        registration.organization = ""
        registration.position = ""
        # New secrets nobody was given: the old personal link and badge stop working.
        registration.manage_token = new_manage_token()
        registration.badge_code = new_badge_code()
    # The check-ins stay (they are the attendance), but not the code typed or scanned.
    db.session.execute(
        sa.update(CheckIn)
        .where(CheckIn.registration_id.in_(ids))
        .values(code="")
        .execution_options(synchronize_session=False)
    )
    # Emails not sent yet will never be; sent ones stay counted, with nothing in them.
    db.session.execute(
        sa.delete(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(ids), OutboxMessage.sent_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(ids))
        .values(recipient="", subject="", raw_message="", last_error="")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


def erase_registration(registration: Registration, user: StaffUser | None = None) -> bool:
    """Erase one person's details on their request; their check-ins stay as anonymous counts.

    Returns False, changing nothing, when they were erased already.
    """
    if is_anonymised(registration):
        return False
    _wipe([registration])
    record(AuditAction.ERASE, registration.event, registration, user=user)
    return True


def _anonymise_batch(event: Event, limit: int | None, user: StaffUser | None, why: str) -> int:
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id, _holds_personal_data())
        .order_by(Registration.id)
    )
    if limit is not None:
        query = query.limit(limit)
    registrations = db.session.scalars(query).all()
    _wipe(registrations)
    if registrations:
        record(
            AuditAction.ANONYMISE,
            event,
            detail=f"{len(registrations)} registration(s); {why}",
            user=user,
        )
    return len(registrations)


def anonymise_event(
    event: Event,
    user: StaffUser | None = None,
    *,
    now: datetime | None = None,
    why: str = "by hand",
) -> int:
    """Anonymise every registration of an event that has ended, at once.

    Returns how many registrations still held someone's details. Refuses an
    event that has not ended: its participants still need their links.
    """
    if not has_ended(event, now):
        raise Refusal(
            Reason.CONFLICT,
            _("The event has not ended yet; its participants still need their details."),
        )
    return _anonymise_batch(event, None, user, why)


def events_due(now: datetime | None = None) -> list[Event]:
    """Events whose retention period has run out and that still hold someone's details."""
    now = now or utcnow()
    candidates = db.session.scalars(
        sa.select(Event)
        .where(
            Event.personal_data_retention_days > 0,
            Event.ends_at < now,
            sa.exists().where(Registration.event_id == Event.id, _holds_personal_data()),
        )
        .order_by(Event.ends_at)
    )
    return [event for event in candidates if retention_ends_at(event) <= now]


def anonymise_due_events(now: datetime | None = None, limit: int = BATCH) -> int:
    """The scheduled job: anonymise the events past their retention, ``limit`` people a
    transaction. Returns how many registrations it anonymised (0 once none are left).
    """
    done = 0
    for event in events_due(now):
        while done < limit:
            count = _anonymise_batch(event, limit - done, None, retention_reason(event))
            db.session.commit()
            done += count
            if not count:
                break
        if done >= limit:
            break
    return done
