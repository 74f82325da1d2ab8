"""The database: one engine per app, one session per request or CLI command.

Service functions take a session, add and flush; only the request handler (or the CLI command)
commits, once, or rolls back.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the counter keep taking answers while someone reads the dashboard.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: a database error's message never carries the statement's values: they are personal codes,
#: answers and hashes, and the message goes to the logs (README, "Anonymity")
HIDE = {"hide_parameters": True}


def make_engine(url: str, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **HIDE)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=20, **HIDE)


def make_autocommit_engine(url: str, pool_size: int = 10) -> Engine | None:
    """PostgreSQL only: connections for work that is one statement (a poster's submission), each
    its own transaction. No BEGIN and COMMIT round trips and no liveness ping before each use: a
    connection found dead raises ``connection_invalidated`` and the caller runs the statement
    again once (the pool has then dropped every connection older than the failure)."""
    if url.startswith("sqlite"):
        return None
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=pool_size, max_overflow=20, **HIDE)


class Database:
    """A small Flask extension: :func:`session` is the session of the current app context."""

    def init_app(self, app: Flask) -> None:
        url, pool_size = app.config["DATABASE_URL"], app.config.get("DATABASE_POOL_SIZE", 10)
        app.extensions["surveyapp.db"] = make_engine(url, pool_size)
        app.extensions["surveyapp.db.autocommit"] = make_autocommit_engine(url, pool_size)
        app.teardown_appcontext(_close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["surveyapp.db"]

    @property
    def autocommit_engine(self) -> Engine | None:
        """The engine of :func:`make_autocommit_engine`; None on SQLite."""
        return current_app.extensions["surveyapp.db.autocommit"]

    @staticmethod
    def dispose(app: Flask) -> None:
        """Close every pooled connection of ``app`` (tests, benchmarks, before dropping a database)."""
        for key in ("surveyapp.db", "surveyapp.db.autocommit"):
            if app.extensions.get(key) is not None:
                app.extensions[key].dispose()

    def new_session(self) -> Session:
        """A session outside the request scope (threads, benchmarks); the caller closes it."""
        return Session(self.engine, expire_on_commit=False)


def _close_session(_exc: BaseException | None = None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


db = Database()


def session() -> Session:
    """The session of the current request or CLI command (made on first use)."""
    if "db_session" not in g:
        g.db_session = db.new_session()
    return g.db_session
