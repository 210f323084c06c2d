"""Reminders: emails sent to an event's participants a set time before it starts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime

if TYPE_CHECKING:
    from app.models.events import Event


#: Every new event's reminders: a day and an hour before the start.
DEFAULT_MINUTES_BEFORE = (24 * 60, 60)


class Reminder(db.Model):
    """One reminder of an event, e.g. a day before its start.

    The time is kept relative to the event's start, so moving the event moves
    every reminder not yet sent with it.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "minutes_before", name="uq_reminders_event_offset"),
        sa.CheckConstraint("minutes_before > 0", name="minutes_before_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    #: How long before the event's start it goes out, e.g. 1440 (a day) or 60.
    minutes_before: Mapped[int]
    enabled: Mapped[bool] = mapped_column(default=True)
    #: When a worker took it: it was sent then, or skipped if ``skipped`` is set.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set with ``sent_at`` when its time had passed too long ago to be worth sending.
    skipped: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship()

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.minutes_before)

    def due_at(self, starts_at: datetime | None = None) -> datetime:
        """When it goes out: the event's start (or ``starts_at``) minus its offset."""
        return (starts_at or self.event.starts_at) - self.offset

    @classmethod
    def defaults_for(cls, event: Event) -> list[Reminder]:
        """The reminders a new event starts with, enabled."""
        return [cls(event=event, minutes_before=minutes) for minutes in DEFAULT_MINUTES_BEFORE]

    def __repr__(self) -> str:
        return f"<Reminder {self.id} event={self.event_id} {self.minutes_before} min>"
