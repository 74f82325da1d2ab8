"""SPSS, Stata and CSV + codebook exports of a group's answers (issue 19, part 4): read back with
pyreadstat, every value equals the raw export's, with the questions as variable labels, the
Vietnamese labels of options and scales as value labels, and "not asked" / "no answer" declared
as missing; the same anonymity as the raw export."""

from __future__ import annotations

import csv
import math

import pyreadstat
import pytest
from openpyxl import load_workbook

from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.results import datafile
from surveyapp.results.services import question_columns, questionnaires, raw_rows

KEY = "ninh-giang-2023"


@pytest.fixture
def answered(demo, dbs):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.2, seed=11)
    dbs.commit()
    return campaign


def _rows(dbs, campaign, code="citizen"):
    group = next(g for g in campaign.groups if g.code == code)
    return questionnaires(campaign)[code], list(raw_rows(dbs, campaign, group))


def test_spss_file_has_labels_values_and_declared_missing(runner, answered, dbs, tmp_path):
    out = tmp_path / "dan.sav"
    result = runner.invoke(args=["export-data", KEY, "citizen", str(out)])
    assert result.exit_code == 0, result.output
    questionnaire, rows = _rows(dbs, answered)
    assert f"{len(rows)} dòng" in result.output and len(rows) > 50
    data, meta = pyreadstat.read_sav(str(out), user_missing=True)
    assert len(data) == len(rows)
    labels = meta.column_names_to_labels
    assert labels["stt"] == "Số thứ tự phiếu" and labels["don_vi"] == "Đơn vị"
    overall = questionnaire.question("overall_satisfaction")
    assert labels["overall_satisfaction"] == overall.label
    assert meta.variable_value_labels["overall_satisfaction"][5.0] == "Rất hài lòng"
    assert meta.variable_value_labels["procedure_field"][3.0] == "Đất đai"
    assert meta.variable_value_labels["on_time"] == {1.0: "Có", 0.0: "Không", -8.0: datafile.MISSING_LABELS[-8],
                                                     -9.0: datafile.MISSING_LABELS[-9]}  # fmt: skip
    assert {r["lo"] for r in meta.missing_ranges["overall_satisfaction"]} == {-8.0, -9.0}
    # every value is the raw export's answer, coded
    for row, (_i, got) in zip(rows, data.iterrows(), strict=True):
        assert got["stt"] == row.number and got["ma_don_vi"] == row.unit_code
        assert got["ngay"] == row.day
        level = row.values.get("overall_satisfaction")
        assert got["overall_satisfaction"] == (float(level) if level is not None else -9.0)
        field = row.values.get("procedure_field")
        codes = [o.code for o in questionnaire.question("procedure_field").options]
        assert got["procedure_field"] == codes.index(field) + 1
    # skip logic: asked only after "yes" to gave_feedback, so "not asked" otherwise
    follow = next(q for q in question_columns(questionnaire) if q.show_if and q.show_if.question == "gave_feedback")
    for row, (_i, got) in zip(rows, data.iterrows(), strict=True):
        if row.values.get("gave_feedback") == "no":
            assert got[follow.id] == -8.0
    # no column could name a respondent: only the raw export's fixed columns and the questions
    assert not {"submission_id", "id", "invitation", "device_hash", "gio"} & set(data.columns)


def test_stata_file_has_short_names_and_extended_missing(runner, answered, dbs, tmp_path):
    out = tmp_path / "dan.dta"
    assert runner.invoke(args=["export-data", KEY, "citizen", str(out)]).exit_code == 0
    questionnaire, rows = _rows(dbs, answered)
    data, meta = pyreadstat.read_dta(str(out), user_missing=True)
    assert len(data) == len(rows) and all(len(c) <= 32 for c in data.columns)
    assert all(len(label) <= 80 for label in meta.column_names_to_labels.values())
    assert meta.variable_value_labels["overall_satisfaction"][5] == "Rất hài lòng"
    follow = next(q for q in question_columns(questionnaire) if q.show_if and q.show_if.question == "gave_feedback")
    skipped = [r.values.get("gave_feedback") == "no" for r in rows]
    assert any(skipped) and set(meta.missing_user_values[follow.id]) <= {"a", "b"}
    for was_skipped, value in zip(skipped, data[follow.id].tolist(), strict=True):
        assert value == "a" if was_skipped else value in (1, 2, 3, 4, 5, "b")
    for v in (v for v in datafile.variables(questionnaire, 32) if v.question is not None and not v.text):
        assert not any(isinstance(x, float) and math.isnan(x) for x in data[v.name].tolist()), v.name


def test_csv_and_codebook(runner, answered, dbs, tmp_path):
    out = tmp_path / "dan.csv"
    result = runner.invoke(args=["export-data", KEY, "citizen", str(out)])
    assert result.exit_code == 0, result.output
    questionnaire, rows = _rows(dbs, answered)
    with open(out, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    names = [v.name for v in datafile.variables(questionnaire)]
    assert table[0] == names and len(table) == len(rows) + 1
    assert table[1][names.index("ngay")] == rows[0].day.strftime("%d/%m/%Y")
    book = load_workbook(tmp_path / "dan-codebook.xlsx")
    sheet = book["Biến"]
    entries = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(entries) == set(names)
    assert "5 = Rất hài lòng" in entries["overall_satisfaction"][4] and "-9 = Không trả lời" in entries[
        "overall_satisfaction"][4]  # fmt: skip
    assert entries["overall_satisfaction"][2] == questionnaire.question("overall_satisfaction").label


def test_a_wrong_group_or_extension_is_told_in_vietnamese(runner, answered, tmp_path):
    wrong = runner.invoke(args=["export-data", KEY, "nope", str(tmp_path / "x.sav")])
    assert wrong.exit_code != 0 and "không có nhóm “nope”" in wrong.output and "citizen" in wrong.output
    ext = runner.invoke(args=["export-data", KEY, "citizen", str(tmp_path / "x.xls")])
    assert ext.exit_code != 0 and ".sav (SPSS), .dta (Stata) hoặc .csv" in ext.output


SMALL = """
id: nho
version: 1
title: Phiếu nhỏ
aspects: {overall: Đánh giá chung}
sections:
  - id: a
    title: Phần một
    questions:
      - id: kenh_biet
        type: multiple
        label: Ông/bà biết thủ tục qua kênh nào?
        options:
          - {code: loa, label: Loa phát thanh}
          - {code: mang, label: Mạng xã hội}
          - {code: can_bo, label: Cán bộ thôn}
      - id: hai_long
        type: scale
        aspect: overall
        label: Ông/bà hài lòng không?
"""


def test_multiple_choice_is_one_variable_per_option_and_a_rating_alone_is_no_answer(tmp_path):
    from datetime import date

    from questionnaires import load_text
    from surveyapp.results.services import RawRow

    questionnaire = load_text(SMALL)
    rows = [
        RawRow(1, "Dân", "X1", "Xã Một", "mã QR tại quầy", date(2026, 12, 3), {"kenh_biet": "loa;can_bo", "hai_long": 4.0}),
        RawRow(2, "Dân", "X1", "Xã Một", "mã QR tại quầy", date(2026, 12, 3), {"kenh_biet": "mang", "hai_long": 2.0}),
        RawRow(3, "Dân", "X2", "Xã Hai", "máy tính bảng", date(2026, 12, 4), {"hai_long": 5.0}),  # a one-tap rating
    ]  # fmt: skip
    out = tmp_path / "m.sav"
    assert datafile.write(str(out), "sav", questionnaire, rows) == 3
    data, meta = pyreadstat.read_sav(str(out), user_missing=True)
    assert meta.column_names_to_labels["kenh_biet_1"] == "Ông/bà biết thủ tục qua kênh nào?: Loa phát thanh"
    assert data["kenh_biet_1"].tolist() == [1.0, 0.0, -9.0]
    assert data["kenh_biet_2"].tolist() == [0.0, 1.0, -9.0]
    assert data["kenh_biet_3"].tolist() == [1.0, 0.0, -9.0]
    assert data["hai_long"].tolist() == [4.0, 2.0, 5.0]
    assert meta.variable_value_labels["kenh_biet_2"][1.0] == "Có chọn"


def test_the_results_page_offers_each_groups_files(app, client, demo, answered, dbs):
    from .test_qr_posters import login

    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)
    assert f"/admin/c/{KEY}/g/citizen/data.sav" in page and f"/admin/c/{KEY}/g/citizen/codebook.xlsx" in page
    sav = client.get(f"/admin/c/{KEY}/g/citizen/data.sav")
    assert (
        sav.status_code == 200
        and 'filename="du-lieu-ninh-giang-2023-citizen.sav"' in sav.headers["Content-Disposition"]
    )
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".sav") as f:
        f.write(sav.data)
        f.flush()
        data, meta = pyreadstat.read_sav(f.name)
    questionnaire, rows = _rows(dbs, answered)
    assert len(data) == len(rows) and meta.column_names_to_labels["overall_satisfaction"]
    dta = client.get(f"/admin/c/{KEY}/g/citizen/data.dta")
    assert dta.status_code == 200 and dta.data[:1] == b"<"  # Stata 117+ files open with an XML-like tag
    book = client.get(f"/admin/c/{KEY}/g/citizen/codebook.xlsx")
    assert book.status_code == 200 and book.data[:2] == b"PK"
    assert client.get(f"/admin/c/{KEY}/g/citizen/data.xls").status_code == 404
    stranger = app.test_client()  # not signed in
    assert stranger.get(f"/admin/c/{KEY}/g/citizen/data.sav").status_code in (302, 401, 403)
