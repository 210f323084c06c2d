"""The domain model: events, sites, registrations, check-ins, staff and mail.

All times are stored in UTC and come back as aware ``datetime`` objects; pages
convert them to the event's own time zone.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.text import fold_for_search


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime.

    SQLite keeps no zone, so the rule is enforced here for both databases.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _enum(enum_class: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its value, as a plain checked string on both databases."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def new_manage_token() -> str:
    """256 random bits for the personal link, URL-safe."""
    return secrets.token_urlsafe(32)


def new_badge_code() -> str:
    """160 random bits in upper-case base32, which QR alphanumeric mode encodes compactly."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"
    COORDINATOR = "coordinator"


class EventFormat(enum.StrEnum):
    HYBRID = "hybrid"
    IN_PERSON = "in_person"
    ONLINE = "online"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Mode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class OrgKind(enum.StrEnum):
    STATE = "state"
    PUBLIC = "public"
    INFO_CENTRE = "info_centre"
    MEDIA = "media"
    INTERNATIONAL = "international"
    EXPERT = "expert"
    OTHER = "other"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class CheckInMethod(enum.StrEnum):
    QR = "qr"
    SEARCH = "search"
    WALK_IN = "walk_in"
    ONLINE_JOIN = "online_join"
    ONLINE_REPORT = "online_report"


class CheckInResult(enum.StrEnum):
    ADMITTED = "admitted"
    REFUSED = "refused"


class RegistrationState(enum.StrEnum):
    """Whether an event takes registrations now, and if not, why."""

    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    DRAFT = "draft"
    OVER = "over"


class MessageKind(enum.StrEnum):
    """What an email to a participant is about."""

    CONFIRMATION = "confirmation"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    UPDATED = "updated"
    LINK_RESEND = "link_resend"
    EVENT_CANCELLED = "event_cancelled"


class RefusalReason(enum.StrEnum):
    ALREADY_CHECKED_IN = "already_checked_in"
    WRONG_SITE = "wrong_site"
    NOT_ADMITTED = "not_admitted"
    UNKNOWN_CODE = "unknown_code"


staff_sites = sa.Table(
    "staff_sites",
    db.metadata,
    sa.Column(
        "staff_user_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("site_id", sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the login form lower-cases what is typed.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(_enum(Role))
    is_active_user: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: The sites a coordinator works at; ignored for organisers and admins.
    sites: Mapped[list[Site]] = relationship(secondary=staff_sites, order_by="Site.name")
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.is_active_user

    @property
    def sees_all_sites(self) -> bool:
        return self.role in (Role.ADMIN, Role.ORGANIZER)

    @property
    def can_organize(self) -> bool:
        return self.role in (Role.ADMIN, Role.ORGANIZER)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"))
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship(back_populates="api_tokens")


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

    event: Mapped[Event] = relationship(back_populates="agenda_items")


class Registration(db.Model):
    """One person at one event."""

    __tablename__ = "registrations"
    __table_args__ = (
        # A registration's site must be one taking part in its event.
        sa.ForeignKeyConstraint(
            ["event_id", "site_id"],
            ["event_sites.event_id", "event_sites.site_id"],
            name="fk_registrations_event_site",
        ),
        sa.CheckConstraint(
            "(mode = 'in_person' AND site_id IS NOT NULL) OR (mode = 'online' AND site_id IS NULL)",
            name="site_matches_mode",
        ),
        # One active registration per email per event; cancelled ones may repeat.
        sa.Index(
            "uq_registrations_active_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        ),
        sa.Index("ix_registrations_event_status_site", "event_id", "status", "site_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Stored lower-case, so uniqueness and lookups ignore case.
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    organization: Mapped[str] = mapped_column(sa.String(300), default="")
    position: Mapped[str] = mapped_column(sa.String(200), default="")
    org_kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind), default=OrgKind.OTHER)
    #: Optional; kept only for disaggregated reporting.
    gender: Mapped[Gender | None] = mapped_column(_enum(Gender))
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    mode: Mapped[Mode] = mapped_column(_enum(Mode))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    status: Mapped[RegistrationStatus] = mapped_column(_enum(RegistrationStatus))
    #: Secret for the personal link /r/<token>; independent of the badge code.
    manage_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_manage_token)
    #: Secret printed in the QR badge; independent of the manage token.
    badge_code: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_badge_code)
    #: Name, organisation and email folded to lower-case ASCII, for search.
    search_text: Mapped[str] = mapped_column(sa.String(800), default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped when this person's invite changes (site, mode, cancellation).
    ical_sequence: Mapped[int] = mapped_column(default=0)
    #: Staff user who registered this person (walk-ins, imports), if any.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    site: Mapped[Site | None] = relationship()

    @sa.orm.validates("name", "organization", "email")
    def _refresh_search_text(self, key: str, value: str) -> str:
        parts = {"name": self.name, "organization": self.organization, "email": self.email}
        parts[key] = value
        self.search_text = fold_for_search(" ".join(p for p in parts.values() if p))[:800]
        return value

    @property
    def sequence(self) -> int:
        """The calendar SEQUENCE: event-wide changes plus this person's own."""
        return (self.event.ical_sequence if self.event else 0) + self.ical_sequence

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.email} {self.status}>"


class CheckIn(db.Model):
    """Evidence that a registration attended, or a refused attempt.

    Check-ins are never deleted: an undo sets ``annulled_at``. Attendance is
    derived from the admitted, unannulled rows.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        # One live admission at a site per person: two scanners cannot both admit.
        sa.Index(
            "uq_checkins_one_site_admission",
            "registration_id",
            unique=True,
            sqlite_where=sa.text(
                "result = 'admitted' AND annulled_at IS NULL AND site_id IS NOT NULL"
            ),
            postgresql_where=sa.text(
                "result = 'admitted' AND annulled_at IS NULL AND site_id IS NOT NULL"
            ),
        ),
        # Online attendance: at most one live row per person and method.
        sa.Index(
            "uq_checkins_one_online_record",
            "registration_id",
            "method",
            unique=True,
            sqlite_where=sa.text("annulled_at IS NULL AND site_id IS NULL"),
            postgresql_where=sa.text("annulled_at IS NULL AND site_id IS NULL"),
        ),
        sa.Index("ix_checkins_event_site_result", "event_id", "site_id", "result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Generated by the scanning device; makes a re-sent check-in harmless.
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    #: Empty for a scan of an unknown code.
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE")
    )
    #: Where it happened; empty for online attendance.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    method: Mapped[CheckInMethod] = mapped_column(_enum(CheckInMethod))
    result: Mapped[CheckInResult] = mapped_column(_enum(CheckInResult))
    reason: Mapped[RefusalReason | None] = mapped_column(_enum(RefusalReason))
    #: Admitted at a site other than the registered one, on purpose.
    forced: Mapped[bool] = mapped_column(default=False)
    #: The text that was scanned or typed, kept for refused attempts.
    code: Mapped[str] = mapped_column(sa.String(128), default="")
    #: When it happened, as the device saw it (an offline device uploads later).
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the server received it.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The latest time seen, for repeated online joins.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Minutes attended online, from an imported meeting report.
    online_minutes: Mapped[int | None] = mapped_column()
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    device: Mapped[str] = mapped_column(sa.String(200), default="")
    annulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    annulled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))

    registration: Mapped[Registration | None] = relationship()
    site: Mapped[Site | None] = relationship()
    staff_user: Mapped[StaffUser | None] = relationship(foreign_keys=[staff_user_id])


def live_admission(checkin=CheckIn) -> sa.ColumnElement[bool]:
    """An admitted, unannulled check-in (or alias of one): it counts as attendance."""
    return sa.and_(checkin.result == CheckInResult.ADMITTED, checkin.annulled_at.is_(None))


def live_site_admission(checkin=CheckIn) -> sa.ColumnElement[bool]:
    """Join condition: ``checkin`` is the registration's live admission at a site.

    ``uq_checkins_one_site_admission`` allows at most one such row per person.
    """
    return sa.and_(
        checkin.registration_id == Registration.id,
        checkin.site_id.is_not(None),
        live_admission(checkin),
    )


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
    #: The complete RFC 5322 message, ready to send.
    raw_message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()
