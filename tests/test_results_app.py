"""Results in the app: the pages, the scorers' workbook read back, the raw data and the CLI."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import datetime

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select
from werkzeug.security import generate_password_hash

from questionnaires.scoring.stats import cronbach_alpha
from surveyapp.campaigns.services import campaign_by_key
from surveyapp.collect.services import questionnaire_of
from surveyapp.demo.fake import fill
from surveyapp.models import Answer, Response, Role, User
from surveyapp.results.services import alphas, compute

from .conftest import hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login


@pytest.fixture
def answered(demo, dbs):
    campaign = campaign_by_key(dbs, demo.campaign_key)
    fill(dbs, campaign, share=0.5, seed=7)
    dbs.commit()
    return campaign


def test_results_page_ranks_units(client, demo, answered):
    login(client, demo.admin_username, demo.admin_password)
    html = client.get(f"/admin/c/{demo.campaign_key}/results").get_data(as_text=True)
    assert "Xếp hạng đơn vị" in html and "Hài lòng chung" in html and "Cronbach" in html
    assert html.count('<a href="/admin/c/ninh-giang-2023/results/u/') == 20
    assert '<svg class="chart"' in html
    unit = client.get(f"/admin/c/{demo.campaign_key}/results/u/HDG-NGG-04").get_data(as_text=True)
    assert "Xã Đức Phúc" in unit and "Theo tiêu chí" in unit and '<svg class="stack"' in unit
    assert client.get(f"/admin/c/{demo.campaign_key}/results/u/NOWHERE").status_code == 404
    rules = client.get(f"/admin/c/{demo.campaign_key}/rules").get_data(as_text=True)
    assert "Kết quả khảo sát sự hài lòng tại Bộ phận một cửa" in rules and "component_total: 10" in rules
    # the table names groups and questions as people know them (the rules file below keeps the codes)
    table = rules.split("<h2>Tệp quy tắc</h2>")[0]
    assert "Người dân, tổ chức tại Bộ phận một cửa · trọng số 1" in table
    assert "<li>Chỗ ngồi chờ, bàn ghế, nước uống tại nơi làm thủ tục</li>" in table and "access_seating" not in table


def test_workbook_points_equal_the_scoring_module_and_text_stays_text(client, demo, answered, dbs):
    # one citizen writes a formula as a suggestion
    from surveyapp.models import CollectionPoint

    code = dbs.scalars(select(CollectionPoint.code)).first()
    html = client.get(f"/f/{code}").get_data(as_text=True)
    fields = valid_answers()
    fields["q_suggestion"] = '=HYPERLINK("http://x","bấm")'
    assert client.post(f"/f/{code}", data={**hidden_fields(html), **fields}).status_code == 200

    table, _counts = compute(dbs, campaign_by_key(dbs, demo.campaign_key))
    login(client, demo.admin_username, demo.admin_password)
    response = client.get(f"/admin/c/{demo.campaign_key}/results.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    summary = book["Tổng hợp"]
    header = [c.value for c in summary[3]]
    assert header[:3] == ["Hạng", "Mã đơn vị", "Đơn vị"] and header[-3:] == [
        "Tổng (tối đa 10)",
        "Ghi chú",
        "Khoảng hạng (95%)",
    ]
    rows = {r[1]: r for r in summary.iter_rows(min_row=4, values_only=True) if r[1]}
    assert len(rows) == len(table.units) == 20
    for unit in table.units:
        row = rows[unit.unit]
        for i, c in enumerate(table.rules.criteria, start=3):
            assert row[i] == pytest.approx(unit.criteria[c.code].points, abs=1e-12)
        assert row[3 + len(table.rules.criteria)] == pytest.approx(unit.total, abs=1e-12)
        assert row[0] == unit.rank
    assert summary.freeze_panes == "D4" and summary.auto_filter.ref
    assert summary["D4"].number_format == "0.00"
    assert {f"TC {c.code}" for c in table.rules.criteria} <= set(book.sheetnames)
    assert "Phương pháp" in book.sheetnames and "Biểu đồ" in book.sheetnames
    method = " ".join(str(c.value) for c in book["Phương pháp"]["A"] if c.value)
    assert "nhóm Người dân, tổ chức tại Bộ phận một cửa" in method and "“Chỗ ngồi chờ" in method
    assert "access_seating" not in method
    # raw sheets are named by group, headed by the question as asked with its code below
    raw = book[next(n for n in book.sheetnames if n.startswith("Dữ liệu Người dân"))]
    header, codes = [c.value for c in raw[1]], [c.value for c in raw[2]]
    column = codes.index("suggestion")
    assert header[column] == "Ông/bà có đề xuất gì để cơ quan phục vụ tốt hơn?"
    cells = [
        row[column] for row in raw.iter_rows(min_row=3) if row[column].value and str(row[column].value).startswith("=")
    ]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not any("submission" in (h or "") for h in header + codes)
    first = next(raw.iter_rows(min_row=3, values_only=True))
    assert first[1] == "Người dân, tổ chức tại Bộ phận một cửa" and first[4] == "mã QR tại quầy"
    assert isinstance(first[5], datetime) and raw.cell(3, 6).number_format == "dd/mm/yyyy"  # a real date
    fields = {o.label for o in questionnaire_of_code("citizen_counter").question("procedure_field").options}
    assert first[codes.index("procedure_field")] in fields  # a label, not a code
    assert isinstance(first[codes.index("access_seating")], int | float)  # a scale level stays a number
    book_rows = list(book["Bảng mã"].iter_rows(min_row=2, values_only=True))
    seating = next(r for r in book_rows if r[1] == "access_seating")
    assert seating[3] == "thang đo" and seating[4].startswith("1 = ")


def questionnaire_of_code(stem: str):
    from questionnaires import builtin_files, load_questionnaire

    return load_questionnaire(next(p for p in builtin_files() if p.stem == stem))


def test_raw_csv_neutralises_formulas(client, demo, dbs):
    from surveyapp.models import CollectionPoint

    code = dbs.scalars(select(CollectionPoint.code)).first()
    html = client.get(f"/f/{code}").get_data(as_text=True)
    fields = {**valid_answers(), "q_suggestion": "=1+1"}
    client.post(f"/f/{code}", data={**hidden_fields(html), **fields})
    login(client, demo.admin_username, demo.admin_password)
    text = client.get(f"/admin/c/{demo.campaign_key}/g/citizen/raw.csv").data.decode("utf-8-sig")
    assert "'=1+1" in text and ",=1+1" not in text
    # people read it: questions as headers (code in brackets), labels, channels and dates in Vietnamese
    header, first = text.splitlines()[:2]
    assert "Thủ tục ông/bà vừa thực hiện thuộc lĩnh vực nào? [procedure_field]" in header
    assert "mã QR tại quầy" in first and ",counter," not in first and re.search(r",\d\d/\d\d/\d{4},", first)


def test_alpha_from_the_database_equals_alpha_of_the_raw_matrix(answered, dbs):
    """Every group and aspect, against numpy on the raw answers (a respondent counts for an aspect
    when they answered all its scale items for that unit); one query per group, not per aspect."""
    statements = []
    engine = dbs.get_bind()
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        dbs.expire_all()
        got = {(a.group, a.aspect): a for a in alphas(dbs, answered)}
    finally:
        event.remove(engine, "before_cursor_execute", record)
    groups = list(answered.groups)
    assert 0 < len([s for s in statements if "FROM answer" in s]) <= len(groups)
    checked = 0
    for group in groups:
        questionnaire = questionnaire_of(group.questionnaire_version)
        by_aspect = defaultdict(list)
        for q in questionnaire.scale_items():
            by_aspect[q.aspect].append(q.id)
        for aspect, ids in by_aspect.items():
            if len(ids) < 2:
                assert (group.code, aspect) not in got
                continue
            matrix = defaultdict(dict)
            for rid, unit, qid, value in dbs.execute(
                select(Answer.response_id, Answer.subject_unit_id, Answer.question_id, Answer.value_num)
                .join(Response)
                .where(
                    Response.group_id == group.id,
                    Response.status == "valid",
                    Answer.question_id.in_(ids),
                    Answer.value_num.is_not(None),
                )  # fmt: skip
            ):
                matrix[rid, unit][qid] = value
            x = np.array([[row[q] for q in ids] for row in matrix.values() if len(row) == len(ids)])
            found = got[group.code, aspect]
            assert found.observations == len(x) and found.items == len(ids)
            complete = [rid for (rid, _unit), row in matrix.items() if len(row) == len(ids)]
            assert found.respondents == len(set(complete))
            if len(x) >= 2:
                assert found.alpha == pytest.approx(cronbach_alpha(x), abs=1e-9)
                checked += 1
    assert checked >= 5  # the demo has several multi-item aspects with answers


def test_export_scores_command(runner, answered, tmp_path):
    out = tmp_path / "diem.xlsx"
    result = runner.invoke(args=["export-scores", "ninh-giang-2023", str(out)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines() if line.startswith("HDG")]
    assert len(lines) == 20 and sorted(int(line[2]) for line in lines)[0] == 1
    assert load_workbook(out)["Tổng hợp"]["A3"].value == "Hạng"


def test_campaign_without_rules_says_so(client, demo, dbs, runner):
    campaign = campaign_by_key(dbs, demo.campaign_key)
    campaign.scoring_rules = None
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    assert "chưa có quy tắc tính điểm" in client.get(f"/admin/c/{demo.campaign_key}/results").get_data(as_text=True)
    result = runner.invoke(args=["export-scores", demo.campaign_key, "/tmp/x.xlsx"])
    assert result.exit_code == 1 and "chưa có quy tắc tính điểm" in result.output


@pytest.mark.parametrize("role", [Role.CLERK, Role.UNIT_OFFICER])
def test_results_are_for_scorers_and_administrators(client, demo, dbs, role):
    dbs.add(User(username="nguoi", password_hash=generate_password_hash("mat-khau-3"), role=role))
    dbs.commit()
    login(client, "nguoi", "mat-khau-3")
    for path in ("/results", "/results.xlsx", "/rules", "/g/citizen/raw.csv", "/results/u/HDG-NGG-02"):
        assert client.get(f"/admin/c/{demo.campaign_key}{path}").status_code == 403
