"""The methodology dossier (issue 19, part 2): a Word document from which an inspector can redo the
sample: the plan as applied, quotas per unit × group, every draw with its seed, the list's
sha256 and the drawn ids in order, and the command that draws the same people again."""

from __future__ import annotations

import json
import re
import shlex

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyapp.models import FrameDraw, Quota

from .test_planning_app import NINH_GIANG_PLAN


def _text(path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_dossier_lets_an_inspector_draw_the_same_people_again(runner, demo, dbs, tmp_path):
    assert runner.invoke(args=["plan", demo.campaign_key, str(NINH_GIANG_PLAN), "--apply"]).exit_code == 0
    frame = tmp_path / "an-duc.csv"
    frame.write_text(
        "Mã hồ sơ,Họ tên,Số điện thoại\n" + "".join(f"HS{i},Người {i},0912{i:06d}\n" for i in range(300)),
        encoding="utf-8",
    )
    drawn = runner.invoke(args=["draw", str(frame), "--n", "25", "--reserve", "5", "--method", "systematic",
                                "--seed", "20261203", "--out", str(tmp_path / "d.xlsx"), "--campaign",
                                demo.campaign_key, "--unit", "HDG-NGG-02", "--group", "citizen"])  # fmt: skip
    assert drawn.exit_code == 0, drawn.output
    out = tmp_path / "ho-so-chon-mau.docx"
    result = runner.invoke(args=["dossier", demo.campaign_key, str(out)])
    assert result.exit_code == 0, result.output
    text = _text(out)
    record = dbs.scalars(select(FrameDraw)).one()
    for needed in ("HỒ SƠ CHỌN MẪU", "Kế hoạch mẫu", "Cố định mỗi đơn vị", "Toàn bộ danh sách (tổng điều tra)",
                   "số phiếu mỗi đơn vị: 60", "method: fixed", "thuộc Huyện Ninh Giang; loại: xã, thị trấn", "Chỉ tiêu và số phiếu đã nhận", "20261203", record.frame_sha256,
                   "hệ thống (khoảng cách đều, điểm đầu ngẫu nhiên)", "Xã An Đức"):  # fmt: skip
        assert needed in text, needed
    assert ", ".join(json.loads(record.selected_ids)) in text and ", ".join(json.loads(record.reserve_ids)) in text
    total = dbs.scalar(select(func.sum(Quota.target)))
    assert f"Tổng\n\n{total:,}".replace(",", ".") in text  # the quota table's last row
    assert "0912" not in text and "Người 1" not in text  # no name, no contact: record ids only

    # the inspector runs the command the dossier gives, on the same file: the same people, in order
    command = re.search(r"surveyapp draw TỆP (.+)", text).group(1)
    args = shlex.split(command)
    args[args.index("--out") + 1] = str(tmp_path / "again.xlsx")
    again = runner.invoke(args=["draw", str(frame), *args])
    assert again.exit_code == 0, again.output
    sheet = load_workbook(tmp_path / "again.xlsx").active
    ids = [sheet.cell(row=5 + i, column=3).value for i in range(30)]
    assert ids == json.loads(record.selected_ids) + json.loads(record.reserve_ids)


def test_a_campaign_without_a_plan_or_draws_says_so_and_the_pdf_says_the_same(runner, demo, tmp_path):
    out = tmp_path / "hs.docx"
    assert runner.invoke(args=["dossier", demo.campaign_key, str(out)]).exit_code == 0
    text = _text(out)
    assert "không có lần chọn ngẫu nhiên nào" in text
    pdf = tmp_path / "hs.pdf"
    assert runner.invoke(args=["dossier", demo.campaign_key, str(pdf)]).exit_code == 0
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    from pypdf import PdfReader

    said = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    for line in ("HỒ SƠ CHỌN MẪU", "Chỉ tiêu và số phiếu đã nhận theo đơn vị", "không có lần chọn ngẫu nhiên nào",
                 "Trang 1/"):  # fmt: skip
        assert line in said, line
    wrong = runner.invoke(args=["dossier", demo.campaign_key, str(tmp_path / "hs.odt")])
    assert wrong.exit_code != 0 and "đuôi .docx hoặc .pdf" in wrong.output


def test_the_plan_page_gives_the_dossier_as_word_and_pdf(app, client, demo):
    from .test_qr_posters import login

    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{demo.campaign_key}/plan").get_data(as_text=True)
    assert "Hồ sơ chọn mẫu (Word)" in page and "Hồ sơ chọn mẫu (PDF)" in page
    word = client.get(f"/admin/c/{demo.campaign_key}/ho-so-chon-mau.docx")
    assert word.status_code == 200 and word.data[:2] == b"PK"
    assert f'filename="ho-so-chon-mau-{demo.campaign_key}.docx"' in word.headers["Content-Disposition"]
    pdf = client.get(f"/admin/c/{demo.campaign_key}/ho-so-chon-mau.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert client.get(f"/admin/c/{demo.campaign_key}/ho-so-chon-mau.odt").status_code == 404
    assert app.test_client().get(f"/admin/c/{demo.campaign_key}/ho-so-chon-mau.pdf").status_code in (302, 401, 403)
