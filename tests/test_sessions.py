"""Staff sessions (issue 14, findings 3 and 4): signing in never sends anyone to another site, and
logout, a password change and the session's age end a session everywhere, copied cookies included."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from surveyapp.models import Role, User

from .conftest import csrf_token
from .test_qr_posters import login

EVIL = [
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d/evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "%5C%5Cevil.example",
    "https://evil.example/",
    "http:evil.example",
    "/ /evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", EVIL)
def test_login_never_redirects_off_site(client, demo, target):
    page = client.get(f"/login?next={target}").get_data(as_text=True)
    response = client.post(
        f"/login?next={target}",
        data={"csrf_token": csrf_token(page), "username": demo.admin_username, "password": demo.admin_password},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    # read as a browser does: tabs and newlines dropped, backslashes as slashes
    seen = urlsplit(location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/"))
    assert not seen.scheme and not seen.netloc and seen.path.startswith("/") and not seen.path.startswith("//"), (
        location
    )


def test_login_returns_to_a_local_page():
    from surveyapp.auth import safe_next

    assert safe_next("/admin/c/ninh-giang-2023/results?x=1") == "/admin/c/ninh-giang-2023/results?x=1"
    assert safe_next("/\t/evil.example") is None and safe_next("/\\evil") is None and safe_next(None) is None


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _copy(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_logout_ends_a_copied_session_cookie(app, client, demo):
    login(client, demo.admin_username, demo.admin_password)
    stolen = _copy(app, _cookie(client))
    assert _signed_in(stolen)
    page = client.get("/admin/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert not _signed_in(client)
    assert not _signed_in(stolen)


def test_a_password_reset_ends_the_users_sessions(app, client, demo, dbs):
    dbs.add(
        User(
            username="nhapl",
            full_name="Nhập liệu",
            role=Role.CLERK,
            password_hash=generate_password_hash("mat-khau-cu-1"),
        )
    )
    dbs.commit()
    clerk = app.test_client()
    login(clerk, "nhapl", "mat-khau-cu-1")
    assert clerk.get("/admin/").status_code == 200
    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/users").get_data(as_text=True)
    user = dbs.scalar(select(User).where(User.username == "nhapl"))
    response = client.post(f"/admin/users/{user.id}", data={"csrf_token": csrf_token(page), "action": "password",
                                                            "password": "mat-khau-moi-2"})  # fmt: skip
    assert response.status_code == 302
    assert clerk.get("/admin/").status_code == 302
    login(clerk, "nhapl", "mat-khau-moi-2")
    assert clerk.get("/admin/").status_code == 200


def test_a_session_lasts_its_hours_from_signing_in_and_is_not_renewed(client, demo):
    login(client, demo.admin_username, demo.admin_password)
    client.get("/admin/")  # the first page after signing in stores the form token in the session
    response = client.get("/admin/")
    assert response.status_code == 200
    assert not any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie")), "not re-issued"
    with client.session_transaction() as sess:
        sess["at"] = int(time.time()) - 8 * 3600 - 5
    assert not _signed_in(client)


def _try(client, username: str, password: str, address: str):
    page = client.get("/login", environ_overrides={"REMOTE_ADDR": address}).get_data(as_text=True)
    return client.post("/login", data={"csrf_token": csrf_token(page), "username": username, "password": password},
                       environ_overrides={"REMOTE_ADDR": address})  # fmt: skip


def test_wrong_guesses_elsewhere_never_lock_out_the_right_password(app, demo):
    """Issue 14, finding 9: five wrong passwords from anywhere locked the account for 15 minutes."""
    attacker, user = app.test_client(), app.test_client()
    for _ in range(5):
        assert _try(attacker, demo.admin_username, "sai", "203.0.113.7").status_code == 401
    assert _try(attacker, demo.admin_username, "sai", "203.0.113.7").status_code == 429
    assert _try(user, demo.admin_username, demo.admin_password, "198.51.100.2").status_code == 302


def test_an_account_under_attack_gives_each_failing_address_one_try(app, demo):
    attacker = app.test_client()
    for i in range(20):
        assert _try(attacker, demo.admin_username, "sai", f"203.0.113.{i}").status_code == 401
    # a new address that guesses wrong gets one check, then waits
    assert _try(attacker, demo.admin_username, "sai", "203.0.113.200").status_code == 401
    assert _try(attacker, demo.admin_username, "sai", "203.0.113.200").status_code == 429
    assert _try(attacker, demo.admin_username, demo.admin_password, "203.0.113.200").status_code == 429
    # the real user, from an address that never failed, signs in
    assert _try(app.test_client(), demo.admin_username, demo.admin_password, "198.51.100.2").status_code == 302


def test_racing_attempts_get_no_more_password_checks_than_allowed(app, live_server, demo, monkeypatch):
    """30 parallel tries got 7 password checks, not 5."""
    import threading
    from urllib.parse import urlencode

    from surveyapp import auth

    from .test_concurrency import _browser, _post, _race

    checks = []
    lock = threading.Lock()
    real = auth.check_password_hash

    def counted(hashed, password):
        with lock:
            checks.append(1)
        return real(hashed, password)

    monkeypatch.setattr(auth, "check_password_hash", counted)
    jobs = []
    for _ in range(30):
        opener = _browser()
        with opener.open(f"{live_server}/login") as page:
            token = csrf_token(page.read().decode())
        body = urlencode({"csrf_token": token, "username": demo.admin_username, "password": "sai"}).encode()
        jobs.append(lambda o=opener, b=body: _post(o, f"{live_server}/login", b))
    statuses = _race(jobs)
    assert len(checks) <= 5, len(checks)
    assert statuses.count(401) == len(checks) and statuses.count(429) == 30 - len(checks)


def test_an_unknown_name_is_checked_like_a_wrong_password(client, demo, monkeypatch):
    """Existing users answered in 310–430 ms, unknown ones in 20–180 ms: a hash is checked either way."""
    from surveyapp import auth

    calls = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    assert _try(client, "khong-co-ai", "sai", "192.0.2.9").status_code == 401
    assert _try(client, demo.admin_username, "sai", "192.0.2.9").status_code == 401
    assert len(calls) == 2 and calls[0] != calls[1] and all(h.startswith(("scrypt:", "pbkdf2:")) for h in calls)
