"""Certificates of attendance, and the meeting platform's connection spans behind them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.events import Event, Site
    from app.models.registrations import Registration


def new_certificate_code() -> str:
    """A verification code: 24 random bytes (192 bits), so it can be neither guessed nor
    derived from another; URL-safe, 32 characters."""
    return secrets.token_urlsafe(24)[:32]


class Certificate(db.Model):
    """A certificate of attendance issued to one registration.

    Its ``code`` is what ``/verify/<code>`` looks up. A certificate is revoked,
    never deleted, so a page that once said "valid" can say "revoked" later.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_certificate_code)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    event: Mapped[Event] = relationship()
    registration: Mapped[Registration] = relationship()

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


class MeetingSpan(db.Model):
    """One stretch of time someone was connected to the online meeting, from an imported
    report: a person (``registration_id``) or a regional centre's room device
    (``site_id``). Spans map online attendance to sessions and show each centre's
    connection and drop-outs.
    """

    __tablename__ = "meeting_spans"
    __table_args__ = (
        sa.CheckConstraint("left_at >= joined_at", name="left_after_joined"),
        sa.CheckConstraint(
            "registration_id IS NULL OR site_id IS NULL", name="one_person_or_one_site"
        ),
        # Importing the same report again adds nothing.
        sa.UniqueConstraint("event_id", "label", "joined_at", "left_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    #: The name the report shows for this connection.
    label: Mapped[str] = mapped_column(sa.String(200))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()
    site: Mapped[Site | None] = relationship()
