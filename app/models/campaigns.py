"""Campaigns: messages an organiser writes once and sends to a group of participants."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.events import Event
    from app.models.staff import StaffUser


class Campaign(db.Model):
    """A message to the participants of an event who match a filter.

    Composing one writes this row only. The mail worker evaluates the filter
    when the message is due and writes one outbox row per person, in batches
    that continue after ``last_registration_id``; the outbox rows point back
    here through ``OutboxMessage.campaign_id``.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        # The worker's question: which campaigns are due and not yet written out?
        sa.Index("ix_campaigns_due", "finished_at", "send_at"),
        sa.CheckConstraint("recipient_count >= 0", name="recipient_count_not_negative"),
        sa.CheckConstraint("last_registration_id >= 0", name="cursor_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    #: Random, from the compose form: submitting the same form again finds this row.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Subject and body per language written: {"en": {"subject": ..., "body": ...}, ...}.
    texts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: Who it is for: the filters (sites, mode, statuses, attendance, language),
    #: evaluated again when it is sent.
    audience: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: How many people the filters matched when the message was composed.
    recipient_count: Mapped[int] = mapped_column(default=0)
    #: When it goes out; the moment it was composed when it was sent at once.
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    #: The highest registration id whose message is in the outbox; the worker goes on after it.
    last_registration_id: Mapped[int] = mapped_column(default=0)
    #: When every recipient's message was in the outbox.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<Campaign {self.id} event={self.event_id}>"
