"""A citizen form that looks official (issue 15, part 8): the issuing authority and an optional
emblem at its top, a first load under 30 KB, a lead-in for scale blocks, readable scale labels, an
error that is not hidden under the sticky header, and a public landing page at /."""

from __future__ import annotations

import gzip
import io
import re
import zlib

import pytest
import qrcode
from sqlalchemy import select

from surveyapp.models import Campaign, CollectionPoint, Unit

from .conftest import ARTIFACTS, csrf_token
from .helpers import valid_answers
from .test_browser import PHONE, browser, no_axe_violations  # noqa: F401 (the fixture)
from .test_qr_posters import login

KEY = "ninh-giang-2023"
FIRST_LOAD_LIMIT = 30 * 1024


def _point(dbs, unit="HDG-NGG-03") -> str:
    return dbs.scalars(select(CollectionPoint.code).join(Unit).where(Unit.code == unit)).first()


def _png(size: int = 4) -> bytes:
    """A small real PNG (a QR code image; qrcode draws it with its pure-Python writer)."""
    image = qrcode.make("CCHC", box_size=size, border=1)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def _set_issuer(client, demo, issuer: str, emblem: bytes | None = None, name: str = "emblem.png", **extra):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/settings").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "issuer": issuer, **extra}
    if emblem is not None:
        data["emblem"] = (io.BytesIO(emblem), name)
    return client.post(f"/admin/c/{KEY}/issuer", data=data, content_type="multipart/form-data",
                       follow_redirects=True)  # fmt: skip


def test_the_form_names_its_issuer_and_shows_the_emblem(app, client, demo, dbs):
    code = _point(dbs)
    phone = app.test_client()
    before = phone.get(f"/f/{code}").get_data(as_text=True)
    assert '<span class="by">Huyện Ninh Giang</span>' in before  # the campaign's scope by default
    unit = dbs.scalar(select(Unit.name).where(Unit.code == "HDG-NGG-03"))
    assert f"Phiếu khảo sát chính thức · {unit}" in before
    emblem = _png()
    done = _set_issuer(client, demo, "UBND tỉnh Hải Dương · Sở Nội vụ", emblem)
    assert "Đã lưu cơ quan ban hành phiếu." in done.get_data(as_text=True)
    after = phone.get(f"/f/{code}").get_data(as_text=True)  # the remembered poster forgets at once
    assert '<span class="by">UBND tỉnh Hải Dương · Sở Nội vụ</span>' in after
    src = re.search(r'<div class="issuer"><img src="([^"]+)"', after).group(1)
    image = phone.get(src)
    assert image.status_code == 200 and image.data == emblem and image.mimetype == "image/png"
    assert "immutable" in image.headers["Cache-Control"]
    # a new emblem is a new address; the old one is gone
    _set_issuer(client, demo, "UBND tỉnh Hải Dương · Sở Nội vụ", _png(5))
    assert phone.get(src).status_code == 404
    removed = _set_issuer(client, demo, "", remove_emblem="y")
    assert "Đã lưu" in removed.get_data(as_text=True)
    plain = phone.get(f"/f/{code}").get_data(as_text=True)
    assert '<span class="by">Huyện Ninh Giang</span>' in plain and 'class="issuer"><img' not in plain


@pytest.mark.parametrize(
    ("emblem", "name", "message"),
    [
        (b"<svg onload=alert(1)></svg>", "e.svg", "phải là tệp PNG, JPEG hoặc WebP"),
        (b"GIF89a" + b"\0" * 100, "e.png", "phải là tệp PNG, JPEG hoặc WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 13_000, "e.png", "nhỏ hơn 12 KB"),
    ],
)
def test_an_unusable_emblem_is_refused_and_nothing_changes(client, demo, dbs, emblem, name, message):
    result = _set_issuer(client, demo, "Sở Nội vụ", emblem, name)
    assert message in result.get_data(as_text=True)
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == KEY))
    dbs.refresh(campaign)
    assert campaign.issuer is None and campaign.emblem_hash is None


def test_a_too_long_issuer_is_refused(client, demo, dbs):
    assert "tối đa 300 ký tự" in _set_issuer(client, demo, "S" * 301).get_data(as_text=True)


def test_the_first_load_of_a_form_is_under_30_kb(app, client, demo, dbs):
    """What a phone downloads the first time: the page (compressed), its style and script
    (compressed), and the largest emblem an office may upload."""
    code = _point(dbs)
    _set_issuer(client, demo, "UBND tỉnh Hải Dương · Sở Nội vụ", _png())
    phone = app.test_client()
    page = phone.get(f"/f/{code}", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("Content-Encoding") == "gzip"
    html = gzip.decompress(page.data).decode()
    total = len(page.data)
    for asset in re.findall(r'(?:href|src)="(/(?:static|a)/[^"]+)"', html):
        body = phone.get(asset).data
        total += len(zlib.compress(body, 9))  # Flask-Compress or the proxy serves static files compressed
    total += 12 * 1024  # the emblem, at most
    print(f"first load: {total} bytes (limit {FIRST_LOAD_LIMIT})")
    assert total < FIRST_LOAD_LIMIT, total


def test_scale_blocks_have_a_lead_in(client, demo, dbs):
    html = client.get(f"/f/{_point(dbs)}").get_data(as_text=True)
    leads = re.findall(r'<p class="lead-in">(.*?)</p>', html)
    assert leads and "<b>1</b> (Rất không hài lòng) đến <b>5</b> (Rất hài lòng)" in leads[0]
    # one lead-in per run of scale questions, not one per question
    assert len(leads) < html.count('class="q q-scale')


def test_the_landing_page_explains_the_survey(client, demo, dbs):
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Làm thế nào để trả lời?" in text and "quét mã QR" in text
    assert "Điều tra xã hội học xác định Chỉ số CCHC cấp xã năm 2023" in text  # the open campaign
    assert 'href="/login"' in text and "/f/" not in text  # no list of forms to answer from afar


@pytest.mark.browser
def test_labels_are_readable_and_an_error_shows_below_the_header(browser, live_server, demo, dbs):  # noqa: F811
    code = _point(dbs)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/f/{code}")
    size = page.eval_on_selector(".tiles label", "el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 13, size
    no_axe_violations(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-form-top-360.png"))
    # everything but one scale answer near the end: the error is shown, scrolled below the sticky header
    fields = valid_answers()
    for name, value in fields.items():
        if name == "q_result_accuracy":
            continue
        kind = page.eval_on_selector(f'[name="{name}"]', "el => el.type || el.tagName")
        if kind in ("radio", "checkbox"):
            page.check(f'[name="{name}"][value="{value}"]')
        else:
            page.fill(f'[name="{name}"]', str(value))
    page.click("button.send")
    page.wait_for_selector(".q.err")
    page.wait_for_timeout(300)
    header = page.eval_on_selector(".top", "el => el.getBoundingClientRect().bottom")
    error = page.eval_on_selector(".q.err", "el => el.getBoundingClientRect().top")
    assert error >= header, (error, header)
    page.screenshot(path=str(ARTIFACTS / "citizen-form-error-360.png"))
    no_axe_violations(page)  # the form with an error shown
    page.check('[name="q_result_accuracy"][value="4"]')
    page.click("button.send")
    page.wait_for_selector("text=Cảm ơn ông/bà đã trả lời!")
    no_axe_violations(page)  # the thank-you page
    page.screenshot(path=str(ARTIFACTS / "citizen-thanks-360.png"))
    context.close()
