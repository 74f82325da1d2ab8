"""The questionnaire library and builder: copy, edit one change at a time, refuse what would
break the questionnaire (with the message beside the question), publish versions that never
change, and switch a group's version with the differences shown first."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from questionnaires import editing as ed
from surveyapp.demo.fake import fill
from surveyapp.models import AuditEvent, Campaign, QuestionnaireDraft, QuestionnaireVersion, RespondentGroup, Response

from .conftest import count, csrf_token
from .test_qr_posters import login


@pytest.fixture
def admin(client, demo):
    login(client, demo.admin_username, demo.admin_password)
    return client


def count_of(dbs, version_id: int) -> int:
    return len(dbs.scalars(select(Response.id).where(Response.questionnaire_version_id == version_id)).all())


def _token(client, url: str) -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def _copy_citizen(admin, dbs) -> QuestionnaireDraft:
    admin.get("/admin/questionnaires")
    version = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == "citizen_counter"))
    token = _token(admin, "/admin/questionnaires")
    response = admin.post(f"/admin/questionnaires/v/{version.id}/copy", data={"csrf_token": token})
    assert response.status_code == 302
    dbs.expire_all()
    return dbs.scalar(select(QuestionnaireDraft))


def _doc(dbs, draft) -> dict:
    dbs.expire_all()
    return ed.load_document(dbs.get(QuestionnaireDraft, draft.id).source)


def _save_question(admin, draft, qid: str, **fields):
    builder = f"/admin/questionnaires/d/{draft.code}?q={qid}"
    page = admin.get(builder).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "action": "save", **fields}
    return admin.post(f"/admin/questionnaires/d/{draft.code}/q/{qid}", data=data)


def test_library_lists_builtins_with_versions_uses_and_answers(admin, demo, dbs):
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    stored = fill(dbs, campaign, share=0.1)
    dbs.commit()
    citizen = dbs.scalar(select(RespondentGroup).where(RespondentGroup.code == "citizen"))
    answered = count_of(dbs, citizen.questionnaire_version_id)
    assert 0 < answered <= stored
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "Phiếu khảo sát sự hài lòng của người dân, tổ chức" in page
    assert "Phiếu có sẵn" in page
    # the demo's citizen group uses version 1 and has answers
    assert "Người dân, tổ chức" in page and "Phiên bản 1" in page
    shown = f"{answered:,}".replace(",", ".")
    assert f'<td class="r" data-label="Phiếu đã nhận">{shown}</td>' in page, "answers per version are counted"


def test_copy_reword_add_scale_with_skip_logic_and_publish(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    assert draft.code.startswith("citizen_counter_") and draft.based_on_id is not None
    # reword a question
    response = _save_question(
        admin, draft, "visits", type="number", label="Ông/bà đã đến cơ quan mấy lần cho thủ tục này?",
        required="1", min="0", max="20", integer="1",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    doc = _doc(dbs, draft)
    assert ed.find_question(doc, "visits").question["label"] == "Ông/bà đã đến cơ quan mấy lần cho thủ tục này?"
    assert ed.find_question(doc, "visits").question["max"] == 20
    # add a scale question at the end of the "result" section, with a new scale and skip logic
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(
        f"/admin/questionnaires/d/{draft.code}/questions",
        data={"csrf_token": token, "section": "result", "type": "scale", "label": "Thái độ khi xin lỗi"},
    )
    assert response.status_code == 302
    qid = re.search(r"q=([a-z0-9_]+)", response.headers["Location"]).group(1)
    response = _save_question(
        admin, draft, qid, type="scale", label="Cán bộ xin lỗi có thành khẩn không?", required="1",
        scale="__new__", scale_labels="Không thành khẩn\nBình thường\nRất thành khẩn", aspect="__new__",
        aspect_new="Xử lý trễ hạn", show_if_question="on_time", show_if_answers="on_time:no",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    doc = _doc(dbs, draft)
    question = ed.find_question(doc, qid).question
    assert question["show_if"] == {"question": "on_time", "answers": ["no"]}
    assert doc["scales"][question["scale"]] == ["Không thành khẩn", "Bình thường", "Rất thành khẩn"]
    assert doc["aspects"][question["aspect"]] == "Xử lý trễ hạn"
    # publish: version 1 of the new code, stored whole; the draft is gone
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/publish", data={"csrf_token": token})
    assert response.status_code == 302
    row = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == draft.code))
    assert row.version == 1 and "Cán bộ xin lỗi có thành khẩn không?" in row.source
    assert count(dbs, QuestionnaireDraft) == 0
    assert dbs.scalar(select(AuditEvent).where(AuditEvent.action == "questionnaire.published")) is not None
    # the next version of the province's own questionnaire starts from the published one
    token = _token(admin, "/admin/questionnaires")
    admin.post(f"/admin/questionnaires/v/{row.id}/copy", data={"csrf_token": token, "as": "next"})
    dbs.expire_all()
    again = dbs.scalar(select(QuestionnaireDraft))
    assert again.code == row.code
    token = _token(admin, f"/admin/questionnaires/d/{again.code}")
    admin.post(f"/admin/questionnaires/d/{again.code}/publish", data={"csrf_token": token})
    versions = dbs.scalars(select(QuestionnaireVersion.version).where(QuestionnaireVersion.code == row.code)).all()
    assert sorted(versions) == [1, 2]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"show_if_question": "suggestion", "show_if_answers": "suggestion:x"}, "đứng trước"),
        ({"show_if_question": "visits", "show_if_answers": "visits:1"}, "chính câu hỏi này"),
        ({"label": ""}, "Vui lòng nhập câu hỏi."),
        ({"min": "abc"}, "Phải là một số"),
        ({"min": "10", "max": "2"}, "giới hạn số không hợp lệ"),
        ({"label": "Có\x07ký tự lạ"}, "ký tự điều khiển"),
        ({"criterion": "tiêu chí 8"}, "Mã tiêu chí"),
    ],
)
def test_bad_question_edits_are_refused_beside_the_question_and_nothing_is_saved(admin, dbs, fields, message):
    draft = _copy_citizen(admin, dbs)
    before = dbs.get(QuestionnaireDraft, draft.id).source
    data = {"type": "number", "label": "Số lần đến cơ quan", "required": "1", "min": "0", "max": "30", "integer": "1"}
    data.update(fields)
    response = _save_question(admin, draft, "visits", **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    # the message is inside the question's editor, which stays open with what was typed
    assert page.index('id="q-visits"') < page.index('id="edit"')
    editor = page[page.index('id="edit"') :]
    assert message in editor[: editor.index("</form>")]
    dbs.expire_all()
    assert dbs.get(QuestionnaireDraft, draft.id).source == before


def test_skip_rule_on_itself_and_scale_of_one_level_are_refused(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    response = _save_question(admin, draft, "on_time", type="yesno", label="Đúng hẹn?", required="1",
                              show_if_question="on_time", show_if_answers="on_time:yes")  # fmt: skip
    assert response.status_code == 422 and "chính câu hỏi này" in response.get_data(as_text=True)
    response = _save_question(admin, draft, "access_seating", type="scale", label="Chỗ ngồi", required="1",
                              scale="__new__", scale_labels="Tốt", aspect="access")  # fmt: skip
    assert response.status_code == 422 and "từ 2 đến 11 mức" in response.get_data(as_text=True)


def test_duplicate_option_codes_are_refused(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    response = _save_question(
        admin, draft, "respondent_kind", type="single", label="Tư cách", required="1",
        opt_label=["Cá nhân", "Tổ chức"], opt_code=["ca_nhan", "ca_nhan"],
    )  # fmt: skip
    assert response.status_code == 422
    assert "mã phương án “ca_nhan” bị trùng" in response.get_data(as_text=True)


def test_deleting_a_question_that_a_skip_rule_uses_is_refused(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(
        f"/admin/questionnaires/d/{draft.code}/q/on_time", data={"csrf_token": token, "action": "delete"}
    )
    assert response.status_code == 422
    assert "không có trong phiếu" in response.get_data(as_text=True)
    assert ed.find_question(_doc(dbs, draft), "on_time") is not None


def test_moving_a_question_above_the_one_its_rule_reads_is_refused(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(
        f"/admin/questionnaires/d/{draft.code}/q/apology_letter", data={"csrf_token": token, "action": "up"}
    )
    assert response.status_code == 422
    response = admin.post(
        f"/admin/questionnaires/d/{draft.code}/q/result_time", data={"csrf_token": token, "action": "up"}
    )
    assert response.status_code == 302
    ids = [q["id"] for q in ed.find_section(_doc(dbs, draft), "result")["questions"]]
    assert ids.index("result_time") < ids.index("apology_letter")


def test_an_unfinished_draft_cannot_be_published(admin, dbs):
    token = _token(admin, "/admin/questionnaires")
    response = admin.post("/admin/questionnaires/new", data={"csrf_token": token, "title": "Phiếu năm 2026"})
    assert response.status_code == 302
    draft = dbs.scalar(select(QuestionnaireDraft))
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/publish", data={"csrf_token": token})
    assert response.status_code == 422
    assert "không có câu hỏi nào" in response.get_data(as_text=True)
    assert dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == draft.code)) is None


def test_builtins_cannot_get_a_next_version_from_the_web(admin, dbs):
    admin.get("/admin/questionnaires")
    version = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == "leader"))
    token = _token(admin, "/admin/questionnaires")
    admin.post(f"/admin/questionnaires/v/{version.id}/copy", data={"csrf_token": token, "as": "next"})
    assert dbs.scalar(select(QuestionnaireDraft).where(QuestionnaireDraft.code == "leader")) is None


def test_preview_is_the_real_phone_form_and_stores_nothing(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    page = admin.get(f"/admin/questionnaires/d/{draft.code}/preview").get_data(as_text=True)
    assert 'name="q_procedure_field"' in page and "Gửi phiếu" in page
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/preview", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200 and "Vui lòng" in response.get_data(as_text=True)


def test_group_switch_shows_changes_and_open_campaign_asks_first(admin, dbs, demo):
    draft = _copy_citizen(admin, dbs)
    _save_question(admin, draft, "visits", type="number", label="Số lần phải đến", required="1", min="0", max="30",
                   integer="1")  # fmt: skip
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    admin.post(f"/admin/questionnaires/d/{draft.code}/publish", data={"csrf_token": token})
    new = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == draft.code))
    url = f"/admin/c/{demo.campaign_key}/g/citizen/questionnaire"
    page = admin.get(f"{url}?version={new.id}").get_data(as_text=True)
    assert "Sửa câu chữ" in page and "Số lần phải đến" in page
    # the demo campaign is open: without the confirmation nothing changes
    response = admin.post(url, data={"csrf_token": csrf_token(page), "version": new.id})
    assert response.status_code == 422
    group = dbs.scalar(select(RespondentGroup).where(RespondentGroup.code == "citizen"))
    assert group.questionnaire_version.code == "citizen_counter"
    response = admin.post(url, data={"csrf_token": csrf_token(page), "version": new.id, "confirm": "1"})
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.get(RespondentGroup, group.id).questionnaire_version_id == new.id


def test_switch_refused_when_the_rules_use_a_removed_question(admin, dbs, demo):
    draft = _copy_citizen(admin, dbs)
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(
        f"/admin/questionnaires/d/{draft.code}/q/overall_satisfaction", data={"csrf_token": token, "action": "delete"}
    )
    assert response.status_code == 302
    admin.post(f"/admin/questionnaires/d/{draft.code}/publish", data={"csrf_token": token})
    new = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == draft.code))
    url = f"/admin/c/{demo.campaign_key}/g/citizen/questionnaire"
    page = admin.get(f"{url}?version={new.id}").get_data(as_text=True)
    assert "Quy tắc tính điểm của đợt dùng câu hỏi không có trong phiếu mới" in page
    response = admin.post(url, data={"csrf_token": token, "version": new.id, "confirm": "1"})
    assert response.status_code == 422
    group = dbs.scalar(select(RespondentGroup).where(RespondentGroup.code == "citizen"))
    assert group.questionnaire_version.code == "citizen_counter"


def test_translations_are_edited_side_by_side(admin, dbs):
    draft = _copy_citizen(admin, dbs)
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/general", data={
        "csrf_token": token, "title": "Phiếu hai thứ tiếng", "intro": "", "languages": "km = Tiếng Khmer",
        "title::km": "ការស្ទង់មតិ",
    })  # fmt: skip
    assert response.status_code == 302
    page = admin.get(f"/admin/questionnaires/d/{draft.code}?q=respondent_kind").get_data(as_text=True)
    assert 'name="label::km"' in page and 'name="opt_label::km"' in page
    response = _save_question(
        admin, draft, "respondent_kind", type="single", label="Tư cách", required="1",
        **{"label::km": "តួនាទី", "opt_label": ["Cá nhân", "Tổ chức"], "opt_code": ["person", "organisation"],
           "opt_label::km": ["បុគ្គល", "ស្ថាប័ន"]},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    from questionnaires import load_text

    text = ed.dump_document(_doc(dbs, draft))
    km = load_text(text, language="km")
    assert km.title == "ការស្ទង់មតិ" and km.question("respondent_kind").label == "តួនាទី"
    assert [o.label for o in km.question("respondent_kind").options] == ["បុគ្គល", "ស្ថាប័ន"]
    assert load_text(text).question("respondent_kind").label == "Tư cách"
    # the preview can be shown in the other language
    preview = admin.get(f"/admin/questionnaires/d/{draft.code}/preview?lang=km").get_data(as_text=True)
    assert "តួនាទី" in preview and '<html lang="km">' in preview
    # a bad language code is refused with the loader's message
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/general", data={
        "csrf_token": token, "title": "Phiếu hai thứ tiếng", "languages": "Khmer",
    })  # fmt: skip
    assert response.status_code == 422 and "mã ngôn ngữ “khmer” không hợp lệ" in response.get_data(as_text=True)


def test_a_published_version_cannot_be_changed_by_a_direct_post(admin, dbs):
    admin.get("/admin/questionnaires")
    version = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == "citizen_counter"))
    source = version.source
    token = _token(admin, "/admin/questionnaires")
    for path, data in [
        ("/admin/questionnaires/d/citizen_counter/q/visits", {"action": "save", "type": "number", "label": "Đổi"}),
        ("/admin/questionnaires/d/citizen_counter/q/visits", {"action": "delete"}),
        ("/admin/questionnaires/d/citizen_counter/general", {"title": "Đổi"}),
        ("/admin/questionnaires/d/citizen_counter/publish", {}),
    ]:
        assert admin.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    dbs.expire_all()
    assert dbs.get(QuestionnaireVersion, version.id).source == source


def test_answers_keep_the_version_they_answered_and_still_score(admin, dbs, demo):
    from surveyapp.results.services import compute

    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    fill(dbs, campaign, share=0.2, seed=3)
    dbs.commit()
    old = dbs.scalar(select(RespondentGroup).where(RespondentGroup.code == "citizen")).questionnaire_version_id
    before, _ = compute(dbs, campaign)
    draft = _copy_citizen(admin, dbs)
    _save_question(admin, draft, "visits", type="number", label="Số lần phải đến", required="1", min="0", max="30",
                   integer="1")  # fmt: skip
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    admin.post(f"/admin/questionnaires/d/{draft.code}/publish", data={"csrf_token": token})
    new = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == draft.code))
    url = f"/admin/c/{demo.campaign_key}/g/citizen/questionnaire"
    assert admin.post(url, data={"csrf_token": token, "version": new.id, "confirm": "1"}).status_code == 302
    dbs.expire_all()
    stored = dbs.scalars(select(Response.questionnaire_version_id).where(Response.group_id == RespondentGroup.id,
                                                                          RespondentGroup.code == "citizen")).all()  # fmt: skip
    assert stored and set(stored) == {old}
    after, _ = compute(dbs, dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key)))
    assert [(u.unit, u.total) for u in after.units] == [(u.unit, u.total) for u in before.units]


def test_scale_and_yes_no_labels_are_translated_in_the_builder(admin, dbs):
    from questionnaires import load_text

    draft = _copy_citizen(admin, dbs)
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    admin.post(f"/admin/questionnaires/d/{draft.code}/general", data={
        "csrf_token": token, "title": "Phiếu", "languages": "en = English",
    })  # fmt: skip
    page = admin.get(f"/admin/questionnaires/d/{draft.code}").get_data(as_text=True)
    assert 'name="scale::en::satisfaction5"' in page and 'name="yesno::en"' in page
    labels = "Very dissatisfied\nDissatisfied\nNeutral\nSatisfied\nVery satisfied"
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/general", data={
        "csrf_token": csrf_token(page), "title": "Phiếu", "languages": "en = English",
        "scale::en::satisfaction5": labels, "yesno::en": "Yes\nNo",
    })  # fmt: skip
    assert response.status_code == 302
    en = load_text(ed.dump_document(_doc(dbs, draft)), language="en")
    assert en.question("servant_polite").scale.labels[4] == "Very satisfied"
    assert [o.label for o in en.question("on_time").choices()] == ["Yes", "No"]
    # four levels for a five-level scale: the loader's message, nothing saved
    response = admin.post(f"/admin/questionnaires/d/{draft.code}/general", data={
        "csrf_token": csrf_token(page), "title": "Phiếu", "languages": "en = English",
        "scale::en::satisfaction5": "a\nb\nc\nd", "yesno::en": "Yes\nNo",
    })  # fmt: skip
    assert response.status_code == 422 and "phải có đúng 5 mức" in response.get_data(as_text=True)


def test_the_one_tap_rating_is_ticked_in_the_builder(admin, dbs):
    """An officer makes the one-tap rating by ticking "năm mặt cười" on scale questions; a third
    one, or one on a scale that is not five levels, is refused with the reason; deleting a ticked
    question takes it out of the rating."""
    draft = _copy_citizen(admin, dbs)
    scale = {"type": "scale", "required": "1", "scale": "satisfaction5"}
    saved = _save_question(admin, draft, "overall_satisfaction", label="Nhìn chung, ông/bà hài lòng không?",
                           aspect="overall", quick="1", **scale)  # fmt: skip
    assert saved.status_code == 302
    assert _save_question(admin, draft, "servant_polite", label="Công chức lịch sự", aspect="civil_servant",
                          quick="1", **scale).status_code == 302  # fmt: skip
    doc = _doc(dbs, draft)
    assert doc["quick"] == ["servant_polite", "overall_satisfaction"]  # in the form's order
    assert list(doc).index("quick") < list(doc).index("sections")
    page = admin.get(f"/admin/questionnaires/d/{draft.code}?q=servant_polite").get_data(as_text=True)
    assert re.search(r'name="quick" value="1" checked', page)

    third = _save_question(admin, draft, "access_seating", label="Chỗ ngồi", aspect="access", quick="1", **scale)
    assert third.status_code == 422 and "hỏi 1 hoặc 2 câu, không hơn" in third.get_data(as_text=True)
    three = _save_question(admin, draft, "servant_polite", label="Công chức lịch sự", aspect="civil_servant",
                           quick="1", type="scale", required="1", scale="__new__",
                           scale_labels="Kém\nĐược\nTốt")  # fmt: skip
    assert three.status_code == 422 and "đúng 5 mức" in three.get_data(as_text=True)
    assert _doc(dbs, draft)["quick"] == ["servant_polite", "overall_satisfaction"]  # refused whole

    # unticked, then the other deleted: no rating left
    assert _save_question(admin, draft, "servant_polite", label="Công chức lịch sự", aspect="civil_servant",
                          **scale).status_code == 302  # fmt: skip
    assert _doc(dbs, draft)["quick"] == ["overall_satisfaction"]
    token = _token(admin, f"/admin/questionnaires/d/{draft.code}")
    deleted = admin.post(f"/admin/questionnaires/d/{draft.code}/q/overall_satisfaction",
                         data={"csrf_token": token, "action": "delete"})  # fmt: skip
    assert deleted.status_code == 302
    assert "quick" not in _doc(dbs, draft)
