"""The annual report (issue 19, part 1, first version): method, results and an annex per unit, in
Word and PDF, with the results page's and the workbook's numbers to the last digit."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from questionnaires.labels import vn_number
from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.results.services import compute

from .test_qr_posters import login

KEY = "ninh-giang-2023"


def _docx_text(path) -> str:
    doc = Document(str(path))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def test_the_report_has_the_workbooks_numbers_and_a_page_per_unit(runner, client, demo, dbs, tmp_path):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.4, seed=5)
    dbs.commit()
    out = tmp_path / "bao-cao.docx"
    result = runner.invoke(args=["report", KEY, str(out)])
    assert result.exit_code == 0, result.output
    text = _docx_text(out)
    table, _ = compute(dbs, campaign_by_key(dbs, KEY))
    for heading in ("BÁO CÁO KẾT QUẢ ĐIỀU TRA XÃ HỘI HỌC", "I. Phương pháp", "II. Kết quả", "Mức độ hài lòng",
                    "Phụ lục: kết quả của từng đơn vị"):  # fmt: skip
        assert heading in text, heading
    # the workbook's summary sheet, unit by unit: the same totals, written the same way
    login(client, demo.admin_username, demo.admin_password)
    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/results.xlsx").data))
    summary = {r[1]: r for r in book["Tổng hợp"].iter_rows(min_row=4, values_only=True) if r[1]}
    doc = Document(str(out))
    ranking = doc.tables[1]
    by_name = {row.cells[1].text: row for row in ranking.rows[1:]}
    for u in table.units:
        total = summary[u.unit][-3]
        assert by_name[u.name].cells[-1].text == vn_number(total, 2) == vn_number(u.total, 2)
        for i, c in enumerate(table.rules.criteria, start=2):
            assert by_name[u.name].cells[i].text == vn_number(u.criteria[c.code].points, 2)
        assert f"{u.name} ({u.unit})" in text  # its annex page
    pdf = tmp_path / "bao-cao.pdf"
    assert runner.invoke(args=["report", KEY, str(pdf)]).exit_code == 0
    said = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "Phụ lục: kết quả của từng đơn vị" in said and "Trang 1/" in said
    best = min((u for u in table.units if u.rank), key=lambda u: u.rank)
    assert vn_number(best.total, 2) in said


def test_a_report_needs_rules_and_a_docx_or_pdf_name(runner, demo, tmp_path):
    assert "đuôi .docx hoặc .pdf" in runner.invoke(args=["report", KEY, str(tmp_path / "x.txt")]).output


def test_each_unit_has_its_own_annex_page_in_the_pdf(runner, demo, dbs, tmp_path):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.2, seed=9)
    dbs.commit()
    pdf = tmp_path / "bc.pdf"
    assert runner.invoke(args=["report", KEY, str(pdf)]).exit_code == 0
    table, _ = compute(dbs, campaign_by_key(dbs, KEY))
    pages = [page.extract_text() for page in PdfReader(str(pdf)).pages]
    for u in table.units:
        holding = [i for i, text in enumerate(pages) if f"{u.name} ({u.unit})" in text]
        assert len(holding) == 1, u.name
        others = [x for x in table.units if x.unit != u.unit and f"{x.name} ({x.unit})" in pages[holding[0]]]
        assert others == [], (u.name, [x.name for x in others])


def test_the_results_page_gives_the_report(app, client, demo):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)
    assert "Báo cáo (Word)" in page and "Báo cáo (PDF)" in page
    word = client.get(f"/admin/c/{KEY}/bao-cao.docx")
    assert word.status_code == 200 and word.data[:2] == b"PK"
    pdf = client.get(f"/admin/c/{KEY}/bao-cao.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert client.get(f"/admin/c/{KEY}/bao-cao.rtf").status_code == 404
    assert app.test_client().get(f"/admin/c/{KEY}/bao-cao.pdf").status_code in (302, 401, 403)
