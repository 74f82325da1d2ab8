"""The planner inside the app: `surveyapp plan` and `surveyapp draw`, and the plan page."""

from __future__ import annotations

import io
import json
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from sampling import margin_of_error
from surveyapp.models import CollectionPoint, FrameDraw, Quota, Role, User

from .conftest import count, csrf_token
from .test_qr_posters import login

ROOT = Path(__file__).resolve().parent.parent
NINH_GIANG_PLAN = ROOT / "sampling" / "examples" / "ninh_giang_2023.yaml"


def test_plan_command_prints_every_cell_and_the_total(runner, demo):
    result = runner.invoke(args=["plan", demo.campaign_key, str(NINH_GIANG_PLAN)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    cells = [line for line in lines if line[0] != "total"]
    assert len(cells) == 24
    assert ["HDG-NGG-07", "citizen", "60", f"{margin_of_error(60, N=910):.4f}"] in cells
    assert ["total", "*", "1248"] in lines


def test_plan_command_applies_in_one_step(runner, demo, dbs, tmp_path):
    plan = tmp_path / "70.yaml"
    plan.write_text(
        "groups:\n  - {group: citizen, units: {under: HDG-NGG, kinds: [xã]}, method: fixed, per_unit: 70}\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(args=["plan", demo.campaign_key, str(plan), "--apply", "--xlsx", str(out)])
    assert result.exit_code == 0, result.output
    targets = dict(
        dbs.execute(
            select(Quota.target, func.count())
            .join(Quota.group)
            .where(Quota.group.has(code="citizen"))
            .group_by(Quota.target)
        ).all()
    )
    assert targets == {70: 19}  # the thị trấn is not a xã: its quota is gone
    assert dbs.scalar(select(func.sum(Quota.target))) == 19 * 70 + 48
    book = load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", "Theo đơn vị", "Chi tiết"]
    assert (
        book["Tổng hợp"]["A4"].value == "Người dân, tổ chức tại Bộ phận một cửa"
        and book["Tổng hợp"]["B4"].value == 1330
    )


def test_plan_command_refuses_unknown_groups_and_changes_nothing(runner, demo, dbs, tmp_path):
    plan = tmp_path / "bad.yaml"
    plan.write_text("groups:\n  - {group: youth, method: census, unit: HDG-NGG, size: 5}\n", encoding="utf-8")
    before = dbs.scalar(select(func.sum(Quota.target)))
    result = runner.invoke(args=["plan", demo.campaign_key, str(plan), "--apply"])
    assert result.exit_code == 1 and "không có nhóm đối tượng: youth" in result.output
    assert dbs.scalar(select(func.sum(Quota.target))) == before


def test_draw_command_records_ids_but_no_contacts(runner, demo, dbs, tmp_path):
    frame = tmp_path / "an-duc.csv"
    frame.write_text(
        "Mã hồ sơ,Họ tên,Số điện thoại\n" + "".join(f"HS{i},Người {i},0912{i:06d}\n" for i in range(500)),
        encoding="utf-8",
    )
    out = tmp_path / "an-duc.xlsx"
    args = ["draw", str(frame), "--n", "60", "--reserve", "10", "--seed", "42", "--out", str(out)]
    result = runner.invoke(args=[*args, "--campaign", demo.campaign_key, "--unit", "HDG-NGG-02", "--group", "citizen"])
    assert result.exit_code == 0, result.output
    assert "seed\t42" in result.output
    recorded = dbs.scalars(select(FrameDraw)).one()
    assert (recorded.seed, recorded.sample_size, recorded.reserve_size, recorded.frame_size) == (42, 60, 10, 500)
    selected = json.loads(recorded.selected_ids)
    assert len(selected) == 60 and not set(selected) & set(json.loads(recorded.reserve_ids))
    assert "0912" not in recorded.selected_ids + recorded.reserve_ids  # no contact is kept
    sheet = load_workbook(out).active
    assert [sheet.cell(row=5 + i, column=3).value for i in range(60)] == selected

    again = runner.invoke(args=[*args[:-1], str(tmp_path / "again.xlsx")])
    assert again.exit_code == 0
    sheet2 = load_workbook(tmp_path / "again.xlsx").active
    assert [sheet2.cell(row=5 + i, column=3).value for i in range(70)] == [
        sheet.cell(row=5 + i, column=3).value for i in range(70)
    ]


def test_draw_command_explains_bad_files_and_records_nothing(runner, demo, dbs, tmp_path):
    frame = tmp_path / "hong.csv"
    frame.write_text("Họ tên,Số điện thoại\nAn,09\n", encoding="utf-8")
    result = runner.invoke(
        args=["draw", str(frame), "--n", "5", "--out", str(tmp_path / "x.xlsx"), "--campaign", demo.campaign_key,
              "--unit", "HDG-NGG-02", "--group", "citizen"]
    )  # fmt: skip
    assert result.exit_code == 1 and "hong.csv: thiếu cột mã hồ sơ" in result.output
    assert count(dbs, FrameDraw) == 0 and not (tmp_path / "x.xlsx").exists()


def test_plan_page_previews_then_applies(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{demo.campaign_key}/plan")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Chỉ tiêu hiện tại" in html and "1.248" in html
    token = csrf_token(html)
    text = "groups:\n  - {group: citizen, units: {under: HDG-NGG}, method: proportional, total: 1000, min: 30}\n"
    preview = client.post(
        f"/admin/c/{demo.campaign_key}/plan", data={"csrf_token": token, "plan_text": text, "action": "preview"}
    )
    assert preview.status_code == 200 and "Xem trước kế hoạch mới" in preview.get_data(as_text=True)
    assert dbs.scalar(select(func.sum(Quota.target))) == 1248  # nothing changed yet
    applied = client.post(
        f"/admin/c/{demo.campaign_key}/plan", data={"csrf_token": token, "plan_text": text, "action": "apply"}
    )
    assert applied.status_code == 302
    assert dbs.scalar(select(func.sum(Quota.target))) == 1000 + 48
    assert "Đã áp dụng kế hoạch" in client.get(f"/admin/c/{demo.campaign_key}/plan").get_data(as_text=True)
    assert count(dbs, CollectionPoint) == 20


def test_plan_page_explains_errors(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    html = client.get(f"/admin/c/{demo.campaign_key}/plan").get_data(as_text=True)
    token = csrf_token(html)
    bad = "groups:\n  - {group: citizen, units: {under: HDG-NGG}, method: proportional, total: 99999}\n"
    response = client.post(
        f"/admin/c/{demo.campaign_key}/plan", data={"csrf_token": token, "plan_text": bad, "action": "apply"}
    )
    assert response.status_code == 422 and "vượt quá khả năng" in response.get_data(as_text=True)
    assert dbs.scalar(select(func.sum(Quota.target))) == 1248


def test_plan_excel_download(client, demo):
    login(client, demo.admin_username, demo.admin_password)
    response = client.get(f"/admin/c/{demo.campaign_key}/plan.xlsx")
    assert (
        response.status_code == 200 and "ke-hoach-mau-ninh-giang-2023.xlsx" in response.headers["Content-Disposition"]
    )
    sheet = load_workbook(io.BytesIO(response.data))["Chi tiết"]
    rows = list(sheet.iter_rows(min_row=2, max_row=25, values_only=True))
    assert len(rows) == 24 and sum(r[3] for r in rows) == 1248
    assert rows[-1][4] == 0  # a census has no sampling error


def test_only_administrators_change_the_plan(client, demo, dbs):
    dbs.add(User(username="chamdiem", password_hash=generate_password_hash("mat-khau-1"), role=Role.SCORER))
    dbs.commit()
    login(client, "chamdiem", "mat-khau-1")
    html = client.get(f"/admin/c/{demo.campaign_key}/plan").get_data(as_text=True)
    assert "Lập kế hoạch mới" not in html
    token = csrf_token(html)
    text = "groups:\n  - {group: hdnd, method: census, unit: HDG-NGG, size: 1}\n"
    response = client.post(
        f"/admin/c/{demo.campaign_key}/plan", data={"csrf_token": token, "plan_text": text, "action": "apply"}
    )
    assert response.status_code == 403
    assert dbs.scalar(select(func.sum(Quota.target))) == 1248


def test_draw_from_the_web_page(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{demo.campaign_key}/draws").get_data(as_text=True)
    assert "Chọn ngẫu nhiên người cần khảo sát" in page
    frame = ("Mã hồ sơ,Họ tên,Số điện thoại\n" + "".join(f"HS{i},Người {i},0988{i:06d}\n" for i in range(300))).encode()
    response = client.post(
        f"/admin/c/{demo.campaign_key}/draws",
        data={"csrf_token": csrf_token(page), "group": "citizen", "unit": "HDG-NGG-04", "seed": "7", "n": "",
              "reserve": "", "method": "simple", "frame": (io.BytesIO(frame), "duc-phuc.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200 and "seed7" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    kinds = [sheet.cell(row=r, column=2).value for r in range(5, 5 + 72)]
    assert kinds == ["Chính thức"] * 60 + ["Dự phòng"] * 12  # quota 60, reserve 20 %
    recorded = dbs.scalars(select(FrameDraw)).one()
    assert (recorded.seed, recorded.sample_size, recorded.reserve_size) == (7, 60, 12)
    assert "0988" not in recorded.selected_ids
    listing = client.get(f"/admin/c/{demo.campaign_key}/draws").get_data(as_text=True)
    assert "<code>7</code>" in listing


def test_bad_frame_on_the_web_page_is_explained(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{demo.campaign_key}/draws").get_data(as_text=True)
    response = client.post(
        f"/admin/c/{demo.campaign_key}/draws",
        data={"csrf_token": csrf_token(page), "group": "citizen", "unit": "HDG-NGG-04",
              "frame": (io.BytesIO("Họ tên,Số điện thoại\nAn,09\n".encode()), "x.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422 and "thiếu cột mã hồ sơ" in response.get_data(as_text=True)
    assert count(dbs, FrameDraw) == 0


def _plan_form_fields(page: str) -> dict:
    from werkzeug.datastructures import MultiDict

    from .forms import form_fields

    return MultiDict(form_fields(page, "planform"))


def test_plan_form_reproduces_seed_001_and_is_shown_again(client, demo, dbs):
    """The plan of seed 001 (1,248 people) typed into the form, with the methods in Vietnamese."""
    from surveyapp.models import Campaign

    login(client, demo.admin_username, demo.admin_password)
    url = f"/admin/c/{demo.campaign_key}/plan"
    page = client.get(url).get_data(as_text=True)
    assert "Cố định mỗi đơn vị" in page and "Toàn bộ danh sách (tổng điều tra)" in page
    fields = _plan_form_fields(page)
    _set(fields, g_citizen_method="fixed", g_citizen_under="HDG-NGG", g_citizen_per_unit="60")
    fields.setlist("g_citizen_kinds", ["xã", "thị trấn"])
    for code, size in (("hdnd", 30), ("ubnd", 3), ("mttq", 3), ("dept", 12)):
        _set(fields, **{f"g_{code}_method": "census", f"g_{code}_unit": "HDG-NGG", f"g_{code}_size": str(size)})
    fields["action"] = "form_preview"
    preview = client.post(url, data=fields)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    assert "Xem trước kế hoạch mới" in text and "1.248" in text
    apply = {"csrf_token": csrf_token(text), "plan_text": re_hidden(text), "action": "apply"}
    assert client.post(url, data=apply).status_code == 302
    assert dbs.scalar(select(func.sum(Quota.target))) == 1248
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    assert "per_unit: 60" in campaign.sampling_plan
    again = _plan_form_fields(client.get(url).get_data(as_text=True))
    assert again["g_citizen_method"] == "fixed" and again["g_citizen_per_unit"] == "60"
    assert again.getlist("g_citizen_kinds") == ["thị trấn", "xã"] or sorted(again.getlist("g_citizen_kinds")) == [
        "thị trấn", "xã",
    ]  # fmt: skip
    assert again["g_hdnd_method"] == "census" and again["g_hdnd_size"] == "30"


def _set(fields, **values) -> None:
    for key, value in values.items():
        fields[key] = value


def re_hidden(page: str) -> str:
    import html
    import re

    return html.unescape(re.search(r'name="plan_text" value="([^"]*)"', page).group(1))


def test_plan_form_explains_mistakes_and_changes_nothing(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    url = f"/admin/c/{demo.campaign_key}/plan"
    before = dbs.scalar(select(func.sum(Quota.target)))
    fields = _plan_form_fields(client.get(url).get_data(as_text=True))
    _set(fields, g_citizen_method="fixed", g_citizen_under="HDG-NGG", g_citizen_per_unit="sáu mươi",
         action="form_preview")  # fmt: skip
    response = client.post(url, data=fields)
    assert response.status_code == 422 and "Phải là một số nguyên" in response.get_data(as_text=True)
    _set(fields, g_citizen_method="", action="form_preview")
    response = client.post(url, data=fields)
    assert response.status_code == 422 and "ít nhất một nhóm đối tượng" in response.get_data(as_text=True)
    _set(fields, g_citizen_method="margin", g_citizen_margin="150", action="form_preview")
    response = client.post(url, data=fields)
    assert response.status_code == 422
    assert dbs.scalar(select(func.sum(Quota.target))) == before
