"""The busy path of a counter poster (surveyapp/collect/fast.py): the form shown from memory, the
submission stored in one statement on PostgreSQL, and never a response let through on a stale memory."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event, select, text

from surveyapp.collect import fast, routes
from surveyapp.models import Answer, CollectionPoint, Response, Unit

from .conftest import PG_URL, count, hidden_fields
from .helpers import valid_answers

needs_postgresql = pytest.mark.skipif(not PG_URL, reason="the one-statement store is PostgreSQL's: runs in the PostgreSQL pass of .ci/run")  # fmt: skip


def _point(dbs, unit_code: str = "HDG-NGG-02") -> CollectionPoint:
    return dbs.scalars(
        select(CollectionPoint).join(Unit).where(Unit.code == unit_code).order_by(CollectionPoint.id)
    ).first()


@pytest.fixture
def statements(app):
    """Every SQL statement the app sends (on either engine), as a list that grows; with each, whether
    its connection was in autocommit (no BEGIN or COMMIT round trip around it) in ``statements.autocommit``."""
    seen = Statements()
    engines = [e for e in (app.extensions["surveyapp.db"], app.extensions["surveyapp.db.autocommit"]) if e]

    def record(conn, cursor, statement, *args):
        seen.append(statement)
        seen.autocommit.append(getattr(conn.connection.driver_connection, "autocommit", None))  # psycopg's

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


class Statements(list):
    def __init__(self):
        super().__init__()
        self.autocommit: list[bool] = []

    def clear(self):
        super().clear()
        self.autocommit.clear()


def test_a_poster_seen_a_moment_ago_is_shown_without_a_query(client, demo, dbs, statements):
    point = _point(dbs)
    assert client.get(f"/f/{point.code}").status_code == 200
    statements.clear()
    second = client.get(f"/f/{point.code}")
    assert second.status_code == 200 and "Gửi phiếu" in second.get_data(as_text=True)
    assert statements == []


def test_each_visitor_still_gets_their_own_tokens(app, demo, dbs):
    point = _point(dbs)
    first = hidden_fields(app.test_client().get(f"/f/{point.code}").get_data(as_text=True))
    second = hidden_fields(app.test_client().get(f"/f/{point.code}").get_data(as_text=True))
    assert first["submission_id"] != second["submission_id"]
    assert first["csrf_token"] != second["csrf_token"]


@needs_postgresql
def test_a_submission_is_one_statement_on_postgresql(app, client, demo, dbs, statements, monkeypatch):
    point = _point(dbs)
    first = hidden_fields(client.get(f"/f/{point.code}").get_data(as_text=True))
    assert client.post(f"/f/{point.code}", data={**first, **valid_answers()}).status_code == 200  # a pooled connection
    hidden = hidden_fields(client.get(f"/f/{point.code}").get_data(as_text=True))
    pings = []
    engine = app.extensions["surveyapp.db.autocommit"]
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    statements.clear()
    assert client.post(f"/f/{point.code}", data={**hidden, **valid_answers()}).status_code == 200
    assert len(statements) == 1 and statements[0].lstrip().startswith("WITH door AS")
    # one round trip: no BEGIN or COMMIT around the statement, no liveness ping before it
    assert statements.autocommit == [True] and pings == []
    assert count(dbs, Response) == 2 and count(dbs, Answer) > 40


CHANGES_BEHIND_THE_APP = {
    # what another server (or an administrator's psql) does while this process remembers the poster
    "campaign closed": ("UPDATE campaign SET status = 'closed'", 410, "Đợt khảo sát đã kết thúc"),
    "campaign back to draft": ("UPDATE campaign SET status = 'draft'", 403, "chưa bắt đầu"),
    "poster taken down": ("UPDATE collection_point SET active = false", 410, "ngừng sử dụng"),
    "slips only": ("UPDATE respondent_group SET counter_access = 'slips'", 403, "phiếu có mã QR riêng"),
    "quota full": ("UPDATE quota SET target = 1, received = 1", 409, "Đã đủ số phiếu"),
}


@pytest.mark.parametrize("change", CHANGES_BEHIND_THE_APP, ids=list(CHANGES_BEHIND_THE_APP))
def test_a_stale_memory_never_lets_a_response_in(app, client, demo, dbs, database_url, monkeypatch, change):
    sql, status, words = CHANGES_BEHIND_THE_APP[change]
    point = _point(dbs)
    hidden = hidden_fields(client.get(f"/f/{point.code}").get_data(as_text=True))  # now remembered
    other = create_engine(database_url)  # not through this app: nothing tells it to forget
    with other.begin() as conn:
        conn.execute(text(sql))
    other.dispose()

    refused = client.post(f"/f/{point.code}", data={**hidden, **valid_answers()})
    assert refused.status_code == status and words in refused.get_data(as_text=True)
    assert count(dbs, Response) == 0 and count(dbs, Answer) == 0

    # and the form itself shows the change once the memory is older than POINT_TTL
    later = fast.time.monotonic() + fast.POINT_TTL + 1
    monkeypatch.setattr(fast.time, "monotonic", lambda: later)
    shown = client.get(f"/f/{point.code}")
    assert shown.status_code == (200 if change == "quota full" else status)  # "quota full" is a kind page
    assert words in shown.get_data(as_text=True) and 'name="submission_id"' not in shown.get_data(as_text=True)


def test_a_change_made_through_the_app_shows_at_once(app, client, demo, dbs):
    point = _point(dbs)
    assert client.get(f"/f/{point.code}").status_code == 200
    dbs.get(CollectionPoint, point.id).active = False  # an ORM change, as the setup pages make
    dbs.commit()
    assert client.get(f"/f/{point.code}").status_code == 410


@needs_postgresql
def test_the_one_statement_store_and_the_general_path_store_the_same(app, demo, dbs, monkeypatch):
    """Five submissions from one phone through each path: same columns, same flags (too fast from
    the first, burst from the fourth), same answers."""

    def five_from_one_phone(point) -> list[tuple]:
        phone = app.test_client()
        for _ in range(5):
            html = phone.get(f"/f/{point.code}").get_data(as_text=True)
            assert phone.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()}).status_code == 200
        dbs.expire_all()
        stored = dbs.scalars(select(Response).where(Response.unit_id == point.unit_id).order_by(Response.id)).all()
        assert len({r.device_hash for r in stored}) == 1 and stored[0].device_hash
        return [
            (
                r.channel,
                r.status,
                r.flags,
                r.over_quota,
                r.started_at is not None,
                r.questionnaire_version_id,
                r.group_id,
                r.campaign_id,
                r.collection_point_id == point.id,
                sorted(
                    (a.question_id, a.subject_unit_id == point.unit_id, a.value_code, a.value_num, a.value_text)
                    for a in dbs.scalars(select(Answer).where(Answer.response_id == r.id))
                ),
            )  # fmt: skip
            for r in stored
        ]

    one_statement = five_from_one_phone(_point(dbs, "HDG-NGG-02"))
    monkeypatch.setattr(routes, "can_store_in_one_statement", lambda s: False)
    general = five_from_one_phone(_point(dbs, "HDG-NGG-03"))
    assert one_statement == general
    assert [row[2] for row in general] == ["too_fast straight_lining"] * 3 + ["too_fast straight_lining burst"] * 2


def test_the_form_says_full_as_soon_as_the_last_place_is_taken(client, demo, dbs):
    point = _point(dbs)
    dbs.execute(text("UPDATE quota SET target = 1, received = 0"))
    dbs.commit()
    assert client.get(f"/f/{point.code}").status_code == 200  # remembered: one place left
    hidden = hidden_fields(client.get(f"/f/{point.code}").get_data(as_text=True))
    assert client.post(f"/f/{point.code}", data={**hidden, **valid_answers()}).status_code == 200
    after = client.get(f"/f/{point.code}").get_data(as_text=True)
    assert "Đã đủ số phiếu" in after and 'name="submission_id"' not in after


@needs_postgresql
def test_a_connection_the_database_dropped_is_replaced_without_losing_the_answer(app, client, demo, dbs):
    """The one-statement store pings no connection before use: one found dead is retried once on a new one."""
    point = _point(dbs)
    for _ in range(2):
        hidden = hidden_fields(client.get(f"/f/{point.code}").get_data(as_text=True))
        if _ == 1:  # the pooled connection of the first submission dies (a restart, an idle timeout)
            with app.extensions["surveyapp.db.autocommit"].connect() as conn:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            dbs.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            dbs.commit()
        sent = client.post(f"/f/{point.code}", data={**hidden, **valid_answers()})
        assert sent.status_code == 200 and "Cảm ơn" in sent.get_data(as_text=True)
    assert count(dbs, Response) == 2


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


@needs_postgresql
def test_the_burst_counts_read_at_most_their_cap_however_busy_the_address(app, demo, dbs):
    """A counter's Wi-Fi sends thousands of responses from one address; counting its recent ones
    at each submission must read no more than the cap, in the prepared (generic) plan the workers
    use and without fresh statistics (the index covers hash, campaign and time)."""
    point = _point(dbs)
    campaign_id = dbs.scalar(text("SELECT campaign_id FROM respondent_group WHERE id = :g"), {"g": point.group_id})
    dbs.execute(
        text("""
        INSERT INTO response (submission_id, campaign_id, group_id, unit_id, questionnaire_version_id, channel,
            answers_hash, submitted_at, status, over_quota, flags, address_hash, device_hash)
        SELECT 'busy-' || i, :campaign, g.id, :unit, g.questionnaire_version_id, 'counter', 'h',
            now() - i * interval '10 milliseconds', 'valid', false, '', 'wifi', 'phone-' || i
        FROM generate_series(1, 20000) AS i, respondent_group g WHERE g.id = :group
        """),
        {"campaign": campaign_id, "unit": point.unit_id, "group": point.group_id},
    )
    dbs.commit()
    now = datetime.now(UTC)
    params = {
        "point_id": point.id, "version_id": 0, "group_id": point.group_id, "unit_id": point.unit_id,
        "campaign_id": campaign_id, "stop": False, "submission_id": "probe", "answers_hash": "h", "started_at": None,
        "now": now, "flags_before": None, "flags_after": None, "device_hash": "phone-1", "since": now - timedelta(hours=1),
        "burst_limit": 3, "address_hash": "wifi", "address_since": now - timedelta(minutes=10),
        "address_burst_limit": 30, "answers": "[]",
    }  # fmt: skip
    with app.extensions["surveyapp.db"].connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + fast._STORE.text), params).scalar()
        conn.rollback()
    nodes = list(_plan_nodes(plan[0]["Plan"]))
    on_response = [n for n in nodes if n.get("Relation Name") == "response" and "Scan" in n["Node Type"]]
    assert on_response and not any(n["Node Type"] == "BitmapAnd" for n in nodes)
    # 20,000 rows match the address: each count stops at its cap (3 for the phone, 30 for the address)
    assert all(n["Actual Rows"] * n["Actual Loops"] + n.get("Rows Removed by Filter", 0) <= 30 for n in on_response)


def _without_tokens(html: str) -> str:
    fields = hidden_fields(html)
    return html.replace(fields["csrf_token"], "CSRF").replace(fields["submission_id"], "SUBMISSION")


def test_a_phone_gets_the_form_gzipped_whole_and_can_send_it(client, demo, dbs):
    """The form is compressed from a head compressed once per poster: the result must be one
    valid gzip stream, the same page as sent uncompressed, with this visitor's own tokens."""
    point = _point(dbs)
    plain = client.get(f"/f/{point.code}")
    pages = []
    for _ in range(2):
        sent = client.get(f"/f/{point.code}", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert sent.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in sent.headers["Vary"]
        pages.append(gzip.decompress(sent.data).decode("utf-8"))
    assert _without_tokens(pages[0]) == _without_tokens(pages[1]) == _without_tokens(plain.get_data(as_text=True))
    assert pages[0].rstrip().endswith("</html>")
    assert hidden_fields(pages[0])["submission_id"] != hidden_fields(pages[1])["submission_id"]
    answered = client.post(f"/f/{point.code}", data={**hidden_fields(pages[1]), **valid_answers()})
    assert answered.status_code == 200 and "Cảm ơn" in answered.get_data(as_text=True)
    assert count(dbs, Response) == 1
    # no gzip asked, none sent
    assert "Content-Encoding" not in client.get(f"/f/{point.code}", headers={"Accept-Encoding": "identity"}).headers


def test_a_refusal_for_a_full_quota_makes_the_form_say_so_at_once(client, demo, dbs, database_url):
    """Another server filled the quota: the first refused submission makes this one forget what it
    remembered, so the next visitor sees "full" at once rather than after POINT_TTL."""
    point = _point(dbs)
    hidden = hidden_fields(client.get(f"/f/{point.code}").get_data(as_text=True))  # now remembered
    other = create_engine(database_url)
    with other.begin() as conn:
        conn.execute(text("UPDATE quota SET target = 1, received = 1"))
    other.dispose()
    assert client.post(f"/f/{point.code}", data={**hidden, **valid_answers()}).status_code == 409
    shown = client.get(f"/f/{point.code}").get_data(as_text=True)  # well within POINT_TTL
    assert "Đã đủ số phiếu" in shown and 'name="submission_id"' not in shown
