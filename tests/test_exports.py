"""Heavy exports on the job queue (issue 18, part 2): past EXPORT_QUEUE_ABOVE valid answers the
workbook and a group's full CSV are made by the real worker (RQ on the real Redis), with a
progress page and a download when ready; the file is the one the immediate export gives."""

from __future__ import annotations

import io
import re
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.models import ExportFile, RespondentGroup, Response

from .conftest import ARTIFACTS
from .test_browser import browser, no_axe_violations  # noqa: F401 (the fixture)
from .test_messaging import KEY, mail_config, queue_url, run_worker, smtp  # noqa: F401 (the fixtures)
from .test_monitoring import staff  # noqa: F401 (the fixture)
from .test_qr_posters import login

WORKBOOK = f"/admin/c/{KEY}/results.xlsx"
CSV = f"/admin/c/{KEY}/g/citizen/raw.csv"


@pytest.fixture
def answered(demo, dbs):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.5, seed=7)
    dbs.commit()
    return dbs.scalar(select(func.count(Response.id)))


def sheets(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def test_a_heavy_workbook_and_csv_are_made_by_the_worker(app, client, demo, dbs, smtp, queue_url, answered):  # noqa: F811
    """Done when (part 2): the heavy export leaves the web request, shows its progress, and the
    download is what the immediate export gives."""
    login(client, demo.admin_username, demo.admin_password)
    immediate_book, immediate_csv = client.get(WORKBOOK).data, client.get(CSV).data  # below the threshold
    assert immediate_book[:2] == b"PK" and immediate_csv.startswith("\ufeff".encode())

    app.config.update(mail_config(smtp, queue_url), EXPORT_QUEUE_ABOVE=10)
    queued = client.get(WORKBOOK)
    assert queued.status_code == 302, queued.status_code
    page_url = queued.headers["Location"]
    assert re.fullmatch(rf"/admin/c/{KEY}/tai-ve/\d+", page_url)
    assert client.get(WORKBOOK).headers["Location"] == page_url  # a second click: the same export, not two
    page = client.get(page_url).get_data(as_text=True)
    assert "Đang chờ tiến trình nền" in page and "dòng dữ liệu" in page
    progress = client.get(page_url + "/tien-do").get_json()
    assert progress == {"state": "queued", "done": 0, "total": 0, "finished": False}
    assert client.get(page_url + "/tep").status_code == 302  # nothing to download yet: back to the page
    csv_page = client.get(CSV).headers["Location"]
    assert csv_page != page_url

    run_worker(app)
    progress = client.get(page_url + "/tien-do").get_json()
    total = dbs.scalar(select(ExportFile.total).where(ExportFile.kind == "workbook"))
    assert total >= answered and progress == {"state": "done", "done": total, "total": total, "finished": True}
    page = client.get(page_url).get_data(as_text=True)
    assert "Tệp đã sẵn sàng" in page and f"diem-dieu-tra-{KEY}.xlsx" in page
    download = client.get(page_url + "/tep")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert f'filename="diem-dieu-tra-{KEY}.xlsx"' in download.headers["Content-Disposition"]
    assert sheets(download.data) == sheets(immediate_book)
    assert client.get(csv_page + "/tep").data == immediate_csv

    assert client.get(WORKBOOK).headers["Location"] != page_url  # once made, a new request makes a new file


def test_without_redis_a_heavy_export_is_made_in_the_background_of_the_process(app, client, demo, dbs, answered):
    app.config.update(REDIS_URL="", EXPORT_QUEUE_ABOVE=0)
    login(client, demo.admin_username, demo.admin_password)
    page_url = client.get(CSV).headers["Location"]
    wait_until_made(client, page_url)
    citizen = dbs.scalars(select(RespondentGroup.id).where(RespondentGroup.code == "citizen")).one()
    rows = dbs.scalar(select(func.count(Response.id)).where(Response.group_id == citizen))
    assert client.get(page_url + "/tep").data.decode("utf-8-sig").count("\n") == 1 + rows


def test_an_export_is_for_the_roles_that_may_export(app, client, demo, dbs, staff, answered):  # noqa: F811
    app.config.update(REDIS_URL="", EXPORT_QUEUE_ABOVE=0)
    login(client, *staff["scorer"])
    page_url = client.get(WORKBOOK).headers["Location"]
    login(client, *staff["unit_officer"])
    assert client.get(page_url).status_code == 403
    assert client.get(page_url + "/tep").status_code == 403
    assert client.get(f"/admin/c/{KEY}/tai-ve/999999").status_code in (403, 404)
    login(client, *staff["scorer"])
    wait_until_made(client, page_url)  # the export's thread ends with the test, not after it


def wait_until_made(client, page_url: str) -> None:
    deadline = time.monotonic() + 60
    while not client.get(page_url + "/tien-do").get_json()["finished"]:
        assert time.monotonic() < deadline, "the export did not finish in 60 s"
        time.sleep(0.2)


@pytest.mark.browser
def test_the_export_page_on_a_phone_and_a_desktop(browser, live_server, app, demo, dbs, smtp, queue_url, answered):  # noqa: F811
    from .test_every_page import _sign_in

    app.config.update(mail_config(smtp, queue_url), EXPORT_QUEUE_ABOVE=0)
    shots = ARTIFACTS / "exports"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 740}, accept_downloads=True)
    page = _sign_in(context, live_server, demo.admin_username, demo.admin_password)
    page.goto(f"{live_server}{CSV}")  # the link on the results page, followed
    page.wait_for_selector("#send-progress")
    for width in (360, 1366):
        page.set_viewport_size({"width": width, "height": 740})
        page.screenshot(path=str(shots / f"export-waiting-{width}.png"), full_page=True)
        no_axe_violations(page)
    run_worker(app)
    page.wait_for_selector("text=Tệp đã sẵn sàng", timeout=30_000)  # the page followed and reloaded
    for width in (360, 1366):
        page.set_viewport_size({"width": width, "height": 740})
        page.screenshot(path=str(shots / f"export-done-{width}.png"), full_page=True)
        no_axe_violations(page)
    with page.expect_download() as got:
        page.click("a[download]")
    assert got.value.suggested_filename == f"du-lieu-{KEY}-citizen.csv"
    context.close()
