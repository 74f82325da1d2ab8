"""Questionnaires in several languages: translations in the definition and in XLSForm
(label::<language>), the respondent picks a language, the response records it, scores pool."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from pyxform.xls2xform import convert
from sqlalchemy import select

from questionnaires import BUILTIN_DIR, DefinitionError, load_text
from questionnaires import editing as ed
from questionnaires.xlsform import read_xlsform, write_xlsform
from surveyapp.authoring.services import import_definition, switch_version
from surveyapp.models import Campaign, CollectionPoint, RespondentGroup, Response, Unit
from surveyapp.results.services import compute, level_counts

from .conftest import hidden_fields
from .helpers import valid_answers

TWO = (BUILTIN_DIR.parent.parent / "tests" / "data" / "hai_ngon_ngu.yaml").read_text(encoding="utf-8")


def test_texts_come_in_the_chosen_language_with_vietnamese_as_fallback():
    vi, km = load_text(TWO), load_text(TWO, language="km")
    assert vi.languages == {"vi": "Tiếng Việt", "km": "ភាសាខ្មែរ"}
    assert (vi.title, km.title) == ("Phiếu khảo sát", "ការស្ទង់មតិ")
    assert km.question("hai_long").label == "តើលោកអ្នកពេញចិត្តទេ?"
    assert km.question("hai_long").scale.labels[4] == "ពេញចិត្តខ្លាំង"
    assert [o.label for o in km.question("dung_hen").choices()] == ["បាទ/ចាស", "ទេ"]
    # no translation written: the Vietnamese stays
    assert km.question("dung_hen").label == "Đúng hẹn không?"
    assert [o.label for o in km.question("kenh").options] == ["នៅបញ្ជរ", "Trực tuyến"]
    # one questionnaire: the same content hash and codes in every language
    assert vi.content_hash == km.content_hash
    assert [o.code for o in vi.question("kenh").options] == [o.code for o in km.question("kenh").options]
    # a language it does not have: Vietnamese
    assert load_text(TWO, language="fr").title == "Phiếu khảo sát"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("label::km: តើលោកអ្នកពេញចិត្តទេ?", "label::en: Are you satisfied?"), "ngôn ngữ “en” chưa khai báo"),
        (('languages: {km: "ភាសាខ្មែរ"}', 'languages: {vi: "Tiếng Việt"}'), "mã ngôn ngữ “vi” không hợp lệ"),
        (("yesno::km: [បាទ/ចាស, ទេ]", "yesno::km: [បាទ/ចាស]"), "phải là hai nhãn"),
        (("ពេញចិត្ត, ពេញចិត្តខ្លាំង]", "ពេញចិត្ត]"), "phải có đúng 5 mức"),
    ],
)
def test_bad_translations_are_explained(change, message):
    old, new = change
    assert old in TWO
    with pytest.raises(DefinitionError) as caught:
        load_text(TWO.replace(old, new))
    assert message in str(caught.value)


def test_two_languages_round_trip_through_xlsform_and_pyxform_converts_it():
    data = write_xlsform(ed.load_document(TWO))
    warnings: list[str] = []
    convert(data, warnings=warnings, file_type=".xlsx")
    assert not warnings
    back = load_text(ed.dump_document(read_xlsform(data, "hai.xlsx")))
    assert back.content_hash == load_text(TWO).content_hash


def test_a_kobo_form_in_vietnamese_and_english_imports_with_both():
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in [
        ["type", "name", "label::Vietnamese (vi)", "label::English (en)", "required"],
        ["begin group", "g", "Đánh giá", "Rating"],
        ["select_one sat", "hai_long", "Ông/bà hài lòng không?", "Are you satisfied?", "yes"],
        ["end group"],
    ]:
        survey.append(row)
    choices = book.create_sheet("choices")
    labels = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
    english = ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"]
    choices.append(["list_name", "name", "label::Vietnamese (vi)", "label::English (en)"])
    for i, (vi, en) in enumerate(zip(labels, english, strict=True), start=1):
        choices.append(["sat", str(i), vi, en])
    out = io.BytesIO()
    book.save(out)
    doc = read_xlsform(out.getvalue(), "song-ngu.xlsx")
    vi, en = load_text(ed.dump_document(doc)), load_text(ed.dump_document(doc), language="en")
    assert vi.languages == {"vi": "Tiếng Việt", "en": "English"}
    assert vi.question("hai_long").label == "Ông/bà hài lòng không?"
    assert en.question("hai_long").label == "Are you satisfied?"
    assert (
        en.question("hai_long").scale.labels == tuple(english) and vi.question("hai_long").scale.name == "satisfaction5"
    )
    assert en.sections[0].title == "Rating"


def test_a_phone_answers_in_the_second_language_and_scores_pool_both(app, client, demo, dbs):
    doc = ed.load_document((BUILTIN_DIR / "citizen_counter.yaml").read_text(encoding="utf-8"))
    doc["id"], doc["languages"] = "citizen_vi_en", {"en": "English"}
    doc["title::en"] = "Citizen satisfaction survey"
    doc["scales::en"] = {
        "satisfaction5": ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"]
    }
    ed.find_question(doc, "overall_satisfaction").question["label::en"] = "Overall, how satisfied are you?"
    text = ed.dump_document(doc)
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    group = dbs.scalar(select(RespondentGroup).where(RespondentGroup.code == "citizen"))
    with app.test_request_context():
        version = import_definition(dbs, load_text(text), text)
        switch_version(dbs, campaign, group, version, confirmed=True)
    dbs.commit()
    point = dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == "HDG-NGG-05")).first()
    url = f"/f/{point.code}"

    page = client.get(url).get_data(as_text=True)
    assert '<html lang="vi">' in page and 'href="?lang=en"' in page and "English" in page
    english = client.get(f"{url}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Overall, how satisfied are you?" in english and "Very satisfied" in english
    assert f'action="{url}?lang=en"' in english

    assert client.post(url, data={**hidden_fields(page), **valid_answers(level="5")}).status_code == 200
    response = client.post(f"{url}?lang=en", data={**hidden_fields(english), **valid_answers(level="4")})
    assert response.status_code == 200
    stored = dbs.scalars(select(Response).where(Response.questionnaire_version_id == version.id)).all()
    assert sorted(r.language for r in stored) == ["en", "vi"]
    counts = [c for c in level_counts(dbs, campaign) if c.question == "overall_satisfaction" and c.unit == "HDG-NGG-05"]
    assert {c.level: c.n for c in counts} == {4: 1, 5: 1}
    table, _ = compute(dbs, campaign)
    assert table.unit("HDG-NGG-05").criteria["8.1.3"].n > 0


def test_cli_lists_languages_and_paper_prints_each_language(runner, client, demo, dbs, tmp_path):
    path = tmp_path / "hai.yaml"
    path.write_text(TWO, encoding="utf-8")
    assert runner.invoke(args=["questionnaire", "import", str(path)]).exit_code == 0
    rows = [line.split("\t") for line in runner.invoke(args=["questionnaire", "list"]).output.splitlines()]
    assert ["hai_ngon_ngu", "1", "Phiếu khảo sát", "vi,km", "0"] in rows
    assert ["leader", "1", "Phiếu lấy ý kiến lãnh đạo về kết quả cải cách hành chính", "vi", "0"] in rows


def test_paper_form_prints_in_another_language(app, client, demo, dbs):
    from .test_qr_posters import login

    doc = ed.load_document((BUILTIN_DIR / "citizen_counter.yaml").read_text(encoding="utf-8"))
    doc["id"], doc["languages"], doc["title::en"] = "citizen_paper_en", {"en": "English"}, "Citizen survey"
    text = ed.dump_document(doc)
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    group = dbs.scalar(select(RespondentGroup).where(RespondentGroup.code == "citizen"))
    with app.test_request_context():
        switch_version(dbs, campaign, group, import_definition(dbs, load_text(text), text), confirmed=True)
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    vi = client.get(f"/admin/c/{demo.campaign_key}/g/citizen/paper").get_data(as_text=True)
    en = client.get(f"/admin/c/{demo.campaign_key}/g/citizen/paper?lang=en").get_data(as_text=True)
    assert re.search(r'<option value="en"[^>]*>', vi) and "Phiếu khảo sát sự hài lòng" in vi
    assert '<html lang="en">' in en and "<h1>Citizen survey</h1>" in en
