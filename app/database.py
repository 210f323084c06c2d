"""Database helpers that differ between SQLite and PostgreSQL, and for lost connections."""

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.extensions import db

T = TypeVar("T")


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


def retry_if_connection_lost(work: Callable[[], T]) -> T:
    """Run ``work``, a whole transaction, and run it again once if its connection was lost.

    Pooled connections are not pinged before use (a round trip on every request):
    one the server has closed meanwhile (a restart, an idle timeout) fails on its
    first statement. SQLAlchemy then throws that connection away and renews the
    pool's older ones, so the second try runs on a live connection. Only for work
    that is safe to repeat from its start, such as a check-in, whose client_id
    makes a second recording of it a replay.
    """
    try:
        return work()
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        db.session.rollback()
        return work()


def autocommit_unless_in_transaction() -> None:
    """Let each of the session's next statements commit on its own, unless a transaction
    has begun already: no BEGIN before them and no COMMIT after them.

    Only for work that writes a single row with a single statement, which is atomic by
    itself, and whose reads need no snapshot beyond what each statement sees (as under
    READ COMMITTED). The connection goes back to the pool as it was.
    """
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
