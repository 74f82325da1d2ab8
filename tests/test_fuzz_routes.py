"""Every page and every form of the product, public and staff, fed NUL bytes, over-long strings and
odd Unicode in each field and path segment (issue 14): never a server error, nothing half-written."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from surveyapp.models import Answer, Invitation, Response, Unit

from .forms import form_fields, post_forms
from .test_qr_posters import login

NASTY = [
    "\x00", "a\x00b", "%00", "x" * 5000, "Đ" * 400, "\u202etxt.exe", "e\u0301\u0301\u0301", "\U0001f600" * 50,
    "\ufeff", "\u200b\u200c\u200d", "'; DROP TABLE unit; --", "<script>alert(1)</script>", "../../etc/passwd",
    "=HYPERLINK(\"http://x\")", "-1", "1e308", "NaN", " ", "", "\n\n", "０１２", "٣", "²", "9" * 40,
]  # fmt: skip
VALUES = st.one_of(st.sampled_from(NASTY), st.text(max_size=300))
#: pages whose GET changes nothing and whose forms are worth filling in
SKIP_ENDPOINTS = {"static", "auth.logout"}


def _pages(app) -> list[tuple[str, list[str], set[str]]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        out.append((rule.rule, sorted(rule.arguments), set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return sorted(out)


def _fill(rule: str, arguments: list[str], value: str, real: dict[str, str]) -> str:
    path = rule
    for name in arguments:
        chosen = real.get(name, value)
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", quote(chosen, safe=""), path)
    return path


@pytest.fixture
def signed_in(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    unit = dbs.scalars(select(Unit.code).where(Unit.code == "HDG-NGG-05")).one()
    return client, {"key": demo.campaign_key, "group_code": "citizen", "code": unit, "unit_code": unit}


def _counts(dbs) -> tuple[int, int, int]:
    dbs.expire_all()
    return (dbs.scalar(select(func.count()).select_from(Response)), dbs.scalar(select(func.count()).select_from(Answer)),
            dbs.scalar(select(func.count()).select_from(Invitation)))  # fmt: skip


def test_every_path_segment_takes_anything(signed_in, app, dbs):
    client, _real = signed_in
    for rule, arguments, methods in _pages(app):
        if "GET" not in methods or not arguments:
            continue
        for value in NASTY:
            response = client.get(_fill(rule, arguments, value, {}))
            assert response.status_code < 500, (rule, value, response.status_code)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES, pick=st.integers(0, 10_000))
def test_every_form_field_takes_anything(signed_in, app, dbs, value, pick):
    """Each staff page's forms, as the page shows them, with one field (chosen at random) replaced."""
    client, real = signed_in
    before = _counts(dbs)
    for rule, arguments, methods in _pages(app):
        if "GET" not in methods or rule.startswith("/api") or ".xlsx" in rule or ".csv" in rule:
            continue
        for target, form_html in post_forms(client, _fill(rule, arguments, "", real)):
            if target.endswith(("/logout", "/discard", "/publish")) or "/status" in target:
                continue
            fields = form_fields(form_html)
            if not fields:
                continue
            names = sorted({n for n, _v in fields if n != "csrf_token"})
            if not names:
                continue
            name = names[pick % len(names)]
            data = [(n, value if n == name else v) for n, v in fields]
            response = client.post(target, data=MultiDict(data))
            assert response.status_code < 500, (target, name, value, response.status_code)
    after = _counts(dbs)
    assert after[0] == before[0] and after[1] == before[1], "a staff form stored or dropped answers"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES, pick=st.integers(0, 10_000))
def test_the_citizen_form_takes_anything_in_any_field(app, demo, dbs, value, pick):
    """The public form, each field in turn fed anything: a message or a whole response, never a
    server error nor a response with some of its answers."""
    from surveyapp.models import CollectionPoint

    from .conftest import hidden_fields
    from .helpers import valid_answers

    code = dbs.scalars(select(CollectionPoint.code).join(Unit).where(Unit.code == "HDG-NGG-07")).first()
    phone = app.test_client()
    html = phone.get(f"/f/{code}").get_data(as_text=True)
    answers = valid_answers()
    names = sorted(answers)
    name = names[pick % len(names)]
    before = _counts(dbs)
    response = phone.post(f"/f/{code}", data={**hidden_fields(html), **answers, name: value})
    assert response.status_code < 500, (name, value, response.status_code)
    after = _counts(dbs)
    if after[0] > before[0]:  # stored: whole
        newest = dbs.scalar(select(Response.id).order_by(Response.id.desc()))
        stored = dbs.scalar(select(func.count()).select_from(Answer).where(Answer.response_id == newest))
        assert stored >= len(answers) - 1, (name, value)
    else:
        assert after[1] == before[1]
