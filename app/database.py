"""Database helpers that differ between SQLite and PostgreSQL."""

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def enable_sqlite_foreign_keys(engine: Engine) -> None:
    """SQLite ignores foreign keys unless each connection asks for them."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def is_unique_violation(error: sa.exc.IntegrityError) -> bool:
    """True when an IntegrityError comes from a unique constraint or index."""
    text = str(error.orig).lower()
    return "unique" in text or "duplicate key" in text
