"""Fixtures: a fresh database per test (SQLite by default, PostgreSQL when
SURVEYAPP_TEST_DATABASE_URL says so), the app, a client, the demo campaign and a live server."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from surveyapp import create_app
from surveyapp import migrate as migrations
from surveyapp.db import Base, db, make_engine
from surveyapp.demo import load_demo

# In CI the property tests draw the same examples every run (a landing must not depend on luck);
# developers' runs keep drawing new ones.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

#: under pytest-xdist, this process's name ("gw0", "gw1", …): each worker gets its own PostgreSQL
#: database and Redis databases, so two workers never see each other's rows or keys
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
PG_URL = os.environ.get("SURVEYAPP_TEST_DATABASE_URL")
if PG_URL and WORKER:
    PG_URL = f"{PG_URL}_{WORKER}"


def redis_db_url(url: str) -> str:
    """A Redis URL for this worker: the database number moved down by two per worker (13 and 14
    without workers; 11 and 12 on gw1, …), so ``flushdb`` in one worker empties only its own."""
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number) - 2 * WORKER_INDEX}" if number.isdigit() else url


#: in CI, a missing browser or QR decoder is an error, not a skip
STRICT_TOOLS = os.environ.get("SURVEYAPP_STRICT_TOOLS") == "1"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def need_tool(path: str, why: str) -> None:
    if shutil.which(path) or os.path.exists(path):
        return
    message = f"{path} is not installed ({why}); install it with: apt-get install {why}"
    if STRICT_TOOLS:
        pytest.fail(message)
    pytest.skip(message)


def _worker_database(verb: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        if verb == "CREATE":
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, request):
    """The migrated schema, made once: a SQLite file to copy, or the PostgreSQL database itself."""
    if PG_URL:
        if WORKER:  # this worker's own database, made now and dropped at the end
            _worker_database("CREATE")
            request.addfinalizer(lambda: _worker_database("DROP"))
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        migrations.upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


#: the app's settings in every test (the demo template is made with the same, above all the secret)
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PUBLIC_BASE_URL": "http://testserver",
    # rate limits get their own tests (test_abuse.py); elsewhere they stay out of the way
    "RATELIMIT_PER_DEVICE": "100000 per hour",
    "RATELIMIT_PER_ADDRESS": "100000 per hour",
}


@pytest.fixture(scope="session")
def demo_template(database_template, tmp_path_factory):
    """On SQLite, the demo campaign loaded once into a copy of the migrated schema: each test
    that asks for ``demo`` starts from a copy of it (0.3 s of loading saved per test)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copy(database_template, path)
    return path, _loaded_demo(f"sqlite:///{path}")


def _loaded_demo(url: str):
    """The demo campaign loaded into the database at ``url`` and committed; its DemoResult."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        s = db.new_session()
        result = load_demo(s)
        s.commit()
        s.close()
    db.dispose(app)
    return result


@pytest.fixture(scope="session")
def demo_rows(database_template):
    """On PostgreSQL, the demo campaign's rows, loaded once and taken out again: each test that
    asks for ``demo`` puts them back with one insert per table (``_put_back``), not a new load."""
    result = _loaded_demo(PG_URL)
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        rows = {t: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables}  # fmt: skip
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()
    return rows, result


def _put_back(rows) -> None:
    """The demo's rows into the emptied PostgreSQL database, each table's id sequence moved past
    them (foreign keys are checked by the load they came from; replica mode skips the triggers)."""
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table, found in rows.items():
            if found:
                conn.execute(table.insert(), found)
        for table, found in rows.items():
            keys = list(table.primary_key.columns)
            if found and len(keys) == 1 and keys[0].autoincrement is not False and keys[0].type.python_type is int:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{keys[0].name}'), "
                    f"(SELECT max({keys[0].name}) FROM {table.name}))"
                )
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_memory():
    """Every test's database copy has the same codes: forget what an earlier test's requests left
    in this process's memory (remembered posters, rendered blank forms)."""
    from surveyapp.collect import fast, routes

    fast.forget_points()
    routes._BLANK_PAGES.clear()
    routes._THANKS_PAGES.clear()
    yield


@pytest.fixture
def database_url(database_template, tmp_path, request):
    if PG_URL:
        if "demo" in request.fixturenames:
            _put_back(request.getfixturevalue("demo_rows")[0])
        yield PG_URL
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))
        engine.dispose()
    else:
        path = tmp_path / "test.sqlite"
        source = request.getfixturevalue("demo_template")[0] if "demo" in request.fixturenames else database_template
        shutil.copy(source, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app(database_url):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    yield app
    db.dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app, request):
    """The demo campaign, loaded and committed; returns its DemoResult. The test's database
    already holds it (``database_url``): a copy of the demo template on SQLite, the demo's rows
    put back on PostgreSQL."""
    return request.getfixturevalue("demo_rows" if PG_URL else "demo_template")[1]


@pytest.fixture
def dbs(app):
    """A session for assertions, outside any request (no app context stays pushed, so requests
    made by the test client each get their own ``g``)."""
    s = Session(app.extensions["surveyapp.db"], expire_on_commit=False)
    yield s
    s.close()


def count(s, model) -> int:
    s.expire_all()
    return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(5)


def _input_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page (whatever order its attributes come in)."""
    return _input_value(html, "csrf_token")


def hidden_fields(html: str) -> dict[str, str]:
    return {"csrf_token": csrf_token(html), "submission_id": _input_value(html, "submission_id")}
