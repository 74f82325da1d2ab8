"""The citizen's path in a real headless Chromium on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from surveyapp.models import (
    Answer,
    CollectionPoint,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    Unit,
)

from .conftest import ARTIFACTS, count, need_tool

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def browser():
    need_tool(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def no_axe_violations(page) -> None:
    """axe-core on the page as it is now: no violation of any impact."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    found = [(v["id"], v["help"], len(v["nodes"])) for v in result.response["violations"]]
    assert not found, f"{page.url}: {found}"


def _point(dbs, unit_code="HDG-NGG-05"):
    return dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == unit_code)).first()


def _answer_everything(page, level: str = "5") -> None:
    page.check('input[name="q_procedure_field"][value="land"]')
    page.check('input[name="q_respondent_kind"][value="person"]')
    page.check('input[name="q_submit_channel"][value="counter"]')
    page.fill('input[name="q_visits"]', "2")
    for name in page.eval_on_selector_all(".q-scale:not(.hid)", "els => els.map(e => e.id.slice(2))"):
        page.check(f'input[name="{name}"][value="{level}"]')
    page.check('input[name="q_unofficial_payment"][value="no"]')
    page.check('input[name="q_gave_feedback"][value="no"]')
    page.fill('textarea[name="q_suggestion"]', "Cán bộ nhiệt tình, nên thêm ghế chờ.")


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_citizen_answers_on_a_phone(browser, live_server, demo, dbs, javascript):
    point = _point(dbs)
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{live_server}/f/{point.code}")
    assert page.title() == "Phiếu khảo sát sự hài lòng của người dân, tổ chức"
    # nothing overflows sideways on a 360 px screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.check('input[name="q_on_time"][value="no"]')
    if javascript:
        assert page.is_visible("#f-q_apology_letter")
        page.check('input[name="q_on_time"][value="yes"]')
        assert not page.is_visible("#f-q_apology_letter")
        assert page.is_visible("#f-q_feedback_channels")
        assert not page.is_visible("#f-q_feedback_handling")
    else:
        page.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(page)
    if javascript:
        assert page.inner_text("#count") == "Đã trả lời 22/22"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"citizen-form-360-{'js' if javascript else 'nojs'}.png"), full_page=True)

    page.click("button.send")
    page.wait_for_selector("text=Cảm ơn ông/bà đã trả lời!")
    page.screenshot(path=str(ARTIFACTS / f"citizen-thanks-360-{'js' if javascript else 'nojs'}.png"))
    context.close()

    stored = dbs.scalars(select(Response)).one()
    assert dbs.get(Unit, stored.unit_id).code == "HDG-NGG-05"
    assert dbs.get(RespondentGroup, stored.group_id).code == "citizen"
    version = dbs.get(QuestionnaireVersion, stored.questionnaire_version_id)
    assert (version.code, version.version) == ("citizen_counter", 1)
    values = {a.question_id: a for a in dbs.scalars(select(Answer).where(Answer.response_id == stored.id))}
    assert values["procedure_field"].value_code == "land"
    assert values["visits"].value_num == 2.0
    assert values["overall_satisfaction"].value_num == 5.0
    assert "feedback_handling" not in values


@pytest.mark.browser
def test_missing_answer_is_marked_beside_the_question(browser, live_server, demo, dbs):
    point = _point(dbs)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/f/{point.code}")
    page.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(page)
    page.evaluate("document.querySelectorAll('input[name=q_result_time]').forEach(e => e.checked = false)")
    page.click("button.send")
    page.wait_for_selector("#f-q_result_time .msg")
    assert page.inner_text("#f-q_result_time .msg") == "Vui lòng trả lời câu này."
    assert page.evaluate("document.getElementById('f-q_result_time').getBoundingClientRect().top") < PHONE["height"]
    # answers already given survive the round trip
    assert page.is_checked('input[name="q_procedure_field"][value="land"]')
    page.screenshot(path=str(ARTIFACTS / "citizen-form-error-360.png"))
    assert count(dbs, Response) == 0
    page.check('input[name="q_result_time"][value="3"]')
    page.click("button.send")
    page.wait_for_selector("text=Cảm ơn ông/bà đã trả lời!")
    context.close()
    assert count(dbs, Response) == 1


@pytest.mark.browser
def test_draft_survives_a_reload_and_keeps_its_submission_id(browser, live_server, demo, dbs):
    point = _point(dbs)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/f/{point.code}")
    first_id = page.input_value('input[name="submission_id"]')
    page.check('input[name="q_procedure_field"][value="business"]')
    page.fill('input[name="q_visits"]', "3")
    page.reload()
    assert page.is_checked('input[name="q_procedure_field"][value="business"]')
    assert page.input_value('input[name="q_visits"]') == "3"
    assert page.input_value('input[name="submission_id"]') == first_id
    context.close()


@pytest.mark.browser
def test_posters_print_one_a4_page_each(browser, live_server, demo):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", demo.admin_username)
    page.fill("input[name=password]", demo.admin_password)
    page.click("button.btn")
    page.goto(f"{live_server}/admin/c/{demo.campaign_key}/posters")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "posters.pdf").write_bytes(pdf)
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) == 20  # one page per commune
    for width, height in boxes:  # A4 is 595.28 × 841.89 points
        assert abs(float(width) - 595.3) < 1 and abs(float(height) - 841.9) < 1
