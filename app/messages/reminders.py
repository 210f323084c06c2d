"""Reminders: an email to every confirmed participant a set time before the event.

Each event gets two when it is created, a day and an hour before its start,
and the organiser may change, switch off, add or remove them. A reminder's
time is kept relative to the event's start, so moving the event moves every
reminder not yet sent with it.

The mail worker calls ``enqueue_due_reminders`` over and over. Each reminder
whose time has come is claimed by one conditional UPDATE, so of several
workers running at once exactly one writes its outbox rows, in the same
transaction that marks it sent.

A reminder is worth sending while at least half of its lead time is left:
a day-before reminder may go out up to twelve hours late, an hour-before one
up to thirty minutes late (say, after the worker was down, or when the event
was moved closer). Later than that it is marked skipped and not sent, since
"the event starts in a day" read an hour before the start misleads more than
it helps, and the next reminder is on its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from babel.dates import format_timedelta
from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.database import flush_unless_duplicate
from app.extensions import db
from app.mail.messages import invite_parts, personal_url
from app.mail.outbox import build_message, enqueue
from app.models import (
    Event,
    EventStatus,
    MessageKind,
    Mode,
    Registration,
    RegistrationStatus,
    Reminder,
    utcnow,
)
from app.refusals import Reason, Refusal

#: The shortest lead time: the worker needs a moment, and the join link opens before the start.
MIN_MINUTES_BEFORE = 5
#: The longest lead time; anything earlier is a typing mistake rather than a reminder.
MAX_MINUTES_BEFORE = 30 * 24 * 60


# --- the organiser's reminders ----------------------------------------------------


def reminders_of(event: Event) -> list[Reminder]:
    """An event's reminders, the first to go out first."""
    return list(
        db.session.scalars(
            sa.select(Reminder)
            .where(Reminder.event_id == event.id)
            .order_by(Reminder.minutes_before.desc())
        )
    )


@dataclass
class ReminderInput:
    minutes_before: int
    enabled: bool = True


def _check_offset(event: Event, minutes_before: int, reminder: Reminder | None) -> None:
    if not MIN_MINUTES_BEFORE <= minutes_before <= MAX_MINUTES_BEFORE:
        raise Refusal(
            Reason.INVALID,
            _(
                "A reminder goes out between %(least)d minutes and %(most)d days before the start.",
                least=MIN_MINUTES_BEFORE,
                most=MAX_MINUTES_BEFORE // (24 * 60),
            ),
            "offset",
        )
    clash = sa.select(Reminder.id).where(
        Reminder.event_id == event.id, Reminder.minutes_before == minutes_before
    )
    if reminder is not None and reminder.id is not None:
        clash = clash.where(Reminder.id != reminder.id)
    if db.session.scalar(clash) is not None:
        raise _duplicate()


def _duplicate() -> Refusal:
    return Refusal(Reason.TAKEN, _("This event already has a reminder at that time."), "offset")


def _check_not_past(event: Event, minutes_before: int, now: datetime, field: str) -> None:
    if event.starts_at - timedelta(minutes=minutes_before) <= now:
        raise Refusal(
            Reason.INVALID,
            _("That time has already passed. Choose a shorter time before the start."),
            field,
        )


def _save(reminder: Reminder) -> Reminder:
    # Another organiser may have added the same time a moment ago.
    if not flush_unless_duplicate(reminder):
        raise _duplicate()
    return reminder


def add_reminder(event: Event, data: ReminderInput, *, now: datetime | None = None) -> Reminder:
    """Add a reminder to an event; its time must be to come."""
    _check_offset(event, data.minutes_before, None)
    if data.enabled:
        _check_not_past(event, data.minutes_before, now or utcnow(), "offset")
    return _save(Reminder(event=event, minutes_before=data.minutes_before, enabled=data.enabled))


def update_reminder(
    reminder: Reminder, data: ReminderInput, *, now: datetime | None = None
) -> Reminder:
    """Change a reminder's time or switch it on or off, until it has gone out."""
    if reminder.sent_at is not None:
        raise Refusal(
            Reason.CONFLICT,
            _("This reminder has gone out already. Add a new one instead."),
        )
    event = reminder.event
    _check_offset(event, data.minutes_before, reminder)
    if data.enabled:
        # A reminder switched on or moved must still be to come; one left as it
        # was is the worker's to send or skip.
        now = now or utcnow()
        if data.minutes_before != reminder.minutes_before:
            _check_not_past(event, data.minutes_before, now, "offset")
        elif not reminder.enabled:
            _check_not_past(event, data.minutes_before, now, "enabled")
    reminder.minutes_before = data.minutes_before
    reminder.enabled = data.enabled
    return _save(reminder)


def remove_reminder(reminder: Reminder) -> Reminder:
    """Delete a reminder, sent or not."""
    db.session.delete(reminder)
    db.session.flush()
    return reminder


# --- sending them -------------------------------------------------------------------


def is_too_late(starts_at: datetime, minutes_before: int, now: datetime) -> bool:
    """Whether less than half of the reminder's lead time is left before the start."""
    return now >= starts_at - timedelta(minutes=minutes_before) / 2


def reminder_recipients(event: Event, due_at: datetime) -> list[Registration]:
    """Confirmed people who had registered by the reminder's time."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .options(joinedload(Registration.site))
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.created_at <= due_at,
                Registration.email != "",
            )
            .order_by(Registration.id)
        )
    )


def queue_reminder(registration: Registration, now: datetime) -> None:
    """Write one person's reminder to the outbox, in their language."""
    event = registration.event
    with force_locale(registration.language or "en"):
        context = {
            "registration": registration,
            "event": event,
            "personal_url": personal_url(registration),
            "starts_in": format_timedelta(
                event.starts_at - now, add_direction=True, locale=get_locale()
            ),
        }
        attachments = []
        if registration.mode == Mode.ONLINE:
            context["join_url"] = personal_url(registration, "attendance.join")
        else:
            # The badge exactly as the confirmation carries it. The calendar part
            # stays out: the invite has not changed, and sending it again would ask
            # people to accept it once more.
            _calendar, attachments = invite_parts(registration, MessageKind.CONFIRMATION)
        context["badge_cid"] = next((a.content_id for a in attachments if a.content_id), None)
        message = build_message(
            recipient=registration.email,
            subject=_("Reminder: %(title)s", title=event.title),
            text=render_template("emails/reminder.txt", **context),
            html=render_template("emails/reminder.html", **context),
            attachments=attachments,
        )
    enqueue(message, kind=MessageKind.REMINDER, registration=registration)


def _claim(reminder_id: int, now: datetime, *, skipped: bool) -> bool:
    """Mark a reminder taken; True only for the one worker whose UPDATE hit the row.

    On PostgreSQL a second worker's UPDATE waits for the first to commit, then
    finds ``sent_at`` set and changes nothing.
    """
    result = db.session.execute(
        sa.update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.sent_at.is_(None),
            Reminder.enabled.is_(True),
        )
        .values(sent_at=now, skipped=skipped)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _send(reminder_id: int, event_id: int, due_at: datetime, now: datetime) -> int:
    """Claim one due reminder and queue its emails; the number queued."""
    if not _claim(reminder_id, now, skipped=False):
        return 0
    event = db.session.get(Event, event_id)
    recipients = reminder_recipients(event, due_at)
    for registration in recipients:
        queue_reminder(registration, now)
    return len(recipients)


def enqueue_due_reminders(now: datetime | None = None) -> int:
    """Queue the emails of every reminder whose time has come; returns how many.

    Only enabled, unsent reminders of published events that have not ended
    count. Each reminder is claimed, written and committed in its own short
    transaction, so several workers may call this at once and one failing
    reminder does not hold back the others (it is tried again next time).
    A reminder too late to be useful (see ``is_too_late``) is marked skipped.
    """
    now = now or utcnow()
    candidates = db.session.execute(
        sa.select(Reminder.id, Reminder.event_id, Reminder.minutes_before, Event.starts_at)
        .join(Event, Event.id == Reminder.event_id)
        .where(
            Reminder.enabled.is_(True),
            Reminder.sent_at.is_(None),
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > now,
            # No reminder reaches further ahead, so later events need not be read.
            Event.starts_at <= now + timedelta(minutes=MAX_MINUTES_BEFORE),
        )
        .order_by(Event.starts_at, Reminder.minutes_before.desc())
    ).all()
    db.session.rollback()
    queued = 0
    for reminder_id, event_id, minutes_before, starts_at in candidates:
        due_at = starts_at - timedelta(minutes=minutes_before)
        if due_at > now:
            continue
        try:
            if is_too_late(starts_at, minutes_before, now):
                _claim(reminder_id, now, skipped=True)
            else:
                queued += _send(reminder_id, event_id, due_at, now)
            db.session.commit()
        except Exception:  # noqa: BLE001  left unsent, so the next call tries again
            db.session.rollback()
            current_app.logger.exception("reminder %s not queued", reminder_id)
    return queued
