"""The one-tap rating in a real headless Chromium (issue 22, part 2): on a 360 px phone a tap on
each face sends the rating, "Góp ý thêm" opens the whole questionnaire with the rating filled in;
on a 1280 px counter tablet the faces stand in one row and the tablet goes back to them by
itself. Screenshots in tests/artifacts, axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.collect import kiosk as kiosk_mode
from surveyapp.models import Answer, Response

from .conftest import ARTIFACTS
from .test_browser import _answer_everything, browser, no_axe_violations  # noqa: F401 (the fixture)
from .test_quick_rating import QUICK, _point, rating  # noqa: F401 (the fixture)

PHONE = {"width": 360, "height": 740}
TABLET = {"width": 1280, "height": 800}


def _tap(page, qid: str, level: int) -> None:
    page.locator(f"#f-q_{qid} label.face").nth(level - 1).click()


def _latest(dbs) -> Response:
    dbs.expire_all()
    return dbs.scalars(select(Response).order_by(Response.id.desc())).first()


def _answers(dbs, response: Response) -> dict:
    dbs.expire_all()
    return dict(
        dbs.execute(select(Answer.question_id, Answer.value_num).where(Answer.response_id == response.id)).all()
    )


@pytest.mark.browser
def test_one_tap_on_a_phone_then_tell_us_more(browser, live_server, rating, dbs):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    point = _point(dbs)
    phone = browser.new_context(viewport=PHONE)
    page = phone.new_page()
    page.goto(f"{live_server}/f/{point.code}")
    expect(page.locator("label.face")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "quick-rating-360.png"), full_page=True)
    no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    before = getattr(_latest(dbs), "id", 0)

    _tap(page, QUICK[0], 5)
    assert getattr(_latest(dbs), "id", 0) == before  # one of two answered: nothing sent yet
    _tap(page, QUICK[1], 4)  # the last face sends the rating
    expect(page.get_by_role("heading", name="Cảm ơn ông/bà đã trả lời!")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "quick-thanks-360.png"), full_page=True)
    no_axe_violations(page)
    rated = _latest(dbs)
    assert rated.id != before and _answers(dbs, rated) == {QUICK[0]: 5.0, QUICK[1]: 4.0}

    page.get_by_role("button", name="Góp ý thêm").click()
    expect(page.locator('input[name="q_procedure_field"]').first).to_be_visible()
    assert page.is_checked(f'input[name="q_{QUICK[0]}"][value="5"]')
    page.screenshot(path=str(ARTIFACTS / "quick-more-360.png"))
    no_axe_violations(page)
    page.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(page, level="3")
    page.click("button.send")
    expect(page.get_by_role("heading", name="Cảm ơn ông/bà đã trả lời!")).to_be_visible()
    stored = _answers(dbs, rated)
    assert stored[QUICK[0]] == 5.0 and stored[QUICK[1]] == 4.0 and stored["access_seating"] == 3.0
    assert _latest(dbs).id == rated.id  # the same response, told more of
    phone.close()

    # without scripts: the faces are radio buttons and "Gửi đánh giá" sends them
    plain = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = plain.new_page()
    page.goto(f"{live_server}/f/{point.code}")
    _tap(page, QUICK[0], 2)
    _tap(page, QUICK[1], 3)
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("heading", name="Cảm ơn ông/bà đã trả lời!")).to_be_visible()
    assert _answers(dbs, _latest(dbs)) == {QUICK[0]: 2.0, QUICK[1]: 3.0}
    plain.close()


@pytest.mark.browser
def test_one_tap_on_the_counter_tablet(browser, live_server, app, rating, dbs):  # noqa: F811
    point = _point(dbs)
    with app.app_context():
        _kiosk, code = kiosk_mode.new_pairing(dbs, point, None)
        dbs.commit()
    tablet = browser.new_context(viewport=TABLET)
    screen = tablet.new_page()
    screen.goto(f"{live_server}/k/{point.code}")
    screen.fill("#pairing", code)
    screen.get_by_role("button", name="Ghép nối").click()
    expect(screen.locator("label.face")).to_have_count(10)
    boxes = [screen.locator(f"#f-q_{QUICK[0]} label.face").nth(i).bounding_box() for i in range(5)]
    assert len({round(b["y"]) for b in boxes}) == 1 and boxes[0]["height"] >= 120  # one row of large faces
    screen.screenshot(path=str(ARTIFACTS / "quick-kiosk-1280.png"), full_page=True)
    no_axe_violations(screen)
    _tap(screen, QUICK[0], 1)
    _tap(screen, QUICK[1], 2)
    expect(screen.get_by_role("button", name="Góp ý thêm")).to_be_visible()
    screen.screenshot(path=str(ARTIFACTS / "quick-kiosk-thanks-1280.png"), full_page=True)
    no_axe_violations(screen)
    assert _answers(dbs, _latest(dbs)) == {QUICK[0]: 1.0, QUICK[1]: 2.0}
    # the next citizen finds the faces again, none chosen
    expect(screen.locator("label.face")).to_have_count(10, timeout=20_000)
    assert screen.locator("input:checked").count() == 0
    tablet.close()
