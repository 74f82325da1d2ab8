"""One answer per dossier without knowing who the citizen is (issue 22, part 3): the form asks the
receipt's dossier code, only its HMAC under the campaign's random key is kept, a second answer
for the same dossier is refused, a unit's list of dossiers is matched for coverage without being
stored, and once the key is destroyed no stored hash matches any code."""

from __future__ import annotations

import io
import logging
import re
import secrets
import threading

import pytest
from sqlalchemy import func, select

from surveyapp.campaigns.services import campaign_by_key
from surveyapp.collect import dossier as dossiers
from surveyapp.db import Base
from surveyapp.models import Campaign, CollectionPoint, DossierClaim, RespondentGroup, Response, Unit
from surveyapp.results.services import question_columns, questionnaires, raw_rows
from surveyapp.results.workbook import raw_csv

from .conftest import PG_URL, csrf_token, hidden_fields
from .helpers import valid_answers
from .test_browser import browser  # noqa: F401 (the fixture)
from .test_qr_posters import login

KEY = "ninh-giang-2023"
CODE = "000.00.24.H23-251203-0001"


def _point(dbs, unit: str = "HDG-NGG-02") -> CollectionPoint:
    return dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == unit)).first()


@pytest.fixture
def asking(demo, dbs):
    """The citizen group asks the dossier code."""
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()
    dossiers.enable(dbs, group)
    dbs.commit()
    return group


def _send(client, point, code: str | None, **overrides):
    form = client.get(f"/f/{point.code}")
    assert form.status_code == 200 and 'name="dossier"' in form.text
    data = {**hidden_fields(form.text), **valid_answers(**overrides)}
    if code is not None:
        data["dossier"] = code
    return client.post(f"/f/{point.code}", data=data)


def _count(dbs, model, *where) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(model).where(*where))


def test_one_answer_per_dossier_however_the_code_is_typed(client, asking, dbs):
    point = _point(dbs)
    before = _count(dbs, Response)
    first = _send(client, point, " 000.00.24.h23-251203-0001 ")
    assert first.status_code == 200 and "Cảm ơn" in first.text
    again = _send(client, point, "000.00.24.H23 - 251203-0001")  # the same dossier, typed otherwise
    assert again.status_code == 409 and "Hồ sơ này đã có phiếu" in again.text
    assert _count(dbs, Response) == before + 1 and _count(dbs, DossierClaim) == 1
    other = _send(client, point, "000.00.24.H23-251203-0002")
    assert other.status_code == 200 and _count(dbs, Response) == before + 2 and _count(dbs, DossierClaim) == 2
    # the stored hash is the code's HMAC under the campaign's own random key, nothing else
    campaign = dbs.get(Campaign, asking.campaign_id)
    dbs.refresh(campaign)
    assert len(campaign.dossier_key) == 32
    assert dossiers.code_hash(campaign.dossier_key, CODE) in set(dbs.scalars(select(DossierClaim.hash)))


@pytest.mark.parametrize(("typed", "message"), [
    (None, "Vui lòng nhập mã hồ sơ"), ("   ", "Vui lòng nhập mã hồ sơ"), ("12", "Mã hồ sơ gồm chữ, số"),
    ("<script>alert(1)</script>", "Mã hồ sơ gồm chữ, số"), ("X" * 61, "Mã hồ sơ gồm chữ, số"),
])  # fmt: skip
def test_a_missing_or_malformed_code_stores_nothing(client, asking, dbs, typed, message):
    point = _point(dbs)
    before = _count(dbs, Response)
    refused = _send(client, point, typed)
    assert refused.status_code == 422 and message in refused.text and 'aria-invalid="true"' in refused.text
    assert "<script>alert(1)</script>" not in refused.text  # echoed escaped, if at all
    assert _count(dbs, Response) == before and _count(dbs, DossierClaim) == 0


def test_a_group_that_does_not_ask_refuses_a_dossier_field(client, demo, dbs):
    point = _point(dbs)
    form = client.get(f"/f/{point.code}")
    assert 'name="dossier"' not in form.text
    sent = client.post(f"/f/{point.code}", data={**hidden_fields(form.text), **valid_answers(), "dossier": CODE})
    assert sent.status_code == 400


def test_the_code_is_in_no_column_no_log_line_and_no_export(app, client, asking, dbs, caplog):
    code = "HS-ZZ-9876-QWERTY"
    point = _point(dbs)
    with caplog.at_level(logging.DEBUG):
        assert _send(client, point, code.lower()).status_code == 200
        assert _send(client, point, code).status_code == 409
    assert code not in caplog.text.upper()
    dbs.expire_all()
    seen = 0
    for table in Base.metadata.sorted_tables:
        for row in dbs.execute(select(table)):
            for value in row:
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                assert code not in text.upper(), (table.name, row)
                seen += 1
    assert seen > 500  # every value of every row of every table was looked at
    campaign = campaign_by_key(dbs, KEY)
    group = dbs.get(RespondentGroup, asking.id)
    exported = "".join(raw_csv(question_columns(questionnaires(campaign)["citizen"]), raw_rows(dbs, campaign, group)))
    assert exported.count("\n") > 1 and code not in exported.upper()


@pytest.mark.skipif(
    not PG_URL, reason="twenty transactions racing need PostgreSQL: runs in the PostgreSQL pass of .ci/run"
)
def test_twenty_phones_racing_with_one_dossier_store_one_response(app, asking, dbs):
    point = _point(dbs)
    before = _count(dbs, Response)
    phones = [app.test_client() for _ in range(20)]
    ready = []
    for phone in phones:
        form = phone.get(f"/f/{point.code}")
        ready.append({**hidden_fields(form.text), **valid_answers(), "dossier": CODE})
    start = threading.Barrier(len(phones))
    codes: list[int] = []

    def post(phone, data):
        start.wait()
        codes.append(phone.post(f"/f/{point.code}", data=data).status_code)

    threads = [threading.Thread(target=post, args=pair) for pair in zip(phones, ready, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] + [409] * 19, codes
    assert _count(dbs, Response) == before + 1 and _count(dbs, DossierClaim) == 1


def test_a_units_list_is_matched_for_coverage_and_after_the_key_is_destroyed_nothing_matches(
    app, client, asking, demo, dbs
):
    point = _point(dbs)
    answered = [f"000.00.24.H23-251203-{k:04d}" for k in range(1, 4)]
    for code in answered:
        assert _send(client, point, code).status_code == 200
    staff = app.test_client()
    login(staff, demo.admin_username, demo.admin_password)
    path = f"/admin/c/{KEY}/g/citizen/ho-so"
    page = staff.get(path)
    assert page.status_code == 200 and "Phiếu đang hỏi mã hồ sơ" in page.text
    listing = "Mã hồ sơ;Người nộp\n" + "".join(f"{c.lower()};Nguyễn Văn A\n" for c in answered)
    listing += "000.00.24.H23-251203-0009;Trần Thị B\n000.00.24.H23-251203-0010;Lê C\n??;x\n"

    def match():
        return staff.post(path, data={"csrf_token": csrf_token(staff.get(path).text), "intent": "coverage",
                                      "list": (io.BytesIO(listing.encode()), "ho-so-an-duc.csv")},
                          content_type="multipart/form-data").text  # fmt: skip

    shown = match()
    assert "<strong>3/5</strong> hồ sơ đã có phiếu (60 %)" in shown and "1 dòng không phải mã hồ sơ" in shown
    # the list is not kept anywhere: no table holds its other codes
    assert _count(dbs, DossierClaim) == 3

    # an open campaign's key cannot be destroyed
    token = csrf_token(staff.get(path).text)
    staff.post(path, data={"csrf_token": token, "intent": "destroy"})
    campaign = dbs.get(Campaign, asking.campaign_id)
    dbs.refresh(campaign)
    old_key = campaign.dossier_key
    assert old_key is not None
    stored = set(dbs.scalars(select(DossierClaim.hash)))
    assert {dossiers.code_hash(old_key, c) for c in answered} == stored

    campaign.status = "closed"
    dbs.commit()
    page = staff.get(path)
    assert "Huỷ khoá mã hồ sơ" in page.text
    staff.post(path, data={"csrf_token": csrf_token(page.text), "intent": "destroy"})
    dbs.expire_all()
    campaign = dbs.get(Campaign, asking.campaign_id)
    assert campaign.dossier_key is None and campaign.dossier_key_destroyed_at is not None
    assert dbs.scalar(select(func.count()).select_from(Campaign).where(Campaign.dossier_key.is_not(None))) == 0
    assert "Khoá đã được huỷ" in staff.get(path).text
    # the claims are still there, but no code can be matched to them any more: not by the page...
    assert "<strong>0/5</strong> hồ sơ đã có phiếu" in match()
    # ...nor by anyone trying keys: without the destroyed key, the codes' hashes are other hashes
    for _ in range(100):
        guess = secrets.token_bytes(32)
        assert not {dossiers.code_hash(guess, c) for c in answered} & stored
    assert set(dbs.scalars(select(DossierClaim.hash))) == stored
    # and a new key is never made for the closed campaign
    assert dossiers.key_of(dbs, campaign) is None


@pytest.mark.browser
def test_the_dossier_field_on_a_phone_and_the_office_page_on_a_desktop(browser, live_server, asking, demo, dbs):  # noqa: F811
    from playwright.sync_api import expect

    from .conftest import ARTIFACTS
    from .test_browser import PHONE, _answer_everything, no_axe_violations
    from .test_every_page import _sign_in

    ARTIFACTS.mkdir(exist_ok=True)
    point = _point(dbs)
    phone = browser.new_context(viewport=PHONE)
    page = phone.new_page()
    page.goto(f"{live_server}/f/{point.code}")
    expect(page.get_by_label("Mã hồ sơ")).to_be_visible()
    page.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(page)
    page.click("button.send")
    expect(page.locator("#dossier-error")).to_have_text(re.compile("Vui lòng nhập mã hồ sơ"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#f-dossier").screenshot(path=str(ARTIFACTS / "dossier-field-360.png"))
    no_axe_violations(page)
    page.fill("#dossier", CODE.lower())
    page.click("button.send")
    expect(page.get_by_role("heading", name="Cảm ơn ông/bà đã trả lời!")).to_be_visible()
    phone.close()

    desk = browser.new_context(viewport={"width": 1366, "height": 900})
    office = _sign_in(desk, live_server, demo.admin_username, demo.admin_password)
    office.goto(f"{live_server}/admin/c/{KEY}/g/citizen/ho-so")
    expect(office.get_by_role("heading", name="Mỗi hồ sơ một phiếu")).to_be_visible()
    expect(office.get_by_role("heading", name="Mã QR in trên giấy hẹn")).to_be_visible()
    office.get_by_text("Địa chỉ của từng đơn vị").click()
    office.screenshot(path=str(ARTIFACTS / "dossier-office-1366.png"), full_page=True)
    no_axe_violations(office)
    office.set_viewport_size(PHONE)
    office.screenshot(path=str(ARTIFACTS / "dossier-office-360.png"), full_page=True)
    assert office.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    desk.close()


@pytest.mark.browser
def test_the_receipts_qr_fills_the_code_and_the_server_never_sees_it(browser, live_server, asking, dbs, caplog):  # noqa: F811
    """The receipt's QR: the form's address with "#hs=<code>". The phone fills the field from it
    and drops it from the address bar; no request the server logged holds the code."""
    from playwright.sync_api import expect

    from .test_browser import PHONE, _answer_everything

    caplog.set_level(logging.DEBUG)
    point = _point(dbs)
    phone = browser.new_context(viewport=PHONE)
    page = phone.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url + " " + (r.post_data or "")))
    page.goto(f"{live_server}/f/{point.code}#hs={CODE}")
    expect(page.locator("#dossier")).to_have_value(CODE)
    assert "#" not in page.url and "hs=" not in page.url
    page.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(page)
    page.click("button.send")
    expect(page.get_by_role("heading", name="Cảm ơn ông/bà đã trả lời!")).to_be_visible()
    campaign = dbs.get(Campaign, asking.campaign_id)
    dbs.refresh(campaign)
    assert dossiers.code_hash(campaign.dossier_key, CODE) in set(dbs.scalars(select(DossierClaim.hash)))
    # the code went only in the posted form (as the typed one does), never in an address
    assert [u for u in seen if CODE in u.split(" ")[0]] == []
    assert CODE not in caplog.text and "251203" not in caplog.text
    phone.close()


def test_the_counters_tablet_asks_the_dossier_too(app, client, asking, dbs, monkeypatch):
    """On the shared tablet (/k/…) the same rule holds: one answer per dossier."""
    from datetime import UTC, datetime, timedelta

    from werkzeug.security import generate_password_hash

    from surveyapp.collect import kiosk as kiosk_mode
    from surveyapp.models import Role, User

    from .test_kiosk import _pair

    unit = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-02")).one()
    dbs.add(User(username="canboxa", password_hash=generate_password_hash("mat-khau-dai-1"), role=Role.UNIT_OFFICER,
                 unit_id=unit.id))  # fmt: skip
    dbs.commit()
    point = _point(dbs)
    _pair(app, client, dbs, point)
    before = _count(dbs, Response)
    now = [datetime.now(UTC)]
    monkeypatch.setattr(kiosk_mode, "clock", lambda: now[0])
    form = client.get(f"/k/{point.code}")
    assert 'name="dossier"' in form.text and "data-kiosk" in form.text
    data = {**hidden_fields(form.text), **valid_answers()}
    missing = client.post(f"/k/{point.code}", data=data)
    assert missing.status_code == 422 and "Vui lòng nhập mã hồ sơ" in missing.text
    assert client.post(f"/k/{point.code}", data={**data, "dossier": CODE}).status_code == 200
    now[0] += timedelta(minutes=2)
    form = client.get(f"/k/{point.code}")
    again = client.post(f"/k/{point.code}", data={**hidden_fields(form.text), **valid_answers(), "dossier": CODE})
    assert again.status_code == 409 and "Hồ sơ này đã có phiếu" in again.text
    assert _count(dbs, Response) == before + 1 and _count(dbs, DossierClaim) == 1
