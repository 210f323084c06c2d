"""Database helpers that differ between SQLite and PostgreSQL."""

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.extensions import db


def enable_sqlite_foreign_keys(engine: Engine) -> None:
    """SQLite ignores foreign keys unless each connection asks for them.

    Write-ahead logging lets the web server read while the worker writes, and
    costs one sync per commit instead of several.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def is_unique_violation(error: sa.exc.IntegrityError) -> bool:
    """True when an IntegrityError comes from a unique constraint or index."""
    text = str(error.orig).lower()
    return "unique" in text or "duplicate key" in text


def flush_unless_duplicate(*instances: object) -> bool:
    """Add and flush in a savepoint; False, with nothing written, on a unique violation.

    The outer transaction stays usable, so the caller can turn the clash (a
    slug or an email taken by a request racing this one) into a refusal.
    """
    try:
        with db.session.begin_nested():
            db.session.add_all(instances)
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        return False
    return True
