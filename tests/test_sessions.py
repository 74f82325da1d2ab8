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
