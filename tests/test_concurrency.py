"""The same submission posted at once from several threads is stored exactly once, and a quota in
stop mode is never exceeded by racing submitters. Run against PostgreSQL in CI (.ci/run)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

from sqlalchemy import select, update

from surveyapp.models import Answer, CollectionPoint, Quota, Response, Unit

from .conftest import count, hidden_fields
from .helpers import valid_answers


def _browser():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def _post(opener, url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _post_page(opener, url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def signed_in_browser(live_server: str, username: str, password: str):
    """A urllib opener holding a staff session on the live server (real HTTP, real cookies)."""
    from .conftest import csrf_token

    opener = _browser()
    with opener.open(f"{live_server}/login") as page:
        token = csrf_token(page.read().decode())
    body = urlencode({"csrf_token": token, "username": username, "password": password}).encode()
    _post_page(opener, f"{live_server}/login", body)
    return opener


def _point(dbs, unit_code="HDG-NGG-03"):
    return dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == unit_code)).first()


def _race(jobs) -> list[int]:
    barrier = threading.Barrier(len(jobs))
    results: list[int] = [0] * len(jobs)

    def run(i, job):
        barrier.wait()
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_same_submission_from_many_threads_is_stored_once(live_server, demo, dbs):
    point = _point(dbs)
    url = f"{live_server}/f/{point.code}"
    opener = _browser()
    with opener.open(url) as response:
        hidden = hidden_fields(response.read().decode("utf-8"))
    body = urlencode({**hidden, **valid_answers()}, doseq=True).encode("ascii")

    statuses = _race([lambda: _post(opener, url, body) for _ in range(12)])

    assert statuses == [200] * 12, statuses
    assert count(dbs, Response) == 1
    assert count(dbs, Answer) == len(valid_answers())
    assert (
        dbs.scalar(select(Quota.received).where(Quota.unit_id == point.unit_id, Quota.group_id == point.group_id)) == 1
    )


def test_fifty_racing_for_the_last_five_places_never_exceed_the_quota(live_server, demo, dbs):
    point = _point(dbs)
    dbs.execute(
        update(Quota)
        .where(Quota.unit_id == point.unit_id, Quota.group_id == point.group_id)
        .values(target=60, received=55)
    )
    dbs.commit()
    url = f"{live_server}/f/{point.code}"
    bodies = []
    for _ in range(50):
        opener = _browser()
        with opener.open(url) as response:
            hidden = hidden_fields(response.read().decode("utf-8"))
        bodies.append((opener, urlencode({**hidden, **valid_answers()}).encode("ascii")))

    statuses, pages = zip(*_race([lambda o=o, b=b: _post_page(o, url, b) for o, b in bodies]), strict=True)

    assert sorted(statuses) == [200] * 5 + [409] * 45, statuses
    assert count(dbs, Response) == 5
    assert all(
        "Đã đủ số phiếu cần thiết" in page for status, page in zip(statuses, pages, strict=True) if status == 409
    )
    received = dbs.scalar(
        select(Quota.received).where(Quota.unit_id == point.unit_id, Quota.group_id == point.group_id)
    )
    assert received == 60


def test_racing_reviews_of_one_response_move_its_quota_once(live_server, demo, dbs):
    """Issue 14, finding 8: ten reviewers excluding one response at once lowered the quota 3 times."""
    from surveyapp.demo.fake import fill
    from surveyapp.models import AuditEvent, Campaign

    from .conftest import csrf_token

    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    fill(dbs, campaign, share=0.1, seed=11)
    dbs.commit()
    response = dbs.scalars(select(Response).where(Response.status == "valid")).first()
    quota = select(Quota.received).where(Quota.group_id == response.group_id, Quota.unit_id == response.unit_id)
    before = dbs.scalar(quota)
    opener = signed_in_browser(live_server, demo.admin_username, demo.admin_password)
    with opener.open(f"{live_server}/admin/c/{demo.campaign_key}/quality?all=1") as page:
        token = csrf_token(page.read().decode())
    body = urlencode({"csrf_token": token, "decision": "exclude", "note": "trùng lặp"}).encode()
    url = f"{live_server}/admin/c/{demo.campaign_key}/responses/{response.id}/review"

    _race([lambda: _post(opener, url, body) for _ in range(10)])

    dbs.expire_all()
    assert dbs.get(Response, response.id).status == "excluded"
    assert dbs.scalar(quota) == before - 1
    excluded = dbs.scalars(select(AuditEvent).where(AuditEvent.action == "response.excluded")).all()
    assert len(excluded) == 1
