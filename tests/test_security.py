"""Security review as tests: headers, cookies, CSRF on every state change, no raw address stored,
no secret in logs, formulas neutralised in every export."""

from __future__ import annotations

import io
import logging

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from surveyapp import create_app
from surveyapp.db import Base, db
from surveyapp.invitations.services import Person, add_invitations
from surveyapp.models import RespondentGroup, Unit

from .conftest import csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login

FORMULA = '=HYPERLINK("http://x","bấm")'


def test_security_headers_on_every_kind_of_page(client, demo, dbs):
    code = dbs.execute(text("SELECT code FROM collection_point LIMIT 1")).scalar()
    for path in (f"/f/{code}", "/login", "/f/khongco", "/static/form.css", "/api/openapi.json"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "default-src 'self'" in headers["Content-Security-Policy"], path
        assert headers["Referrer-Policy"] == "same-origin", path


def test_production_cookies_are_secure_and_https_is_pinned(monkeypatch, database_url):
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    app = create_app({"DATABASE_URL": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert "max-age" in app.test_client().get("/login").headers["Strict-Transport-Security"]
    db.dispose(app)


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    from surveyapp.config import ConfigError

    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app()


#: posts whose proof is the unguessable code in their address, not a form token: a mail program's
#: one-click unsubscribe (RFC 8058) posts without any page of ours (tests/test_messaging.py)
BEARER_POSTS = {"messaging.opt_out"}
#: posts whose proof is the provider's signature of the body (messaging/returns.py): refused without it
SIGNED_POSTS = {"messaging.zalo_hook"}


def test_every_state_change_needs_a_csrf_token(app, client, demo):
    login(client, demo.admin_username, demo.admin_password)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.endpoint in SIGNED_POSTS:
            path = app.url_map.bind("localhost").build(rule.endpoint, {})
            assert client.post(path, data={"anything": "1"}).status_code in (400, 403)
            assert client.post(path, json={"app_id": "", "timestamp": "1"}).status_code == 403
            continue
        if rule.endpoint in BEARER_POSTS:
            assert client.post(app.url_map.bind("localhost").build(rule.endpoint, {"code": "x" * 22}),
                               data={"anything": "1"}).status_code == 404  # fmt: skip
            continue
        values = {arg: "x" for arg in rule.arguments}
        values.update({k: 1 for k in rule.arguments if k.endswith("_id")})
        path = app.url_map.bind("localhost").build(rule.endpoint, values)
        response = client.post(path, data={"anything": "1"})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert "Phiên trả lời đã hết hạn" in response.get_data(as_text=True)
        checked += 1
    assert checked >= 20


def test_no_raw_address_is_stored(client, demo, dbs):
    code = dbs.execute(text("SELECT code FROM collection_point LIMIT 1")).scalar()
    html = client.get(f"/f/{code}").get_data(as_text=True)
    client.post(f"/f/{code}", data={**hidden_fields(html), **valid_answers()})
    login(client, demo.admin_username, "sai-mat-khau")
    for table in Base.metadata.sorted_tables:
        for row in dbs.execute(table.select()):
            assert not any("127.0.0.1" in str(v) for v in row), table.name


def test_no_secret_or_password_in_logs(app, client, demo, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, demo.admin_username, demo.admin_password)
    client.get("/admin/")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert demo.admin_password not in logged and app.config["SECRET_KEY"] not in logged


def test_formulas_are_neutralised_in_every_export(client, demo, dbs, runner):
    unit = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-02")).one()
    unit.name = FORMULA
    hdnd = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    add_invitations(dbs, hdnd, [Person(FORMULA, "+84 chức vụ", unit, "-1", "")])
    dbs.commit()
    code = dbs.execute(
        text("SELECT cp.code FROM collection_point cp JOIN unit u ON u.id = cp.unit_id WHERE u.code = 'HDG-NGG-02'")
    ).scalar()
    html = client.get(f"/f/{code}").get_data(as_text=True)
    client.post(f"/f/{code}", data={**hidden_fields(html), **valid_answers(suggestion="@SUM(1)")})
    login(client, demo.admin_username, demo.admin_password)
    token = csrf_token(client.get("/admin/users").get_data(as_text=True))
    client.post("/admin/users", data={"csrf_token": token, "username": "nguoi.moi", "password": "p" * 12, "role": "scorer",
                                      "full_name": FORMULA})  # fmt: skip

    for path in ("/admin/c/ninh-giang-2023/dashboard.xlsx", "/admin/c/ninh-giang-2023/plan.xlsx",
                 "/admin/c/ninh-giang-2023/g/hdnd/links.xlsx", "/admin/c/ninh-giang-2023/results.xlsx"):  # fmt: skip
        book = load_workbook(io.BytesIO(client.get(path).data))
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        risky = [c for c in cells if c.value[:1] in "=+-@"]
        assert risky and all(c.data_type == "s" for c in risky), path
    for path in (
        "/admin/c/ninh-giang-2023/g/hdnd/links.csv",
        "/admin/c/ninh-giang-2023/g/citizen/raw.csv",
        "/admin/audit.csv",
    ):
        text_ = client.get(path).data.decode("utf-8-sig")
        for line in text_.splitlines()[1:]:
            for cell in line.split(","):
                assert cell.strip('"')[:1] not in ("=", "+", "-", "@"), (path, cell)
