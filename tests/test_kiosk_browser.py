"""The counter's shared tablet in a real headless Chromium (issue 22, part 1): the officer pairs
it, citizen 1 answers, citizen 2 finds a blank form, a half-answered form left alone is gone
after the idle time and never stored; the pages at 360 px and on a 1280 px tablet, with axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from surveyapp.models import CollectionPoint, Response, Unit

from .conftest import ARTIFACTS
from .test_browser import _answer_everything, browser, no_axe_violations  # noqa: F401 (the fixture)
from .test_every_page import _sign_in

TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
IDLE = 8  # seconds: the test's idle time (90 by default)


def _stored(dbs, point) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(Response).where(Response.collection_point_id == point.id))


@pytest.mark.browser
def test_a_kiosk_serves_one_citizen_after_another_and_forgets_the_abandoned(browser, live_server, app, demo, dbs):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    app.config["KIOSK_IDLE_SECONDS"] = IDLE
    point = dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == "HDG-NGG-02")).first()

    # the officer, at their desk, makes a pairing code
    office = browser.new_context(viewport=DESKTOP)
    desk = _sign_in(office, live_server, demo.admin_username, demo.admin_password)
    desk.goto(f"{live_server}/admin/p/{point.code}/kiosk")
    desk.get_by_role("button", name="Tạo mã ghép nối").click()
    shown = desk.locator(".pairing-code strong")
    expect(shown).to_be_visible()
    code = shown.inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", code)
    desk.screenshot(path=str(ARTIFACTS / "kiosk-officer-1366.png"), full_page=True)
    no_axe_violations(desk)
    desk.set_viewport_size(PHONE)
    desk.screenshot(path=str(ARTIFACTS / "kiosk-officer-360.png"), full_page=True)
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # the tablet on the counter types it
    tablet = browser.new_context(viewport=TABLET)
    screen = tablet.new_page()
    screen.goto(f"{live_server}/k/{point.code}")
    expect(screen.get_by_role("heading", name="Ghép nối máy tính bảng lấy ý kiến")).to_be_visible()
    screen.screenshot(path=str(ARTIFACTS / "kiosk-pair-1280.png"), full_page=True)
    no_axe_violations(screen)
    screen.fill("#pairing", code)
    screen.get_by_role("button", name="Ghép nối").click()
    expect(screen.locator("#survey")).to_be_visible()
    before = _stored(dbs, point)

    screen.screenshot(path=str(ARTIFACTS / "kiosk-form-1280.png"))
    no_axe_violations(screen)  # a blank form waits as long as it takes: it is never reset
    screen.wait_for_timeout((IDLE + 1) * 1000)
    expect(screen.locator("#survey")).to_be_visible()

    # citizen 1 answers (within the idle time: this short one only the test has)
    screen.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(screen, level="4")
    screen.click("button.send")  # at once: on a busy machine a pause could pass the test's short idle time
    expect(screen.get_by_role("heading", name="Cảm ơn ông/bà đã trả lời!")).to_be_visible()
    screen.screenshot(path=str(ARTIFACTS / "kiosk-thanks-1280.png"))
    no_axe_violations(screen)
    assert _stored(dbs, point) == before + 1

    # citizen 2: the tablet goes back by itself to a blank form, nothing of citizen 1 in it
    expect(screen.locator("#survey")).to_be_visible(timeout=20_000)
    assert screen.locator("input:checked").count() == 0
    assert screen.input_value('textarea[name="q_suggestion"]') == ""
    assert screen.evaluate("Object.keys(localStorage).filter(k => k.startsWith('surveyapp.'))") == []

    # citizen 2 answers half and walks away: after the idle time the form is blank again, nothing stored
    screen.check('input[name="q_procedure_field"][value="land"]')
    screen.fill('textarea[name="q_suggestion"]', "Tôi bỏ dở phiếu này")
    assert screen.locator("input:checked").count() == 1
    first_id = screen.input_value('input[name="submission_id"]')
    expect(screen.locator("input:checked")).to_have_count(0, timeout=(IDLE + 10) * 1000)
    expect(screen.locator("#survey")).to_be_visible()
    assert screen.input_value('textarea[name="q_suggestion"]') == ""
    assert screen.input_value('input[name="submission_id"]') != first_id
    assert screen.evaluate("Object.keys(localStorage).filter(k => k.startsWith('surveyapp.'))") == []
    # the browser's back button does not bring the abandoned answers back either (no-store)
    assert _stored(dbs, point) == before + 1

    # on a 360 px phone-sized screen the kiosk form still fits
    screen.set_viewport_size(PHONE)
    screen.screenshot(path=str(ARTIFACTS / "kiosk-form-360.png"))
    assert screen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    office.close()
    tablet.close()
