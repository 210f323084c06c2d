"""The migrations build the same schema as the models, on SQLite and PostgreSQL, and undo it."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models.registrations import is_search_index
from tests.conftest import POSTGRES_URL, Config, keep_search_extensions_in_public, on_postgres

SCHEMA = "migration_check"


def _migration_config(tmp_path):
    if on_postgres():
        # A schema of its own, so the suite's tables are not touched.
        url = Config.SQLALCHEMY_DATABASE_URI + f"?options=-csearch_path%3D{SCHEMA}"
        engine = sa.create_engine(Config.SQLALCHEMY_DATABASE_URI)
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        keep_search_extensions_in_public(engine)
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite'}"

    class MigrationConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    return MigrationConfig


def test_upgrade_matches_the_models_and_downgrade_removes_everything(tmp_path):
    app = create_app(_migration_config(tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            # The search index is made by DDL, not declared by a model (as in migrations/env.py).
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": False,
                    "include_name": lambda name, type_, _parents: not is_search_index(name, type_),
                },
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == []

        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
    if POSTGRES_URL:
        engine = sa.create_engine(Config.SQLALCHEMY_DATABASE_URI)
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()
