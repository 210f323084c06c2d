"""Registrations: one person at one event, online or at one of its sites."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, _enum, new_badge_code, new_manage_token, utcnow
from app.models.enums import Gender, Mode, OrgKind, RegistrationStatus
from app.text import fold_for_search

if TYPE_CHECKING:
    from app.models.events import Event, Site


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


# Word search (app/registrations/search.py) reads through an index that a model cannot
# declare, over the event and the trigrams of the search text: on PostgreSQL a GIN index,
# on SQLite an FTS5 table with the trigram tokenizer, kept in step by triggers.
# ``db.create_all`` makes them through the DDL below, the migration through its own copy;
# autogenerate leaves them alone (``is_search_index``).

#: PostgreSQL: GIN over (event_id, search_text gin_trgm_ops), for ``LIKE '%word%'`` within
#: an event. btree_gin lets one GIN index hold the event too, so a search reads only that
#: event's matches, however many other events the table holds.
SEARCH_INDEX = "ix_registrations_event_search_trgm"
#: SQLite: the FTS5 table. It holds only the index (``content=''``): the event as a key
#: ``e<id>e`` (a whole phrase, so "e17e" is never part of "e117e"), and the search text.
SEARCH_TABLE = "registrations_search"

_POSTGRESQL_BEFORE_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
)
# gin_trgm_ops is named with its schema: pg_trgm may live in one not on the search path.
# (``%%`` is a single ``%`` once DDL has filled in its own placeholders.)
_POSTGRESQL_AFTER_CREATE = (
    "DO $$ BEGIN EXECUTE format('CREATE INDEX ix_registrations_event_search_trgm "
    "ON registrations USING gin (event_id, search_text %%s.gin_trgm_ops)', (SELECT "
    "extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm')); END $$",
)
# A contentless table forgets a row only when told the values it indexed: the old ones.
_SQLITE_AFTER_CREATE = (
    "CREATE VIRTUAL TABLE registrations_search USING fts5(event_key, search_text, "
    "content='', tokenize='trigram')",
    "CREATE TRIGGER registrations_search_insert AFTER INSERT ON registrations BEGIN "
    "INSERT INTO registrations_search(rowid, event_key, search_text) "
    "VALUES (new.id, 'e' || new.event_id || 'e', new.search_text); END",
    "CREATE TRIGGER registrations_search_delete AFTER DELETE ON registrations BEGIN "
    "INSERT INTO registrations_search(registrations_search, rowid, event_key, search_text) "
    "VALUES ('delete', old.id, 'e' || old.event_id || 'e', old.search_text); END",
    "CREATE TRIGGER registrations_search_update AFTER UPDATE OF event_id, search_text "
    "ON registrations BEGIN "
    "INSERT INTO registrations_search(registrations_search, rowid, event_key, search_text) "
    "VALUES ('delete', old.id, 'e' || old.event_id || 'e', old.search_text); "
    "INSERT INTO registrations_search(rowid, event_key, search_text) "
    "VALUES (new.id, 'e' || new.event_id || 'e', new.search_text); END",
)
_SQLITE_AFTER_DROP = ("DROP TABLE IF EXISTS registrations_search",)


def _on(moment: str, dialect: str, statements: tuple[str, ...]) -> None:
    for statement in statements:
        sa.event.listen(
            Registration.__table__, moment, sa.DDL(statement).execute_if(dialect=dialect)
        )


_on("before_create", "postgresql", _POSTGRESQL_BEFORE_CREATE)
_on("after_create", "postgresql", _POSTGRESQL_AFTER_CREATE)
_on("after_create", "sqlite", _SQLITE_AFTER_CREATE)
_on("after_drop", "sqlite", _SQLITE_AFTER_DROP)


def is_search_index(name: str | None, type_: str) -> bool:
    """True for the search index's own objects, which autogenerate must not compare.

    On SQLite those are the FTS5 table and the shadow tables FTS5 keeps for it.
    """
    if type_ == "table":
        return name in _SEARCH_TABLES
    return type_ == "index" and name == SEARCH_INDEX


_SEARCH_TABLES = {SEARCH_TABLE} | {
    f"{SEARCH_TABLE}_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config")
}
