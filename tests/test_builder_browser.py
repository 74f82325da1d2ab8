"""A Home Affairs officer makes this year's questionnaire in the web, in a real headless Chromium,
and a phone answers it: no file is edited anywhere."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.models import Answer, CollectionPoint, QuestionnaireVersion, RespondentGroup, Response, Unit

from .conftest import ARTIFACTS
from .test_browser import PHONE, _answer_everything, browser, no_axe_violations  # noqa: F401 (the fixture)

DESKTOP = {"width": 1366, "height": 900}


@pytest.mark.browser
def test_officer_builds_publishes_and_a_phone_answers(browser, live_server, demo, dbs):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', demo.admin_username)
    page.fill('input[name="password"]', demo.admin_password)
    page.click("button.btn")

    # the library: copy the citizen questionnaire into a new draft
    page.click("text=Phiếu hỏi")
    page.locator("#p-citizen_counter").get_by_role("button", name="Sao chép thành phiếu mới").click()
    page.wait_for_url("**/admin/questionnaires/d/**")
    code = page.url.rsplit("/", 1)[1].split("?")[0]

    # reword a question
    page.locator("#q-visits").get_by_role("link", name="Sửa").click()
    page.fill("#edit textarea[name=label]", "Ông/bà đã phải đến cơ quan mấy lần cho thủ tục này?")
    page.click("#edit button[value=save]")
    expect(page.locator("text=Đã lưu câu hỏi.")).to_be_visible()

    # a new question with a new option list
    section = page.locator("#s-about")
    section.locator("summary", has_text="Thêm câu hỏi").click()
    section.locator(".addq input[name=label]").fill("Ai giới thiệu ông/bà trả lời phiếu này?")
    section.locator(".addq select[name=type]").select_option("single")
    section.locator(".addq button").click()
    labels = page.locator("#edit input[name=opt_label]")
    codes = page.locator("#edit input[name=opt_code]")
    for i, text in enumerate(["Tự quét mã QR", "Cán bộ giới thiệu", "Người thân"]):
        labels.nth(i).fill(text)
        codes.nth(i).fill("")
    page.click("#edit button[value=save]")
    expect(page.locator("text=Đã lưu câu hỏi.")).to_be_visible()
    new_single = page.url.split("q=")[1].split("#")[0]
    no_axe_violations(page)  # with a choice question's options open

    # a scale question shown only when a civil servant introduced the form
    section = page.locator("#s-result")
    section.locator("summary", has_text="Thêm câu hỏi").click()
    section.locator(".addq input[name=label]").fill("Cán bộ giới thiệu có lịch sự, không ép buộc không?")
    section.locator(".addq select[name=type]").select_option("scale")
    section.locator(".addq button").click()
    page.select_option("select[name=show_if_question]", new_single)
    page.locator("fieldset.cond:visible").get_by_label("Cán bộ giới thiệu").check()
    page.select_option("#edit select[name=aspect]", "civil_servant")
    page.click("#edit button[value=save]")
    expect(page.locator("text=Đã lưu câu hỏi.")).to_be_visible()
    scale_id = page.url.split("q=")[1].split("#")[0]

    # the one-tap rating: the overall question asked first at the counter, as five faces
    page.locator("#q-overall_satisfaction").get_by_role("link", name="Sửa").click()
    quick = page.get_by_label("Hỏi trước tiên bằng năm mặt cười", exact=False)
    quick.check()
    page.click("#edit button[value=save]")
    expect(page.locator("text=Đã lưu câu hỏi.")).to_be_visible()
    expect(quick).to_be_checked()
    page.locator("#edit fieldset.tblock[data-types=scale]").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "builder-quick-1366.png"))
    no_axe_violations(page)
    page.locator(f"#q-{scale_id}").get_by_role("link", name="Sửa").click()
    page.screenshot(path=str(ARTIFACTS / "builder-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / "builder-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    # the preview beside the editor is the phone form, with the new question
    frame = page.frame_locator("aside.phone iframe")
    assert frame.locator(f"#f-q_{new_single}").count() == 1

    no_axe_violations(page)  # the builder with a question open
    page.goto(f"{live_server}/admin/questionnaires")
    no_axe_violations(page)
    page.goto(f"{live_server}/admin/questionnaires/d/{code}")
    page.get_by_role("button", name="Xuất bản phiên bản 1").click()
    expect(page.locator("p.ok", has_text="Đã xuất bản")).to_be_visible()
    version = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == code))
    assert version is not None and version.version == 1
    page.goto(f"{live_server}/admin/questionnaires/v/{version.id}")
    no_axe_violations(page)
    page.goto(f"{live_server}/admin/c/{demo.campaign_key}/g/citizen/questionnaire?version={version.id}")
    no_axe_violations(page)

    # a new campaign with a new group answering it
    today = date.today()
    page.goto(f"{live_server}/admin/campaigns/new")
    page.fill("input[name=name]", "Điều tra XHH cấp xã năm 2026")
    page.fill("input[name=key]", "xa-2026")
    page.fill("input[name=year]", str(today.year))
    page.select_option("select[name=scope]", "HDG-NGG")
    page.fill("input[name=starts_on]", today.isoformat())
    page.fill("input[name=ends_on]", (today + timedelta(days=30)).isoformat())
    page.click("button.btn")
    page.wait_for_url("**/xa-2026/**")
    page.fill("form[action$='/groups'] input[name=code]", "dan")
    page.fill("form[action$='/groups'] input[name=name]", "Người dân tại Bộ phận một cửa")
    page.select_option("form[action$='/groups'] select[name=version]", str(version.id))
    page.select_option("form[action$='/groups'] select[name=mode]", "counter")
    page.click("form[action$='/groups'] button.btn")
    expect(page.locator("text=Đã thêm nhóm đối tượng.")).to_be_visible()
    # the rules, in the rules form, previewed before saving
    page.get_by_role("link", name="Lập quy tắc").click()
    page.fill("input[name=title]", "Điểm điều tra xã hội học cấp xã 2026")
    page.fill("input[name=component_total]", "2")
    page.fill("input[name=c0_code]", "8.1.3")
    page.fill("input[name=c0_name]", "Hài lòng tại Bộ phận một cửa")
    page.fill("input[name=c0_max]", "2")
    page.select_option("select[name=c0_method]", "share")
    page.select_option("select[name=c0_s0_group]", "dan")
    page.check('input[name=c0_s0_questions][value="dan:overall_satisfaction"]')
    page.check(f'input[name=c0_s0_questions][value="dan:{scale_id}"]')
    page.click("button[value=preview]")
    expect(page.locator("#preview"), page.locator(".alert").all_inner_texts()).to_be_visible()
    assert "Tổng mới" in page.locator("#preview").inner_text()
    no_axe_violations(page)
    page.screenshot(path=str(ARTIFACTS / "rules-1366.png"), full_page=True)
    page.click("button[value=save]")
    expect(page.locator("text=Đã lưu quy tắc tính điểm (phiên bản 1).")).to_be_visible()
    page.goto(f"{live_server}/admin/c/xa-2026/plan")
    page.select_option("select[name=g_dan_method]", "fixed")
    page.select_option("select[name=g_dan_under]", "HDG-NGG")
    page.fill("input[name=g_dan_per_unit]", "5")
    page.click("button[value=form_preview]")
    expect(page.get_by_text("Xem trước kế hoạch mới").first).to_be_visible()
    no_axe_violations(page)
    page.screenshot(path=str(ARTIFACTS / "plan-1366.png"), full_page=True)
    page.click("button[value=apply]")
    expect(page.locator("text=Đã áp dụng kế hoạch")).to_be_visible()
    page.goto(f"{live_server}/admin/c/xa-2026/setup")
    page.click("button[value=open]")
    expect(page.locator("text=Đã mở đợt khảo sát.")).to_be_visible()

    # a phone answers the new questionnaire at a commune's counter
    point = dbs.scalars(
        select(CollectionPoint).join(RespondentGroup).join(Unit)
        .where(RespondentGroup.code == "dan", Unit.code == "HDG-NGG-05")
    ).one()  # fmt: skip
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2).new_page()
    phone.goto(f"{live_server}/f/{point.code}")
    # one tap on "Rất hài lòng" sends the rating; "Góp ý thêm" opens the rest
    expect(phone.locator("label.face")).to_have_count(5)
    phone.locator("label.face").nth(4).click()
    phone.get_by_role("button", name="Góp ý thêm").click()
    expect(phone.locator('input[name="q_on_time"]').first).to_be_visible()
    assert "Ông/bà đã phải đến cơ quan mấy lần cho thủ tục này?" in phone.content()
    assert not phone.is_visible(f"#f-q_{scale_id}")
    phone.check(f'input[name="q_{new_single}"][value="can_bo_gioi_thieu"]')
    expect(phone.locator(f"#f-q_{scale_id}")).to_be_visible()
    phone.check('input[name="q_on_time"][value="yes"]')
    _answer_everything(phone, level="5")
    phone.click("button.send")
    phone.wait_for_selector("#thanks")
    stored = dbs.scalars(select(Response).where(Response.questionnaire_version_id == version.id)).one()
    answer = dbs.scalar(select(Answer).where(Answer.response_id == stored.id, Answer.question_id == scale_id))
    assert answer.value_num == 5

    # the points appear
    page.goto(f"{live_server}/admin/c/xa-2026/results")
    assert "Hài lòng tại Bộ phận một cửa" in page.content()
    unit = dbs.get(Unit, point.unit_id)
    row = page.locator("table tr", has_text=unit.name).first
    # the one unit with an answer has every answer positive: the whole 2 points
    assert row.locator("td.r").nth(1).inner_text() == "2,00"
    page.screenshot(path=str(ARTIFACTS / "builder-results-1366.png"), full_page=True)
