"""Alembic environment: runs against the engine of the current Flask app (see surveyapp/migrate.py)."""

from alembic import context

from surveyapp import models  # noqa: F401  (registers every table on Base.metadata)
from surveyapp.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
