"""The public forms open no session (issue 17, part 1): no session cookie is read, signed or sent
on /f/, /s/ or /i/; their CSRF value is bound to the phone's device cookie and still refuses a
missing or foreign token (surveyapp/collect/door.py)."""

from __future__ import annotations

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from surveyapp.models import CollectionPoint, Response, Unit

from .conftest import count, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login


def _code(dbs) -> str:
    return dbs.scalars(select(CollectionPoint.code).join(Unit).where(Unit.code == "HDG-NGG-05")).first()


def _cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


@pytest.fixture
def no_session_reads(monkeypatch):
    """Fails the test if a request opens (reads, checks the signature of) a session cookie."""
    opened: list[str] = []
    original = SecureCookieSessionInterface.open_session

    def spy(self, app, request):
        opened.append(request.path)
        return original(self, app, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", spy)
    return opened


def test_the_form_and_its_submission_use_no_session(app, demo, dbs, no_session_reads):
    phone = app.test_client()
    code = _code(dbs)
    page = phone.get(f"/f/{code}")
    assert [c.split("=")[0] for c in _cookies(page)] == ["dv"]  # the device cookie only
    done = phone.post(f"/f/{code}", data={**hidden_fields(page.get_data(as_text=True)), **valid_answers()})
    assert done.status_code == 200 and "Cảm ơn" in done.get_data(as_text=True) and not _cookies(done)
    assert count(dbs, Response) == 1
    # a signed-in officer who opens a poster: the staff session is neither read nor sent back
    staff = app.test_client()
    login(staff, demo.admin_username, demo.admin_password)
    no_session_reads.clear()
    seen = staff.get(f"/f/{code}")
    assert seen.status_code == 200 and not any(c.startswith("session=") for c in _cookies(seen))
    assert not [p for p in no_session_reads if p.startswith(("/f/", "/s/", "/i/"))], no_session_reads
    assert staff.get("/admin/").status_code == 200  # the staff session itself still works


def test_csrf_refuses_a_missing_or_foreign_token(app, demo, dbs):
    code = _code(dbs)
    phone, other = app.test_client(), app.test_client()
    mine = hidden_fields(phone.get(f"/f/{code}").get_data(as_text=True))
    theirs = hidden_fields(other.get(f"/f/{code}").get_data(as_text=True))
    assert mine["csrf_token"] != theirs["csrf_token"]
    missing = phone.post(f"/f/{code}", data={"submission_id": mine["submission_id"], **valid_answers()})
    foreign = phone.post(f"/f/{code}", data={**mine, "csrf_token": theirs["csrf_token"], **valid_answers()})
    forged = phone.post(f"/f/{code}", data={**mine, "csrf_token": "0" * 64, **valid_answers()})
    unicode = phone.post(f"/f/{code}", data={**mine, "csrf_token": "Đ" * 64, **valid_answers()})
    no_cookie = app.test_client().post(f"/f/{code}", data={**mine, **valid_answers()})
    for refused in (missing, foreign, forged, unicode, no_cookie):
        assert refused.status_code == 400 and "tải lại trang" in refused.get_data(as_text=True)
    assert count(dbs, Response) == 0
    assert phone.post(f"/f/{code}", data={**mine, **valid_answers()}).status_code == 200
    assert count(dbs, Response) == 1


def test_staff_forms_keep_the_session_s_csrf(app, client, demo, dbs):
    """CSRFProtect still guards every staff form: only the three public forms are exempt."""
    login(client, demo.admin_username, demo.admin_password)
    refused = client.post(f"/admin/c/{demo.campaign_key}/settings", data={"quota_full_policy": "accept"})
    assert refused.status_code == 400
