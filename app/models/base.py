"""Column types and helpers the models share: UTC timestamps, enums, secrets.

All times are stored in UTC and come back as aware ``datetime`` objects; pages
convert them to the event's own time zone.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa


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
