"""QR codes and posters: every code of the demo decodes (with a real decoder, zbarimg) to the exact
form URL; posters are printable pages for signed-in staff."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from surveyapp.models import CollectionPoint

from .conftest import csrf_token, need_tool


def login(client, username: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def test_every_demo_qr_png_decodes_to_its_form_url(client, demo, dbs, runner, tmp_path):
    need_tool("zbarimg", "zbar-tools")
    lines = runner.invoke(args=["links", demo.campaign_key]).output.strip().splitlines()
    assert len(lines) == 20
    for line in lines:
        unit_code, unit_name, group_code, form_url, png_url = line.split("\t")
        assert png_url.startswith("http://testserver/qr/") and form_url.startswith("http://testserver/f/")
        response = client.get(png_url.removeprefix("http://testserver"))
        assert response.status_code == 200 and response.mimetype == "image/png"
        path = tmp_path / f"{unit_code}.png"
        path.write_bytes(response.data)
        decoded = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert decoded == form_url


def test_qr_svg_is_served(client, demo, dbs):
    code = dbs.scalars(select(CollectionPoint.code)).first()
    response = client.get(f"/qr/{code}.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg") and b"<path" in response.data


def test_qr_of_unknown_code_is_404(client, demo):
    assert client.get("/qr/khongco.png").status_code == 404


def test_posters_need_a_login(client, demo):
    response = client.get(f"/admin/c/{demo.campaign_key}/posters")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused_in_vietnamese(client, demo):
    response = login(client, demo.admin_username, "sai-mat-khau")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_all_posters_print_on_one_page(client, demo, dbs):
    assert login(client, demo.admin_username, demo.admin_password).status_code == 302
    html = client.get(f"/admin/c/{demo.campaign_key}/posters").get_data(as_text=True)
    assert html.count('<article class="poster">') == 20
    assert "Xã An Đức" in html and "Thị trấn Ninh Giang" in html
    assert "Mời ông/bà cho ý kiến" in html
    for code in dbs.scalars(select(CollectionPoint.code)):
        assert f"/qr/{code}.svg" in html and f"http://testserver/f/{code}" in html


def test_one_poster_and_the_campaign_page(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    code = dbs.scalars(select(CollectionPoint.code)).first()
    html = client.get(f"/admin/p/{code}/poster").get_data(as_text=True)
    assert html.count('<article class="poster">') == 1
    page = client.get(f"/admin/c/{demo.campaign_key}/").get_data(as_text=True)
    assert "Tiến độ theo nhóm đối tượng" in page and "0/1200 phiếu" in page and "0/30 phiếu" in page


@pytest.mark.parametrize("path", ["/admin/", "/admin/c/ninh-giang-2023/", "/admin/c/ninh-giang-2023/posters"])
def test_staff_pages_redirect_anonymous_visitors(client, demo, path):
    assert client.get(path).status_code == 302
