"""Staff accounts, the sites a coordinator works at, and their API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import UTCDateTime, _enum, utcnow
from app.models.enums import Role

if TYPE_CHECKING:
    from app.models.events import Site


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
    #: Part of every session's id: raising it ends all of this user's sessions at once,
    #: copies of a session cookie included (``app.staff.services.end_staff_sessions``).
    session_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    #: The sites a coordinator works at; ignored for organisers and admins.
    sites: Mapped[list[Site]] = relationship(secondary=staff_sites, order_by="Site.name")
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session: the user's id and session version."""
        return f"{self.id}:{self.session_version}"

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
