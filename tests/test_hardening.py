"""Findings of the attacker's probe (issue 14) that are not about sessions or anonymity: a NUL byte
anywhere is a Vietnamese message and nothing stored, confidential pages are never cached."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.models import CollectionPoint, Response, Unit

from .conftest import count, csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login


def _point(dbs) -> str:
    return dbs.scalars(select(CollectionPoint.code).join(Unit).where(Unit.code == "HDG-NGG-05")).first()


@pytest.mark.parametrize("where", ["suggestion", "visits", "procedure_field"])
def test_a_nul_byte_in_an_answer_is_explained_and_nothing_stored(client, demo, dbs, where):
    url = f"/f/{_point(dbs)}"
    page = client.get(url).get_data(as_text=True)
    answers = valid_answers(**{where: "Tốt\x00lắm" if where == "suggestion" else "1\x00"})
    response = client.post(url, data={**hidden_fields(page), **answers})
    assert response.status_code == 400
    assert "ký tự không in được" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


@pytest.mark.parametrize(
    "path",
    ["/f/abc%00def", "/qr/%00.png", "/s/%00", "/i/abc%00", "/admin/c/ninh-giang-2023/progress?unit=%00",
     "/login?next=/%00"],
)  # fmt: skip
def test_a_nul_byte_in_a_path_or_query_is_explained(client, demo, path):
    login(client, demo.admin_username, demo.admin_password)
    response = client.get(path)
    assert response.status_code == 400 and "ký tự không in được" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_login_name_is_explained(client, demo):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": csrf_token(page), "username": "ad\x00min", "password": "x"})
    assert response.status_code == 400 and "ký tự không in được" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_multipart_field_is_explained_but_files_may_hold_any_byte(client, demo):
    import io

    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/units").get_data(as_text=True)
    response = client.post(
        "/admin/units/preview",
        data={"csrf_token": csrf_token(page), "note": "a\x00b", "units": (io.BytesIO(b"code,name\n"), "u.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    response = client.post(
        "/admin/units/preview",
        data={"csrf_token": csrf_token(page), "units": (io.BytesIO(b"PK\x03\x04\x00\x00rubbish"), "u.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422  # read as a file and explained, not refused for its bytes


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/c/ninh-giang-2023/results", "/admin/c/ninh-giang-2023/results.xlsx",
     "/admin/c/ninh-giang-2023/g/citizen/raw.csv", "/admin/audit", "/admin/audit.csv", "/admin/questionnaires"],
)  # fmt: skip
def test_confidential_pages_and_exports_are_never_cached(client, demo, path):
    login(client, demo.admin_username, demo.admin_password)
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == "no-store"
