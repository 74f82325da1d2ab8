"""The citizen's form behind a QR code: showing it, storing answers exactly once, refusing bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from surveyapp.models import (
    Answer,
    Campaign,
    CampaignStatus,
    CollectionPoint,
    QuestionnaireVersion,
    Quota,
    QuotaFullPolicy,
    RespondentGroup,
    Response,
    Unit,
)

from .conftest import count, hidden_fields
from .helpers import valid_answers


@pytest.fixture
def point(demo, dbs):
    """The collection point of the first commune for the citizen group."""
    return dbs.scalars(
        select(CollectionPoint).join(Unit).where(Unit.code == "HDG-NGG-02").order_by(CollectionPoint.id)
    ).first()


def open_form(client, point) -> dict[str, str]:
    response = client.get(f"/f/{point.code}")
    assert response.status_code == 200
    return hidden_fields(response.get_data(as_text=True))


def submit(client, point, fields: dict, hidden: dict | None = None):
    hidden = hidden if hidden is not None else open_form(client, point)
    return client.post(f"/f/{point.code}", data={**hidden, **fields})


def test_form_is_vietnamese_and_has_every_question(client, point):
    html = client.get(f"/f/{point.code}").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Phiếu khảo sát sự hài lòng của người dân, tổ chức" in html
    assert "Xã An Đức" in html
    assert "Rất không hài lòng" in html and "Gửi phiếu" in html
    assert 'name="q_visits"' in html and 'name="q_unit_rating' not in html
    assert "Phần 1/7" in html


def test_submit_stores_one_response_with_unit_group_and_version(client, point, dbs):
    fields = valid_answers(q_suggestion="Nên có thêm ghế chờ")
    fields["q_suggestion"] = "Nên có thêm ghế chờ"
    response = submit(client, point, fields)
    assert response.status_code == 200
    assert "Cảm ơn ông/bà đã trả lời" in response.get_data(as_text=True)

    stored = dbs.scalars(select(Response)).one()
    unit = dbs.get(Unit, stored.unit_id)
    group = dbs.get(RespondentGroup, stored.group_id)
    version = dbs.get(QuestionnaireVersion, stored.questionnaire_version_id)
    assert (unit.code, group.code, version.code, version.version) == ("HDG-NGG-02", "citizen", "citizen_counter", 1)
    assert stored.channel == "counter" and stored.status == "valid" and stored.started_at is not None
    answers = {a.question_id: a for a in dbs.scalars(select(Answer).where(Answer.response_id == stored.id))}
    assert answers["access_seating"].value_num == 4.0
    assert answers["procedure_field"].value_code == "civil_status"
    assert answers["visits"].value_num == 1.0
    assert answers["suggestion"].value_text == "Nên có thêm ghế chờ"
    assert all(a.subject_unit_id == unit.id for a in answers.values())
    assert "apology_letter" not in answers  # skipped: the result came on time


def test_retry_with_same_submission_id_stores_nothing_twice(client, point, dbs):
    hidden = open_form(client, point)
    fields = valid_answers()
    first = submit(client, point, fields, hidden)
    again = submit(client, point, fields, hidden)
    assert first.status_code == again.status_code == 200
    assert "Cảm ơn" in again.get_data(as_text=True)
    assert count(dbs, Response) == 1
    assert count(dbs, Answer) == len(fields) - 0


def test_same_submission_id_with_other_answers_is_refused(client, point, dbs):
    hidden = open_form(client, point)
    submit(client, point, valid_answers(level="4"), hidden)
    answers_before = count(dbs, Answer)
    other = submit(client, point, valid_answers(level="2"), hidden)
    assert other.status_code == 409
    assert "đã được gửi với câu trả lời khác" in other.get_data(as_text=True)
    assert count(dbs, Response) == 1 and count(dbs, Answer) == answers_before
    stored = dbs.scalars(select(Answer).where(Answer.question_id == "access_seating")).one()
    assert stored.value_num == 4.0


def test_skip_logic_shows_and_requires_the_follow_up(client, point, dbs):
    fields = valid_answers(on_time="no")
    assert "q_apology_letter" in fields
    del fields["q_apology_letter"]
    response = submit(client, point, fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-q_apology_letter"' in html and "Vui lòng trả lời câu này." in html
    assert count(dbs, Response) == 0


def test_answers_to_hidden_questions_are_not_stored(client, point, dbs):
    fields = valid_answers(on_time="yes")
    fields["q_apology_letter"] = "no"
    assert submit(client, point, fields).status_code == 200
    assert dbs.scalar(select(Answer).where(Answer.question_id == "apology_letter")) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"q_visits": "31"}, "Vui lòng nhập số từ 0 đến 30.", id="number-above-max"),
        pytest.param({"q_visits": "-1"}, "Vui lòng nhập số từ 0 đến 30.", id="number-below-min"),
        pytest.param({"q_visits": "ba"}, "Vui lòng nhập một số nguyên.", id="number-wrong-type"),
        pytest.param({"q_visits": "2.5"}, "Vui lòng nhập một số nguyên.", id="number-not-integer"),
        pytest.param({"q_access_seating": "6"}, "Lựa chọn không hợp lệ", id="scale-out-of-range"),
        pytest.param({"q_access_seating": "tốt"}, "Lựa chọn không hợp lệ", id="scale-wrong-type"),
        pytest.param({"q_procedure_field": "nuclear"}, "Lựa chọn không hợp lệ", id="unknown-option"),
        pytest.param({"q_unofficial_payment": "maybe"}, "Lựa chọn không hợp lệ", id="yesno-other"),
        pytest.param({"q_suggestion": "x" * 1001}, "Vui lòng viết không quá 1000 ký tự.", id="text-too-long"),
        pytest.param({"q_access_seating": None}, "Vui lòng trả lời câu này.", id="required-missing"),
    ],
)
def test_invalid_answers_are_shown_beside_the_question(client, point, dbs, change, message):
    fields = valid_answers()
    for name, value in change.items():
        if value is None:
            del fields[name]
        else:
            fields[name] = value
    response = submit(client, point, fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    name = next(iter(change))
    block = html[html.index(f'id="f-{name}"') :]
    block = block[: block.index("</fieldset>")]
    assert message in block and 'class="msg"' in block
    assert "Còn 1 câu chưa đúng hoặc chưa trả lời" in html
    assert count(dbs, Response) == 0 and count(dbs, Answer) == 0


def test_invalid_form_keeps_the_answers_given(client, point):
    fields = valid_answers(visits="99")
    html = submit(client, point, fields).get_data(as_text=True)
    assert 'name="q_access_seating" value="4" checked' in html
    assert 'value="99"' in html


def test_unknown_question_ids_are_refused(client, point, dbs):
    fields = {**valid_answers(), "q_favourite_colour": "red"}
    response = submit(client, point, fields)
    assert response.status_code == 400
    assert "câu hỏi không thuộc phiếu này" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


def test_missing_csrf_token_is_refused(client, point, dbs):
    hidden = open_form(client, point)
    del hidden["csrf_token"]
    response = submit(client, point, valid_answers(), hidden)
    assert response.status_code == 400
    assert "Phiên trả lời đã hết hạn" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


def test_wrong_csrf_token_is_refused(client, point, dbs):
    hidden = open_form(client, point)
    hidden["csrf_token"] = "IjEyMyI.aaaa.bbbb"
    assert submit(client, point, valid_answers(), hidden).status_code == 400
    assert count(dbs, Response) == 0


def test_csrf_token_of_another_browser_is_refused(app, client, point, dbs):
    hidden = open_form(app.test_client(), point)  # another browser's session
    open_form(client, point)
    assert submit(client, point, valid_answers(), hidden).status_code == 400
    assert count(dbs, Response) == 0


@pytest.mark.parametrize("token", ["", "not-a-token", "7139ff75-70e1-4e25-9b99-e355bc75988c.awIrQw.forged"])
def test_forged_submission_ids_are_refused(client, point, dbs, token):
    hidden = open_form(client, point)
    hidden["submission_id"] = token
    response = submit(client, point, valid_answers(), hidden)
    assert response.status_code == 400
    assert "Mã phiếu không hợp lệ" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


def test_body_over_the_size_limit_is_refused(client, point, dbs):
    hidden = open_form(client, point)
    fields = {**valid_answers(), "q_suggestion": "x" * 70_000}
    response = submit(client, point, fields, hidden)
    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


def test_invalid_utf8_is_refused(client, point, dbs):
    hidden = open_form(client, point)
    from urllib.parse import urlencode

    body = urlencode({**hidden, **valid_answers()}).encode("ascii") + b"&q_suggestion=%C3%28%FF"
    response = client.post(f"/f/{point.code}", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


def test_json_body_is_refused(client, point, dbs):
    open_form(client, point)
    response = client.post(f"/f/{point.code}", json=valid_answers())
    assert response.status_code == 415
    assert count(dbs, Response) == 0


def test_unknown_code_shows_a_clear_page(client, demo):
    response = client.get("/f/khongtontai2345678")
    assert response.status_code == 404
    assert "Không tìm thấy phiếu khảo sát" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [(CampaignStatus.CLOSED, 410, "Đợt khảo sát đã kết thúc"), (CampaignStatus.DRAFT, 403, "chưa bắt đầu")],
)
def test_campaign_not_open_shows_a_clear_page_and_stores_nothing(client, point, dbs, status, code, text):
    hidden = open_form(client, point)
    dbs.execute(update(Campaign).values(status=status))
    dbs.commit()
    assert client.get(f"/f/{point.code}").status_code == code
    response = submit(client, point, valid_answers(), hidden)
    assert response.status_code == code and text in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


def test_inactive_point_shows_a_clear_page(client, point, dbs):
    dbs.execute(update(CollectionPoint).where(CollectionPoint.id == point.id).values(active=False))
    dbs.commit()
    response = client.get(f"/f/{point.code}")
    assert response.status_code == 410 and "ngừng sử dụng" in response.get_data(as_text=True)


def _set_quota(dbs, point, target: int, received: int = 0) -> None:
    dbs.execute(
        update(Quota)
        .where(Quota.group_id == point.group_id, Quota.unit_id == point.unit_id)
        .values(target=target, received=received)
    )
    dbs.commit()


def test_full_quota_in_stop_mode_shows_a_kind_page(client, point, dbs):
    _set_quota(dbs, point, target=1)
    hidden_a = open_form(client, point)
    hidden_b = open_form(client, point)
    assert submit(client, point, valid_answers(), hidden_a).status_code == 200
    late = submit(client, point, valid_answers(), hidden_b)
    assert late.status_code == 409 and "Đã đủ số phiếu" in late.get_data(as_text=True)
    again = client.get(f"/f/{point.code}")
    assert again.status_code == 200 and "Đã đủ số phiếu" in again.get_data(as_text=True)
    # the citizen who got through may still retry safely
    assert submit(client, point, valid_answers(), hidden_a).status_code == 200
    assert count(dbs, Response) == 1


def test_full_quota_in_accept_mode_marks_over_quota(client, point, dbs):
    dbs.execute(update(Campaign).values(quota_full_policy=QuotaFullPolicy.ACCEPT))
    dbs.commit()
    _set_quota(dbs, point, target=1)
    assert submit(client, point, valid_answers()).status_code == 200
    assert submit(client, point, valid_answers()).status_code == 200
    flags = sorted(dbs.scalars(select(Response.over_quota)))
    assert flags == [False, True]


OPTIONAL_ONLY = """
id: optional_only
version: 1
title: Phiếu thử
aspects: {a: Khía cạnh}
scales:
  agree3: [Không đồng ý, Phân vân, Đồng ý]
sections:
  - id: s
    title: Phần một
    questions:
      - {id: level, type: scale, scale: agree3, aspect: a, label: Mức độ, required: false}
      - {id: pick, type: single, label: Chọn, required: false, options: [{code: a, label: A}, {code: b, label: B}]}
      - {id: many, type: multiple, label: Chọn nhiều, required: false, options: [{code: a, label: A}, {code: b, label: B}]}
      - {id: amount, type: number, label: Số tiền, required: false, integer: false}
"""


@pytest.mark.parametrize(
    ("field", "value"),
    [("q_level", " "), ("q_pick", " "), ("q_many", " "), ("q_amount", "nan"), ("q_amount", "inf"), ("q_amount", " ")],
)
def test_blank_or_non_numbers_on_optional_questions_are_refused(app, field, value):
    """A blank sent for an optional choice or number is refused with a message (it was stored as
    the code " ", or crashed a scale with a server error); "nan" and "inf" are not amounts. An
    optional question left out stays simply unanswered."""
    from werkzeug.datastructures import MultiDict

    from questionnaires import load_text
    from surveyapp.collect.forms import build_form_class

    form_class = build_form_class(load_text(OPTIONAL_ONLY, "optional_only.yaml"), {})
    with app.test_request_context("/"):
        form = form_class(formdata=MultiDict([(field, value)]))
        assert not form.validate() and form[field].errors and form.error_count == 1
        nothing = form_class(formdata=MultiDict([("q_amount", "")]))
        assert nothing.validate(), nothing.errors
        assert nothing.answer_rows(1) == []
