"""One person's messages: what the outbox holds for them, and sending a confirmation again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.mail.delivery import Delivery, delivery_state
from app.models import (
    EventStatus,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from app.refusals import Reason, Refusal
from app.registrations.services import confirmation_kind
from app.signals import registration_changed

#: What each kind of email is, for the staff's history of a person's messages.
MESSAGE_KIND = {
    MessageKind.CONFIRMATION: _l("Confirmation"),
    MessageKind.WAITLISTED: _l("Waiting list"),
    MessageKind.PROMOTED: _l("Seat confirmed from the waiting list"),
    MessageKind.CANCELLED: _l("Cancellation"),
    MessageKind.UPDATED: _l("Update"),
    MessageKind.LINK_RESEND: _l("Personal link"),
    MessageKind.EVENT_CANCELLED: _l("Event cancelled"),
    MessageKind.CAMPAIGN: _l("Organisers' message"),
    MessageKind.REMINDER: _l("Reminder"),
}

#: How many of a person's messages their page lists, newest first.
HISTORY_LENGTH = 100


DELIVERY = {
    Delivery.QUEUED: _l("Waiting to be sent"),
    Delivery.SENT: _l("Sent"),
    Delivery.FAILED: _l("Failed"),
}


@dataclass(frozen=True)
class SentMessage:
    kind: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    delivery: Delivery
    #: Why the last attempt failed, if it did.
    last_error: str

    @property
    def kind_label(self) -> str:
        return str(MESSAGE_KIND.get(self.kind, self.kind))

    @property
    def delivery_label(self) -> str:
        return str(DELIVERY[self.delivery])


def message_history(registration: Registration, limit: int = HISTORY_LENGTH) -> list[SentMessage]:
    """The emails written for a person, newest first, in one query."""
    rows = db.session.execute(
        sa.select(
            OutboxMessage.kind,
            OutboxMessage.subject,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
            delivery_state(),
            OutboxMessage.last_error,
        )
        .where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        SentMessage(kind, subject, created_at, sent_at, Delivery(state), last_error)
        for kind, subject, created_at, sent_at, state, last_error in rows
    ]


def resend_confirmation(registration: Registration) -> MessageKind:
    """Send a person their confirmation again (with invite and badge), or their waitlist notice.

    Returns the kind of email queued. A cancelled registration, or one of a
    cancelled event, has nothing to confirm.
    """
    if registration.status == RegistrationStatus.CANCELLED:
        raise Refusal(
            Reason.CONFLICT,
            _(
                "The registration of %(name)s is cancelled, so there is no confirmation to "
                "send. Nothing was sent.",
                name=registration.name,
            ),
        )
    if registration.event.status == EventStatus.CANCELLED:
        raise Refusal(
            Reason.CONFLICT,
            _("This event is cancelled, so there is no confirmation to send. Nothing was sent."),
        )
    if not registration.email:
        raise Refusal(
            Reason.INVALID,
            _("%(name)s has no email address. Nothing was sent.", name=registration.name),
        )
    kind = confirmation_kind(registration)
    registration_changed.send(registration, kind=kind)
    return kind
