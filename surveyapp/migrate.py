"""Alembic, driven from the app: ``surveyapp db upgrade`` and friends use the app's engine."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import current_app, has_app_context
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    # migrations that re-key data with the app's secret (0013: drafts) read it here when run by the app
    if has_app_context():
        cfg.attributes["secret_key"] = current_app.config.get("SECRET_KEY")
    return cfg


@contextmanager
def _migrating(engine: Engine):
    """A connection in a transaction for Alembic.

    On SQLite, Alembic changes a table by copying it and dropping the old one; with foreign keys
    enforced, that drop would cascade and delete every row that points at the table (quotas,
    collection points, responses …). So foreign keys are off while migrating (the pragma only
    takes effect outside a transaction) and checked once the migration is done.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _migrating(engine) as connection:
        command.upgrade(alembic_config(engine, connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _migrating(engine) as connection:
        command.downgrade(alembic_config(engine, connection), revision)


def revision(engine: Engine, message: str, autogenerate: bool = True) -> None:
    with engine.begin() as connection:
        command.revision(alembic_config(engine, connection), message=message, autogenerate=autogenerate)


def current(engine: Engine) -> None:
    with engine.begin() as connection:
        command.current(alembic_config(engine, connection))
