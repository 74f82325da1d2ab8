"""Junk posted to every staff form (issue 15, part 9): for each form a staff page shows, each field
whose value is constrained (a choice, a number, a hidden reference, a length) is sent a value it
cannot take: never a server error, a Vietnamese message on the page the browser lands on, and
nothing in the database changed."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from surveyapp.db import Base
from surveyapp.models import Unit

from .forms import form_controls, form_fields, post_forms
from .test_qr_posters import login

#: forms whose post is not a change to check here (signing out) or whose field is a free text
SKIP_TARGETS = ("/logout",)
#: Vietnamese letters with diacritics: a message in Vietnamese has some
VIETNAMESE = re.compile(r"[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.I)
MESSAGE = re.compile(r'class="(?:alert|msg)[" ]|role="alert"|class="notice')


def _snapshot(dbs) -> str:
    """Every row of every table, hashed: equal snapshots, nothing changed."""
    dbs.expire_all()
    digest = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        for row in dbs.execute(select(table).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _junk(control: dict) -> str | None:
    """A value ``control`` cannot take, or None when any text is a possible answer."""
    kind = control["kind"]
    if control["name"] == "csrf_token" or kind in ("submit", "button", "checkbox", "file"):
        return None
    if kind in ("select", "radio"):
        return "khong-co-lua-chon-nay"
    if kind == "number":
        return "mười hai"
    if kind == "hidden":
        return "☃không-hợp-lệ"
    if control.get("maxlength"):
        return "x" * (int(control["maxlength"]) + 1)
    return None


def _staff_pages(app, key: str, unit: str) -> list[str]:
    pages = []
    real = {"key": key, "group_code": "citizen", "code": unit, "unit_code": unit}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/admin") or re.search(r"\.(csv|xlsx|svg|png)|<fmt>",
                                                                                         rule.rule):  # fmt: skip
            continue
        path = rule.rule
        for name in rule.arguments:
            if name not in real:
                path = None
                break
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", real[name], path)
        if path:
            pages.append(path)
    pages += [f"/admin/c/{key}/g/hdnd/", f"/admin/c/{key}/g/citizen/entry?unit={unit}"]
    return sorted(set(pages))


def test_junk_in_every_staff_form_is_refused_in_vietnamese_and_changes_nothing(client, app, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    unit = dbs.scalars(select(Unit.code).where(Unit.code == "HDG-NGG-05")).one()
    tried, problems = 0, []
    for path in _staff_pages(app, demo.campaign_key, unit):
        for target, form_html in post_forms(client, path):
            if target.endswith(SKIP_TARGETS):
                continue
            fields = form_fields(form_html)
            controls = form_controls(form_html)
            # as a browser sends it: with the first button's name and value (Enter, or the main button)
            button = next(([(c["name"], c["value"])] for c in controls if c["kind"] == "submit"), [])
            for control in controls:
                junk = _junk(control)
                if junk is None:
                    continue
                data = [(n, v) for n, v in fields if n != control["name"]] + [(control["name"], junk)] + button
                before = _snapshot(dbs)
                response = client.post(target, data=MultiDict(data), follow_redirects=True)
                tried += 1
                text = response.get_data(as_text=True)
                where = (path, target, control["name"])
                if response.status_code >= 500:
                    problems.append((*where, "server error"))
                elif not (MESSAGE.search(text) and VIETNAMESE.search(text)):
                    problems.append((*where, f"no Vietnamese message ({response.status_code})"))
                if _snapshot(dbs) != before:
                    problems.append((*where, "changed the database"))
    print(f"{tried} junk posts")
    assert tried > 40, tried
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("value", ["9" * 40, "²", "٣", "-1", "1e3"])
def test_a_unit_s_frame_size_takes_whole_numbers_only(client, demo, dbs, value):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/units/HDG-NGG-05").get_data(as_text=True)
    fields = dict(form_fields(page[page.index('<form method="post"') :]))
    before = _snapshot(dbs)
    response = client.post("/admin/units/HDG-NGG-05", data={**fields, "frame_size": value})
    assert response.status_code == 422 and "Số hồ sơ phải là số nguyên không âm" in response.get_data(as_text=True)
    assert _snapshot(dbs) == before


@pytest.mark.parametrize("value", ["²", "٣", "9" * 40])
def test_paper_numbers_and_codes_take_ascii_digits_only(client, demo, dbs, value):
    login(client, demo.admin_username, demo.admin_password)
    paper = client.get(f"/admin/c/{demo.campaign_key}/g/citizen/paper", query_string={"copies": value, "start": value})
    assert paper.status_code == 200 and "Số bản phải từ 1 đến 200" in paper.get_data(as_text=True)
    entry = client.get(f"/admin/c/{demo.campaign_key}/g/citizen/entry?unit=HDG-NGG-05").get_data(as_text=True)
    fields = dict(form_fields(entry[entry.index('<form method="post"') :]))
    response = client.post(f"/admin/c/{demo.campaign_key}/g/citizen/entry",
                           data={**fields, "paper_number": "X-1", "q_procedure_field": value})  # fmt: skip
    assert response.status_code == 422 and "không có trong câu này" in response.get_data(as_text=True)
