"""Rate limits: a busy counter's shared Wi-Fi gets through; a script stuffing a point is slowed."""

from __future__ import annotations

from sqlalchemy import select, update

from surveyapp.models import CollectionPoint, Quota, Response, Unit

from .conftest import count, hidden_fields
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
