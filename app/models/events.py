"""Events, the sites that take part in them, and their agendas.

A site outlives the events it hosts; ``EventSite`` gives it a capacity for one event.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, _enum, utcnow
from app.models.enums import CompletionRule, EventFormat, EventStatus, RegistrationState


class Site(db.Model):
    """A place where participants gather in person; sites outlive events."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    region: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    #: The main venue, where the organisers sit; the others are regional centres.
    is_main_venue: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Site {self.slug}>"


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL "
            "OR registration_closes_at > registration_opens_at",
            name="registration_window_order",
        ),
        sa.CheckConstraint(
            "personal_data_retention_days IS NULL OR personal_data_retention_days >= 0",
            name="retention_not_negative",
        ),
        sa.CheckConstraint(
            "completion_percent BETWEEN 1 AND 100", name="completion_percent_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: IANA zone the event is shown in, e.g. Asia/Ashgabat.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Ashgabat")
    format: Mapped[EventFormat] = mapped_column(_enum(EventFormat), default=EventFormat.HYBRID)
    meeting_url: Mapped[str] = mapped_column(sa.String(500), default="")
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.DRAFT)
    organizer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    organizer_email: Mapped[str] = mapped_column(sa.String(254), default="")
    #: Bumped whenever the time or place changes, so calendar invites update.
    ical_sequence: Mapped[int] = mapped_column(default=0)
    #: Days after the end when participants' details are anonymised; empty: kept until
    #: anonymised by hand.
    personal_data_retention_days: Mapped[int | None] = mapped_column()
    #: What a participant must have attended to have completed the event (certificates).
    completion_rule: Mapped[CompletionRule] = mapped_column(
        _enum(CompletionRule), default=CompletionRule.ANY_DAY
    )
    #: For CompletionRule.SHARE_OF_SESSIONS: the share of counted sessions, in percent.
    completion_percent: Mapped[int] = mapped_column(default=80)
    #: Who signs the certificates of attendance, as printed under the signature.
    certificate_signer: Mapped[str] = mapped_column(sa.String(200), default="")
    #: An uploaded signature image (PNG or JPEG) and its media type.
    certificate_signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    certificate_signature_type: Mapped[str] = mapped_column(sa.String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event_sites: Mapped[list[EventSite]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSite.position"
    )
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="AgendaItem.starts_at"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def allows_online(self) -> bool:
        return self.format in (EventFormat.HYBRID, EventFormat.ONLINE)

    @property
    def allows_in_person(self) -> bool:
        return self.format in (EventFormat.HYBRID, EventFormat.IN_PERSON)

    def local(self, moment: datetime) -> datetime:
        """A stored UTC moment in the event's own zone."""
        return moment.astimezone(self.zone)

    def local_day(self, moment: datetime) -> date:
        """The event's local calendar day a moment falls on: what attendance counts per."""
        return moment.astimezone(self.zone).date()

    def registration_state(self, now: datetime | None = None) -> RegistrationState:
        """Whether registration is open now, and if not, why."""
        now = now or utcnow()
        if self.status == EventStatus.CANCELLED:
            return RegistrationState.CANCELLED
        if self.status == EventStatus.DRAFT:
            return RegistrationState.DRAFT
        if self.registration_opens_at and now < self.registration_opens_at:
            return RegistrationState.NOT_YET_OPEN
        if self.registration_closes_at and now >= self.registration_closes_at:
            return RegistrationState.CLOSED
        if now >= self.ends_at:
            return RegistrationState.OVER
        return RegistrationState.OPEN

    def event_site(self, site_slug: str | None) -> EventSite | None:
        """The participating site with that slug, or None."""
        return next((es for es in self.event_sites if es.site.slug == site_slug), None)

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class EventSite(db.Model):
    """A site taking part in an event, with its own capacity."""

    __tablename__ = "event_sites"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "site_id"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="RESTRICT"))
    #: Seats for confirmed in-person registrations at this site.
    capacity: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="event_sites")
    site: Mapped[Site] = relationship(lazy="joined")


class AgendaItem(db.Model):
    __tablename__ = "agenda_items"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    #: Free text, one speaker per line.
    speakers: Mapped[str] = mapped_column(sa.Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A session whose attendance is taken (at the door and from the meeting report).
    counts_attendance: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship(back_populates="agenda_items")
