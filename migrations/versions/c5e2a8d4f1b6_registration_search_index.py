"""A trigram index for the name search: GIN with pg_trgm and btree_gin, or an FTS5 table on SQLite

Revision ID: c5e2a8d4f1b6
Revises: 9b1f4e2a7c3d
Create Date: 2027-01-12 10:00:00.000000

The name search looks for every word typed anywhere in ``registrations.search_text``
(``LIKE '%word%'``) within one event, which no b-tree serves.

On PostgreSQL a GIN index with pg_trgm's ``gin_trgm_ops`` does. With one large event
the trigrams alone suffice; the planner then filters the event on the rows they found,
or ANDs the bitmap of the event's b-tree. With many events it must still go through every
event's matches: at 1,000,000 registrations over 91 events, a search in one of 10,000 took
4 to 14 ms that way. btree_gin puts ``event_id`` into the same GIN index, which then reads
only that event's matches: 0.3 to 1 ms for the same searches (EXPLAIN ANALYZE), and
faster in the large event too. So the index is GIN (event_id, search_text gin_trgm_ops).

On SQLite an FTS5 table with the trigram tokenizer (SQLite 3.34 or later) holds the
index, over the event (as a key ``e<id>e``) and the search text, for the same reason; at
1,000,000 registrations a search in an event of 10,000 reads 0.2 to 1 ms in it, where
the trigrams alone, before keeping the event's rows, took 10 to 50 ms. It keeps no copy
of the text (``content=''``); triggers keep it in step with every insert, change of the
search text and delete.

The same objects are made by ``db.create_all`` (app/models/registrations.py).

pg_trgm and btree_gin ship with PostgreSQL and are trusted extensions: since PostgreSQL
13 a role with the CREATE privilege on the database (its owner, for one) may install
them. Where the migration's role may not, it stops with an error that says what to run,
rather than going on without the index: search would still answer, but slower with every
registration, and nothing would tell anyone why. Being inside the migration's
transaction, nothing of it is left behind.

"""
import sqlite3

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e2a8d4f1b6'
down_revision = '9b1f4e2a7c3d'
branch_labels = None
depends_on = None

SEARCH_INDEX = 'ix_registrations_event_search_trgm'
SEARCH_TABLE = 'registrations_search'
TRIGGERS = ('registrations_search_insert', 'registrations_search_update', 'registrations_search_delete')
EXTENSIONS = ('pg_trgm', 'btree_gin')
INSUFFICIENT_PRIVILEGE = '42501'
DEPENDENT_OBJECTS_STILL_EXIST = '2BP01'


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()


def _upgrade_postgresql():
    bind = op.get_bind()
    missing = [name for name in EXTENSIONS if _schema_of(bind, name) is None]
    if missing:
        database = bind.execute(sa.text('SELECT current_database()')).scalar()
        try:
            for name in missing:
                op.execute(f'CREATE EXTENSION IF NOT EXISTS {name}')
        except sa.exc.DBAPIError as error:
            if _sqlstate(error) != INSUFFICIENT_PRIVILEGE:
                raise
            statements = ' '.join(f'CREATE EXTENSION {name};' for name in missing)
            raise RuntimeError(
                f'The name search needs the PostgreSQL extensions {" and ".join(missing)}, '
                f'which this role may not create. Ask the database owner or a superuser to '
                f'run "{statements}" in the database {database}, then run "flask db upgrade" '
                f'again.'
            ) from error
    # Named with its schema: the extension may live in one not on this role's search_path.
    # (event_id takes btree_gin's operator class, the default for an integer under GIN.)
    trigram_schema = _schema_of(bind, 'pg_trgm')
    op.execute(
        f'CREATE INDEX {SEARCH_INDEX} ON registrations '
        f'USING gin (event_id, search_text {trigram_schema}.gin_trgm_ops)'
    )


def _downgrade_postgresql():
    op.execute(f'DROP INDEX IF EXISTS {SEARCH_INDEX}')
    # The extensions go too, unless something else uses them or another role owns them
    # (a superuser who installed them for this database): then they stay as they were.
    bind = op.get_bind()
    for name in EXTENSIONS:
        try:
            with bind.begin_nested():
                bind.execute(sa.text(f'DROP EXTENSION IF EXISTS {name}'))
        except sa.exc.DBAPIError as error:
            if _sqlstate(error) not in (DEPENDENT_OBJECTS_STILL_EXIST, INSUFFICIENT_PRIVILEGE):
                raise


def _schema_of(bind, extension):
    """The quoted schema an extension is installed in, or None."""
    return bind.execute(
        sa.text(
            'SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = :name'
        ),
        {'name': extension},
    ).scalar()


def _sqlstate(error):
    return getattr(error.orig, 'sqlstate', None) or getattr(error.orig, 'pgcode', None)


def _upgrade_sqlite():
    try:
        op.execute(
            f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(event_key, search_text, "
            "content='', tokenize='trigram')"
        )
    except sa.exc.OperationalError as error:
        raise RuntimeError(
            'The name search needs SQLite 3.34 or later with FTS5 (its trigram tokenizer); '
            f'this Python has SQLite {sqlite3.sqlite_version}.'
        ) from error
    # Index the people already registered.
    op.execute(
        f"INSERT INTO {SEARCH_TABLE}(rowid, event_key, search_text) "
        "SELECT id, 'e' || event_id || 'e', search_text FROM registrations"
    )
    op.execute(
        f"CREATE TRIGGER registrations_search_insert AFTER INSERT ON registrations BEGIN "
        f"INSERT INTO {SEARCH_TABLE}(rowid, event_key, search_text) "
        "VALUES (new.id, 'e' || new.event_id || 'e', new.search_text); END"
    )
    # A contentless table forgets a row only when told the values it indexed: the old ones.
    op.execute(
        f"CREATE TRIGGER registrations_search_delete AFTER DELETE ON registrations BEGIN "
        f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, event_key, search_text) "
        "VALUES ('delete', old.id, 'e' || old.event_id || 'e', old.search_text); END"
    )
    op.execute(
        f"CREATE TRIGGER registrations_search_update AFTER UPDATE OF event_id, search_text "
        f"ON registrations BEGIN "
        f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, event_key, search_text) "
        "VALUES ('delete', old.id, 'e' || old.event_id || 'e', old.search_text); "
        f"INSERT INTO {SEARCH_TABLE}(rowid, event_key, search_text) "
        "VALUES (new.id, 'e' || new.event_id || 'e', new.search_text); END"
    )


def _downgrade_sqlite():
    for trigger in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
    op.execute(f'DROP TABLE IF EXISTS {SEARCH_TABLE}')
