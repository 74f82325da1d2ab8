"""Alembic, driven from the app: ``surveyapp db upgrade`` and friends use the app's engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(engine, connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(engine, connection), revision)


def revision(engine: Engine, message: str, autogenerate: bool = True) -> None:
    with engine.begin() as connection:
        command.revision(alembic_config(engine, connection), message=message, autogenerate=autogenerate)


def current(engine: Engine) -> None:
    with engine.begin() as connection:
        command.current(alembic_config(engine, connection))
