"""Skip logic on several questions at once (all must hold): in the definition, on the phone with
and without scripts, on paper, in XLSForm ("and") and in the builder."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pyxform.xls2xform import convert
from sqlalchemy import select

from questionnaires import DefinitionError, load_text
from questionnaires import editing as ed
from questionnaires.logic import is_visible
from questionnaires.xlsform import read_xlsform, write_xlsform
from surveyapp.models import QuestionnaireVersion

from .conftest import csrf_token
from .test_browser import PHONE, browser  # noqa: F401 (the fixture)
from .test_qr_posters import login

TWO_CONDITIONS = """id: hai_dieu_kien
version: 1
title: Phiếu thử điều kiện
aspects: {chung: Đánh giá chung}
sections:
  - id: a
    title: Phần một
    questions:
      - id: dung_hen
        type: yesno
        label: Có nhận kết quả đúng hẹn không?
      - id: linh_vuc
        type: single
        label: Lĩnh vực
        options:
          - {code: dat_dai, label: Đất đai}
          - {code: ho_tich, label: Hộ tịch}
          - {code: khac, label: Khác}
      - id: ly_do
        type: text
        required: true
        label: Vì sao hồ sơ đất đai bị trễ?
        show_if:
          - {question: dung_hen, answers: ["no"]}
          - {question: linh_vuc, answers: [dat_dai, khac]}
"""


def test_every_condition_must_hold():
    q = load_text(TWO_CONDITIONS)
    reason = q.question("ly_do")
    assert [c.question for c in reason.conditions] == ["dung_hen", "linh_vuc"]
    no, land, civil = frozenset({"no"}), frozenset({"dat_dai"}), frozenset({"ho_tich"})
    assert is_visible(reason, {"dung_hen": no, "linh_vuc": land})
    assert not is_visible(reason, {"dung_hen": no, "linh_vuc": civil})
    assert not is_visible(reason, {"dung_hen": frozenset({"yes"}), "linh_vuc": land})
    assert not is_visible(reason, {"linh_vuc": land})


def test_one_question_twice_in_the_conditions_is_refused():
    bad = TWO_CONDITIONS.replace(
        "{question: linh_vuc, answers: [dat_dai, khac]}", "{question: dung_hen, answers: [yes]}"
    )
    with pytest.raises(DefinitionError) as caught:
        load_text(bad)
    assert "chỉ dùng một lần trong điều kiện hiển thị" in str(caught.value)


def _preview(client, runner, tmp_path, demo):
    path = tmp_path / "hai.yaml"
    path.write_text(TWO_CONDITIONS, encoding="utf-8")
    assert runner.invoke(args=["questionnaire", "import", str(path)]).exit_code == 0
    login(client, demo.admin_username, demo.admin_password)


def test_the_phone_form_without_scripts_asks_only_when_both_hold(client, runner, tmp_path, demo, dbs):
    _preview(client, runner, tmp_path, demo)
    version = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == "hai_dieu_kien"))
    url = f"/admin/questionnaires/v/{version.id}/preview"
    page = client.get(url).get_data(as_text=True)
    assert 'data-if="q_dung_hen q_linh_vuc" data-in="no|dat_dai khac"' in page
    assert "Không; và Đất đai, Khác" in page
    token = csrf_token(page)
    only_one = client.post(url, data={"csrf_token": token, "q_dung_hen": "no", "q_linh_vuc": "ho_tich"})
    assert only_one.status_code == 200
    assert "Còn" not in only_one.get_data(as_text=True)  # the reason is not asked: nothing missing
    both = client.post(url, data={"csrf_token": token, "q_dung_hen": "no", "q_linh_vuc": "dat_dai"})
    assert both.status_code == 200 and "Còn 1 câu" in both.get_data(as_text=True)


@pytest.mark.browser
def test_the_phone_form_with_scripts_shows_it_only_when_both_hold(
    browser,  # noqa: F811
    live_server, runner, tmp_path, demo, dbs, client,
):  # fmt: skip
    path = tmp_path / "hai.yaml"
    path.write_text(TWO_CONDITIONS, encoding="utf-8")
    assert runner.invoke(args=["questionnaire", "import", str(path)]).exit_code == 0
    version = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == "hai_dieu_kien"))
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', demo.admin_username)
    page.fill('input[name="password"]', demo.admin_password)
    page.click("button.btn")
    page.goto(f"{live_server}/admin/questionnaires/v/{version.id}/preview")
    assert not page.is_visible("#f-q_ly_do")
    page.check('input[name="q_dung_hen"][value="no"]')
    assert not page.is_visible("#f-q_ly_do")
    page.check('input[name="q_linh_vuc"][value="khac"]')
    assert page.is_visible("#f-q_ly_do")
    page.check('input[name="q_dung_hen"][value="yes"]')
    assert not page.is_visible("#f-q_ly_do")


def test_paper_and_xlsform_say_and():
    doc = ed.load_document(TWO_CONDITIONS)
    data = write_xlsform(doc)
    warnings: list[str] = []
    xform = convert(data, warnings=warnings, file_type=".xlsx").xform
    assert not warnings and "and" in xform
    assert (
        load_text(ed.dump_document(read_xlsform(data, "hai.xlsx"))).content_hash
        == load_text(TWO_CONDITIONS).content_hash
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in [
        ["type", "name", "label", "relevant"],
        ["select_one yn", "a", "Câu A"],
        ["select_multiple kenh", "b", "Câu B"],
        ["text", "c", "Câu C", "${a} = 'no' and (selected(${b}, 'x') or selected(${b}, 'y'))"],
    ]:
        sheet.append(row)
    choices = book.create_sheet("choices")
    for row in [["list_name", "name", "label"], ["yn", "yes", "Có"], ["yn", "no", "Không"],
                ["kenh", "x", "X"], ["kenh", "y", "Y"], ["kenh", "z", "Z"]]:  # fmt: skip
        choices.append(row)
    out = io.BytesIO()
    book.save(out)
    q = load_text(ed.dump_document(read_xlsform(out.getvalue(), "and.xlsx")))
    assert [(c.question, sorted(c.answers)) for c in q.question("c").conditions] == [("a", ["no"]), ("b", ["x", "y"])]


def test_the_builder_saves_a_second_condition(client, demo, dbs):
    from .test_authoring import _copy_citizen, _doc, _save_question

    login(client, demo.admin_username, demo.admin_password)
    draft = _copy_citizen(client, dbs)
    response = _save_question(
        client, draft, "apology_letter", type="yesno", label="Có thư xin lỗi không?", required="1",
        show_if_question="on_time", show_if_answers="on_time:no",
        show_if_question_2="procedure_field", show_if_answers_2=["procedure_field:land", "procedure_field:other"],
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    question = ed.find_question(_doc(dbs, draft), "apology_letter").question
    assert question["show_if"] == [
        {"question": "on_time", "answers": ["no"]},
        {"question": "procedure_field", "answers": ["land", "other"]},
    ]
    page = client.get(f"/admin/questionnaires/d/{draft.code}?q=apology_letter").get_data(as_text=True)
    assert 'value="procedure_field:land" checked' in page
    # a second row naming no answer is explained and nothing is saved
    response = _save_question(
        client, draft, "apology_letter", type="yesno", label="Có thư xin lỗi không?", required="1",
        show_if_question="on_time", show_if_answers="on_time:no", show_if_question_2="procedure_field",
    )  # fmt: skip
    assert response.status_code == 422 and "Chọn ít nhất một câu trả lời" in response.get_data(as_text=True)


def test_paper_names_every_condition_in_its_codes():
    from surveyapp.paper.codes import condition_codes

    q = load_text(TWO_CONDITIONS)
    assert condition_codes(q, q.question("ly_do")) == (
        "câu “Có nhận kết quả đúng hẹn không?” chọn mã 2 và câu “Lĩnh vực” chọn mã 1, 3"
    )
