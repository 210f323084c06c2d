"""The audit log: who exported, viewed, changed, erased or anonymised personal data."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, _enum, utcnow

if TYPE_CHECKING:
    from app.models.events import Event
    from app.models.registrations import Registration
    from app.models.staff import StaffUser


class AuditAction(enum.StrEnum):
    """What was done with personal data."""

    #: A download of people's details: a list, a sign-in sheet, badges, a report.
    EXPORT = "export"
    #: A staff page showing one person's details.
    VIEW = "view"
    CHANGE = "change"
    #: One person's details erased on their request.
    ERASE = "erase"
    #: An event's details anonymised, by hand or when its retention period ran out.
    ANONYMISE = "anonymise"


class AuditEntry(db.Model):
    """One access to personal data, kept after the data itself is gone.

    The entry holds ids and a copy of the staff member's email, never a
    participant's details, so anonymising an event leaves its log readable.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_event_at", "event_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Empty for the scheduled job and the command line.
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    #: A copy of the staff member's email, so the entry outlives their account.
    staff_email: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL")
    )
    #: What exactly, e.g. the download's path and its ``?site=``; never a person's details.
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    staff_user: Mapped[StaffUser | None] = relationship()
    event: Mapped[Event | None] = relationship()
    registration: Mapped[Registration | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} event={self.event_id}>"
