"""Assets fetched once (issue 17, part 3): content-hashed names cached for a year, an inlined icon
and a /favicon.ico, and a repeat visit to a form that makes exactly one request (the page)."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from surveyapp.models import CollectionPoint

from .test_browser import CHROMIUM, PHONE, browser  # noqa: F401 (the fixture)


def _code(dbs) -> str:
    return dbs.scalars(select(CollectionPoint.code)).first()


def test_assets_have_content_hashed_names_cached_for_a_year(client, demo, dbs):
    html = client.get(f"/f/{_code(dbs)}").get_data(as_text=True)
    linked = re.findall(r'(?:href|src)="(/a/[^"]+)"', html)
    assert sorted(re.sub(r"-[0-9a-f]{12}", "", a) for a in linked) == ["/a/form.css", "/a/form.js"]
    for url in linked:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert (
            response.data == client.get(url.replace("/a/", "/static/").split("-")[0] + "." + url.rsplit(".", 1)[1]).data
        )
    # an old name (another hash) is not served, nor anything outside the static folder
    stale = re.sub(r"-[0-9a-f]{12}\.", "-000000000000.", linked[0])
    assert client.get(stale).status_code == 404
    assert client.get("/a/..%2Fconfig-000000000000.css").status_code == 404


def test_no_icon_is_a_404(client, demo, dbs):
    html = client.get(f"/f/{_code(dbs)}").get_data(as_text=True)
    assert '<link rel="icon" href="data:image/svg+xml,' in html
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    staff = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="data:image/svg+xml,' in staff and "/static/" not in staff


@pytest.mark.browser
def test_a_second_visit_makes_one_request(browser, live_server, demo, dbs, caplog, tmp_path):  # noqa: F811
    """A phone that comes back another day (the browser closed and opened again on the same
    profile): counted where it matters, at the server, the requests it receives."""
    code = _code(dbs)

    def visit() -> list[str]:
        context = browser.browser_type.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, viewport=PHONE,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )  # fmt: skip
        page = context.new_page()
        page.on("response", lambda r: caching.append(r.headers.get("cache-control", "")) if "/a/" in r.url else None)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            page.goto(f"{live_server}/f/{code}")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
        page.wait_for_timeout(1500)  # the disk cache is written in the background: let it finish
        context.close()
        return [r.getMessage() for r in caplog.records if r.name == "werkzeug" and '"GET ' in r.getMessage()]

    caching: list[str] = []
    first = visit()
    assert len(first) == 3, first  # the page, its style, its script; no favicon request
    # what lets the next visit skip them (headless Chromium may skip even a no-cache file, so the
    # count alone would not tell): the browser was told they never change
    assert caching == ["public, max-age=31536000, immutable"] * 2, caching
    second = visit()
    assert len(second) == 1 and "GET /f/" in second[0], second
