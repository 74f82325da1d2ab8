"""Rate limits: a busy counter's shared Wi-Fi gets through; a script stuffing a point is slowed."""

from __future__ import annotations

import os

import pytest
import redis
from sqlalchemy import select, update

from surveyapp import create_app
from surveyapp.db import db
from surveyapp.models import CollectionPoint, Quota, Response, Unit

from .conftest import STRICT_TOOLS, count, hidden_fields, redis_db_url
from .helpers import valid_answers


def _point(dbs):
    return dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == "HDG-NGG-09")).one()


def test_a_hundred_citizens_behind_one_address_all_get_through(app, demo, dbs):
    app.config.update(RATELIMIT_PER_DEVICE="10 per hour", RATELIMIT_PER_ADDRESS="300 per hour")
    point = _point(dbs)
    dbs.execute(
        update(Quota).where(Quota.unit_id == point.unit_id, Quota.group_id == point.group_id).values(target=120)
    )
    dbs.commit()
    statuses = []
    for _ in range(100):  # a hundred phones, one Wi-Fi (the test client's single address)
        phone = app.test_client()
        html = phone.get(f"/f/{point.code}").get_data(as_text=True)
        statuses.append(phone.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()}).status_code)
    assert statuses == [200] * 100
    assert count(dbs, Response) == 100


def test_a_script_stuffing_one_point_is_slowed_and_flagged(app, demo, dbs):
    app.config.update(RATELIMIT_PER_DEVICE="10 per hour", RATELIMIT_PER_ADDRESS="300 per hour")
    point = _point(dbs)
    script = app.test_client()  # keeps its cookies, like any browser
    statuses = []
    for _ in range(15):
        html = script.get(f"/f/{point.code}").get_data(as_text=True)
        response = script.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()})
        statuses.append(response.status_code)
    assert statuses == [200] * 10 + [429] * 5
    assert "Gửi quá nhiều lần" in response.get_data(as_text=True)
    flags = [r.flags.split() for r in dbs.scalars(select(Response).order_by(Response.id))]
    assert sum("burst" in f for f in flags) == 7  # from the fourth on (burst limit 3 an hour)


def test_a_script_dropping_its_cookies_is_slowed_by_address(app, demo, dbs):
    app.config.update(RATELIMIT_PER_DEVICE="10 per hour", RATELIMIT_PER_ADDRESS="20 per hour")
    point = _point(dbs)
    statuses = []
    for _ in range(25):
        fresh = app.test_client()
        html = fresh.get(f"/f/{point.code}").get_data(as_text=True)
        statuses.append(fresh.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()}).status_code)
    assert statuses == [200] * 20 + [429] * 5


def test_the_counter_store_never_holds_an_address(app, demo, dbs):
    point = _point(dbs)
    phone = app.test_client()
    html = phone.get(f"/f/{point.code}", environ_base={"REMOTE_ADDR": "203.0.113.77"}).get_data(as_text=True)
    sent = phone.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()},
                      environ_base={"REMOTE_ADDR": "203.0.113.77"})  # fmt: skip
    assert sent.status_code == 200
    keys = list(app.extensions["surveyapp.ratelimit"].storage.storage)
    assert len(keys) == 2  # one counter for the phone, one for the address
    assert not any("203.0.113" in key for key in keys)


def test_answers_get_in_when_the_counter_store_is_down(database_url, demo, dbs):
    """Redis unreachable (nothing listens on port 1): the citizen's answer is stored all the same."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})  # fmt: skip
    try:
        phone = app.test_client()
        point = _point(dbs)
        html = phone.get(f"/f/{point.code}").get_data(as_text=True)
        sent = phone.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()})
        assert sent.status_code == 200
        assert count(dbs, Response) == 1
    finally:
        db.dispose(app)


def test_a_script_dropping_its_cookies_is_flagged_by_address(app, demo, dbs):
    """Each submission looks like a new phone, but 30 from one address within ten minutes (ten
    times a phone's burst limit of 3) is more than a counter's Wi-Fi sends: from the 31st on,
    responses are flagged for review (and still stored)."""
    app.config.update(RATELIMIT_PER_DEVICE="10 per hour", RATELIMIT_PER_ADDRESS="300 per hour")
    point = _point(dbs)
    dbs.execute(update(Quota).where(Quota.unit_id == point.unit_id, Quota.group_id == point.group_id).values(target=50))
    dbs.commit()
    for _ in range(32):
        fresh = app.test_client()
        html = fresh.get(f"/f/{point.code}").get_data(as_text=True)
        assert fresh.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()}).status_code == 200
    flags = [r.flags.split() for r in dbs.scalars(select(Response).order_by(Response.id))]
    assert ["address_burst" in f for f in flags] == [False] * 30 + [True] * 2
    assert not any("burst" in f for f in flags)  # every "phone" sent once
    assert len({r.address_hash for r in dbs.scalars(select(Response))}) == 1


def test_a_busy_counter_is_not_flagged_by_address():
    """100 citizens in an hour behind one Wi-Fi is about 17 in any ten minutes."""
    from surveyapp.collect.quality import flags_for

    def address_flag(recent: int) -> bool:
        return "address_burst" in flags_for(
            shown_at=None, questions=20, min_seconds=2, scale_levels=[], recent_from_device=0, burst_limit=3,
            recent_from_address=recent, opening_hours=None, check_hours=False,
        )  # fmt: skip

    assert not address_flag(17) and not address_flag(29)
    assert address_flag(30)


REDIS_URL = redis_db_url(os.environ.get("SURVEYAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))


@pytest.fixture
def redis_app(database_url, demo):
    """The app counting in a real Redis, as in production (database 14, emptied before and after)."""
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        message = f"Redis does not answer at {REDIS_URL} (production's rate-limit store): apt-get install redis-server"
        if STRICT_TOOLS:
            pytest.fail(message)
        pytest.skip(message)
    store.flushdb()
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_PER_DEVICE": "3 per hour",
                      "RATELIMIT_PER_ADDRESS": "300 per hour"})  # fmt: skip
    yield app, store
    store.flushdb()
    store.close()
    db.dispose(app)


def _submit(phone, code: str) -> int:
    html = phone.get(f"/f/{code}", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_data(as_text=True)
    return phone.post(f"/f/{code}", data={**hidden_fields(html), **valid_answers()},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code  # fmt: skip


def test_both_counters_go_to_redis_in_one_round_trip(redis_app, dbs, monkeypatch):
    app, store = redis_app
    code = _point(dbs).code
    sends = []
    original = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command",
                        lambda self, command, *a, **k: sends.append(command) or original(self, command, *a, **k))  # fmt: skip
    script = app.test_client()  # one phone keeping its cookies
    statuses = []
    for i in range(5):
        sends.clear()
        statuses.append(_submit(script, code))
        # once connected and the script loaded (the first time): the phone's and the address's
        # counters in one round trip per submission
        assert i == 0 or len(sends) == 1, sends
    assert statuses == [200, 200, 200, 429, 429]
    keys = sorted(store.keys("*"))
    assert len(keys) == 2 and not any(b"203.0.113" in key for key in keys)  # salted hashes only
    # every counter counted, spent or not, with the window's expiry set as limits itself sets it
    assert [int(store.get(key)) for key in keys] == [5, 5]
    assert all(0 < store.ttl(key) <= 3600 for key in keys)
    assert count(dbs, Response) == 3


def test_a_redis_that_forgot_the_script_still_counts_once(redis_app, dbs):
    """After a Redis restart its script cache is empty: the pipelined call fails as a whole, limits
    loads the script, and each counter is counted once, not twice."""
    app, store = redis_app
    code = _point(dbs).code
    store.script_flush()
    assert _submit(app.test_client(), code) == 200
    assert sorted(int(store.get(key)) for key in store.keys("*")) == [1, 1]
    store.script_flush()
    assert _submit(app.test_client(), code) == 200  # a new phone, the same address
    assert sorted(int(store.get(key)) for key in store.keys("*")) == [1, 1, 2]


def test_redis_holds_no_device_cookie_value(redis_app, dbs):
    """Issue 14, finding 11: rate-limit keys held the raw device cookie."""
    app, store = redis_app
    phone = app.test_client()
    assert _submit(phone, _point(dbs).code) == 200
    cookie = phone.get_cookie("dv").value
    keys = b" ".join(store.keys("*")).decode()
    assert cookie not in keys and "203.0.113" not in keys and len(store.keys("*")) == 2


def test_stored_hashes_are_keyed_per_campaign_and_apart_from_sign_in(app, demo, dbs):
    """Issue 14, finding 10: sha256(SECRET_KEY:address:IP), one key for all records, and the same
    hash for sign-in failures, let staff and respondent networks be matched."""
    import hashlib

    from surveyapp.collect import quality
    from surveyapp.models import LoginFailure

    from .test_qr_posters import login

    point = _point(dbs)
    phone = app.test_client()
    html = phone.get(f"/f/{point.code}", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_data(as_text=True)
    phone.post(
        f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    login(app.test_client(), "ai-do", "sai")  # a failed sign-in from the test client's address
    stored = dbs.scalars(select(Response)).one()
    secret = app.config["SECRET_KEY"]
    assert stored.address_hash != hashlib.sha256(f"{secret}:address:203.0.113.9".encode()).hexdigest()
    assert stored.address_hash == quality.address_hash(secret, "203.0.113.9", stored.campaign_id)
    assert stored.address_hash != quality.address_hash(secret, "203.0.113.9", stored.campaign_id + 1)
    cookie = phone.get_cookie("dv").value
    assert stored.device_hash == quality.device_hash(secret, cookie, stored.campaign_id)
    assert stored.device_hash != quality.device_hash(secret, cookie, stored.campaign_id + 1)
    failures = {f.address_hash for f in dbs.scalars(select(LoginFailure))}
    local = {quality.address_hash(secret, "127.0.0.1", stored.campaign_id), stored.address_hash}
    assert failures and not failures & local
