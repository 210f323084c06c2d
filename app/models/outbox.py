"""The email outbox: messages written with the change that caused them, sent later."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.registrations import Registration


class OutboxMessage(db.Model):
    """An email, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    #: What the message is about (a MessageKind), e.g. confirmation, waitlisted, promoted.
    kind: Mapped[str] = mapped_column(sa.String(40))
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    #: The organiser's campaign this message belongs to, if any.
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    #: The complete RFC 5322 message, ready to send.
    raw_message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()


class Notice(db.Model):
    """A change many participants must hear of, written in the same transaction.

    The worker writes their emails (``app/mail/notices.py``), so the page that
    made the change answers at once, however many people it concerns.
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    #: Only the in-person participants at this site (its name or address changed).
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    #: The MessageKind each of them gets: updated or event_cancelled.
    kind: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the worker wrote the emails; null while waiting.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
