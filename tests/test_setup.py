"""Home Affairs sets up its own campaign through the web forms and the command line."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyapp.models import (
    AuditEvent,
    Campaign,
    Quota,
    RespondentGroup,
    Response,
    Unit,
)

from .conftest import count, csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login

HON_QUAN = Path(__file__).parent / "data" / "hon_quan_units.csv"


@pytest.fixture
def admin(client, demo):
    login(client, demo.admin_username, demo.admin_password)
    return client


def _token(client, path="/admin/units") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def upload_units(client, data: bytes, filename: str = "units.csv"):
    return client.post(
        "/admin/units/preview",
        data={"csrf_token": _token(client), "units": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def apply_preview(client, preview_html: str):
    fields = dict(re.findall(r'name="(filename|payload|fingerprint)" value="([^"]*)"', preview_html))
    return client.post("/admin/units/apply", data={"csrf_token": csrf_token(preview_html), **fields})


def test_good_unit_file_preview_matches_what_is_applied(admin, dbs):
    preview = upload_units(admin, HON_QUAN.read_bytes(), "hon_quan.csv")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Xem trước: hon_quan.csv" in html
    listed = re.findall(r"<li>(BPC[^ ]*) · ", html)
    assert len(listed) == 15 and count(dbs, Unit) == 22  # nothing applied yet
    applied = apply_preview(admin, html)
    assert applied.status_code == 302
    codes = set(dbs.scalars(select(Unit.code).where(Unit.code.like("BPC%"))))
    assert codes == set(listed)
    town = dbs.scalars(select(Unit).where(Unit.code == "BPC-HQ-TK")).one()
    assert (town.parent.code, town.frame_size, town.opening_hours) == ("BPC-HQ", 1850, "07:00-11:30,13:30-17:00")
    again = upload_units(admin, HON_QUAN.read_bytes()).get_data(as_text=True)
    assert "Tệp không làm thay đổi gì." in again
    assert dbs.scalar(select(AuditEvent.action).where(AuditEvent.action == "units.imported")) == "units.imported"


GOOD = HON_QUAN.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            GOOD.replace("Xã Tân Lợi,xã,BPC-HQ", "Xã Tân Lợi,xã,BPC-XX"),
            "có cấp trên “BPC-XX” không có trong tệp lẫn trong hệ thống",
        ),
        (GOOD.replace("BPC-HQ-TL,", "BPC-HQ-TQ,"), "mã “BPC-HQ-TQ” bị trùng với dòng"),
        (GOOD.replace("BPC-HQ,Huyện Hớn Quản,huyện,BPC", "BPC-HQ,Huyện Hớn Quản,huyện,BPC-HQ-AK"), "trỏ vòng tròn"),
        (GOOD.replace("Xã An Phú", ""), "đơn vị “BPC-HQ-AP” thiếu tên"),
        (GOOD.replace("Xã An Phú,xã", "Xã An Phú,"), "đơn vị “BPC-HQ-AP” thiếu loại"),
        (GOOD.replace("640", "nhiều"), "số hồ sơ “nhiều” phải là số nguyên"),
        ("code,name\nX,Y\n", "thiếu cột loại đơn vị"),
    ],
)
def test_bad_unit_files_are_explained_and_change_nothing(admin, dbs, data, message):
    before = count(dbs, Unit)
    response = upload_units(admin, data.encode("utf-8"))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(dbs, Unit) == before


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (GOOD.encode("utf-8").replace("Xã An Phú".encode(), b"X\xe3 An Ph\xfa"), "u.csv", "không dùng mã UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "u.png", "không phải tệp bảng tính"),
        (b"PK\x03\x04nope", "u.xlsx", "tệp Excel bị hỏng"),
        (b"", "u.csv", "tệp trống"),
    ],
)
def test_unreadable_unit_files_are_explained(admin, dbs, data, filename, message):
    response = upload_units(admin, data, filename)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(dbs, Unit) == 22


def _form(client, path: str, data: dict, follow: bool = False):
    return client.post(path, data={"csrf_token": _token(client, path if "setup" in path else "/admin/units"), **data},
                       follow_redirects=follow)  # fmt: skip


def test_home_affairs_sets_up_and_runs_a_campaign_through_the_web(admin, dbs, runner):
    apply_preview(admin, upload_units(admin, HON_QUAN.read_bytes()).get_data(as_text=True))
    today = date.today()
    created = admin.post("/admin/campaigns/new", data={
        "csrf_token": _token(admin, "/admin/campaigns/new"), "name": "Điều tra XHH Chỉ số CCHC cấp xã Hớn Quản",
        "key": "hon-quan-2026", "year": "2026", "scope": "BPC-HQ", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(), "anonymous": "on", "quota_full_policy": "stop",
    })  # fmt: skip
    assert created.status_code == 302 and created.headers["Location"].endswith("/admin/c/hon-quan-2026/setup")
    setup = "/admin/c/hon-quan-2026/setup"
    page = admin.get(setup).get_data(as_text=True)
    versions = dict(
        (title, vid) for vid, title in re.findall(r'<option value="(\d+)">([^<]+) \(phiên bản 1\)</option>', page)
    )
    citizen_v = versions["Phiếu khảo sát sự hài lòng của người dân, tổ chức"]
    leader_v = versions["Phiếu lấy ý kiến lãnh đạo về kết quả cải cách hành chính"]
    council_v = versions["Phiếu lấy ý kiến đại biểu Hội đồng nhân dân về cải cách hành chính"]
    groups = [
        ("citizen", "Người dân tại Bộ phận một cửa", citizen_v, "counter", []),
        ("business", "Doanh nghiệp, tổ chức", citizen_v, "counter", []),
        ("hdnd", "Đại biểu HĐND huyện", council_v, "invitation", ["xã", "thị trấn"]),
        ("ubnd", "Lãnh đạo UBND huyện", leader_v, "invitation", ["xã", "thị trấn"]),
        ("mttq", "Lãnh đạo Ủy ban MTTQ huyện", leader_v, "invitation", ["xã", "thị trấn"]),
    ]
    for code, name, version, mode, kinds in groups:
        data = {"csrf_token": csrf_token(page), "code": code, "name": name, "version": version, "mode": mode,
                "rated_kinds": kinds}  # fmt: skip
        assert admin.post("/admin/c/hon-quan-2026/groups", data=data).status_code == 302
    campaign = dbs.scalars(select(Campaign).where(Campaign.key == "hon-quan-2026")).one()
    dbs.refresh(campaign)
    assert [g.code for g in campaign.groups] == ["citizen", "business", "hdnd", "ubnd", "mttq"]
    assert all(len(g.rated_units) == 13 for g in campaign.groups[2:])

    # not ready: refused with the list of what is missing
    refused = admin.post("/admin/c/hon-quan-2026/status", data={"csrf_token": csrf_token(page), "action": "open"},
                         follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "Chưa mở được đợt khảo sát vì:" in refused
    assert "Nhóm “Người dân tại Bộ phận một cửa” (quét mã QR tại quầy) chưa có chỉ tiêu phiếu" in refused
    assert "Nhóm “Đại biểu HĐND huyện” (mời cá nhân) chưa có danh sách người được mời." in refused
    dbs.refresh(campaign)
    assert campaign.status == "draft"

    # quotas through the plan page, invitations through the group pages
    plan = ("groups:\n  - {group: citizen, units: {under: BPC-HQ}, method: fixed, per_unit: 60}\n"
            "  - {group: business, units: {under: BPC-HQ}, method: fixed, per_unit: 10}\n"
            "  - {group: hdnd, method: census, unit: BPC-HQ, size: 2}\n  - {group: ubnd, method: census, unit: BPC-HQ, size: 1}\n"
            "  - {group: mttq, method: census, unit: BPC-HQ, size: 1}\n")  # fmt: skip
    token = csrf_token(admin.get("/admin/c/hon-quan-2026/plan").get_data(as_text=True))
    assert (
        admin.post(
            "/admin/c/hon-quan-2026/plan", data={"csrf_token": token, "plan_text": plan, "action": "apply"}
        ).status_code
        == 302
    )
    for code in ("hdnd", "ubnd", "mttq"):
        r = admin.post(f"/admin/c/hon-quan-2026/g/{code}/add", data={"csrf_token": token, "full_name": f"Người {code}",
                                                                      "position": "Lãnh đạo", "unit": "BPC-HQ"})  # fmt: skip
        assert r.status_code == 302
    opened = admin.post(
        "/admin/c/hon-quan-2026/status", data={"csrf_token": token, "action": "open"}, follow_redirects=True
    )
    assert "Đã mở đợt khảo sát." in opened.get_data(as_text=True)
    dbs.refresh(campaign)
    assert campaign.status == "open"
    assert (
        dbs.scalar(
            select(func.sum(Quota.target)).join(RespondentGroup).where(RespondentGroup.campaign_id == campaign.id)
        )
        == 13 * 70 + 4
    )

    # a citizen answers through the generated QR link
    lines = runner.invoke(args=["links", "hon-quan-2026"]).output.splitlines()
    assert len(lines) == 26
    tan_loi = next(line for line in lines if line.startswith("BPC-HQ-TL\t") and "\tcitizen\t" in line)
    path = tan_loi.split("\t")[3].removeprefix("http://testserver")
    citizen = admin.application.test_client()
    html = citizen.get(path).get_data(as_text=True)
    assert "Xã Tân Lợi" in html
    assert citizen.post(path, data={**hidden_fields(html), **valid_answers()}).status_code == 200
    stored = dbs.scalars(select(Response).where(Response.campaign_id == campaign.id)).one()
    assert dbs.get(Unit, stored.unit_id).code == "BPC-HQ-TL"

    # closing: the QR link shows the closed page and stores nothing; reopening is audited
    admin.post("/admin/c/hon-quan-2026/status", data={"csrf_token": token, "action": "close"})
    html2 = citizen.get(path)
    assert html2.status_code == 410 and "Đợt khảo sát đã kết thúc" in html2.get_data(as_text=True)
    late = citizen.post(path, data={**hidden_fields(html), **valid_answers(level="2")})
    assert late.status_code == 410 and count(dbs, Response) == 1
    admin.post("/admin/c/hon-quan-2026/status", data={"csrf_token": token, "action": "reopen"})
    actions = list(dbs.scalars(select(AuditEvent.action).where(AuditEvent.target == "campaign:hon-quan-2026")))
    assert actions[-3:] == ["campaign.opened", "campaign.closed", "campaign.reopened"]


def test_a_draft_with_bad_dates_is_not_opened(runner, demo, dbs):
    runner.invoke(args=["units", "import", str(HON_QUAN), "--apply"])
    result = runner.invoke(args=["campaign", "create", "dot-cu", "--year", "2020", "--name", "Đợt cũ", "--scope", "BPC-HQ",
                                 "--starts", "2020-11-01", "--ends", "2020-12-31"])  # fmt: skip
    assert result.exit_code == 0, result.output
    refused = runner.invoke(args=["campaign", "open", "dot-cu"])
    assert refused.exit_code == 1
    assert "Chưa có nhóm đối tượng nào." in refused.output and "Ngày kết thúc (31/12/2020) đã qua." in refused.output


def test_copy_onto_a_changed_unit_tree_reports_retired_and_new_units(runner, demo, dbs, tmp_path):
    assert runner.invoke(args=["units", "import", str(HON_QUAN), "--apply"]).exit_code == 0
    runner.invoke(
        args=["campaign", "create", "hq-2024", "--year", "2024", "--name", "Hớn Quản 2024", "--scope", "BPC-HQ"]
    )
    runner.invoke(args=["campaign", "add-group", "hq-2024", "citizen", "--name", "Người dân", "--questionnaire",
                        "citizen_counter", "--mode", "counter"])  # fmt: skip
    out = runner.invoke(args=["campaign", "add-group", "hq-2024", "ubnd", "--name", "Lãnh đạo UBND", "--questionnaire",
                              "leader", "--mode", "invitation", "--rates", "xã", "--rates", "thị trấn"])  # fmt: skip
    assert out.output.strip().endswith("\t13")
    plan = tmp_path / "p.yaml"
    plan.write_text(
        "groups:\n  - {group: citizen, units: {under: BPC-HQ}, method: fixed, per_unit: 60}\n", encoding="utf-8"
    )
    runner.invoke(args=["plan", "hq-2024", str(plan), "--apply"])

    # the 2025 reform: Tân Lợi and Tân Quan merge into a new commune; the rest stays
    merged = GOOD.replace("BPC-HQ-TL,Xã Tân Lợi,xã,BPC-HQ,450,\n", "").replace(
        "BPC-HQ-TQ,Xã Tân Quan,xã,BPC-HQ,430,\n", "BPC-HQ-TLQ,Xã Tân Lợi Quan,xã,BPC-HQ,880,\n"
    )
    new_file = tmp_path / "2025.csv"
    new_file.write_text(merged, encoding="utf-8")
    preview = runner.invoke(args=["units", "import", str(new_file)]).output.splitlines()
    assert "new\tBPC-HQ-TLQ\tXã Tân Lợi Quan\txã\tBPC-HQ" in preview
    assert [line for line in preview if line.startswith("retired")] == [
        "retired\tBPC-HQ-TL\tXã Tân Lợi",
        "retired\tBPC-HQ-TQ\tXã Tân Quan",
    ]
    runner.invoke(args=["units", "import", str(new_file), "--apply"])
    assert dbs.scalars(select(Unit).where(Unit.code == "BPC-HQ-TL")).one().retired_at is not None  # kept, not deleted

    copied = runner.invoke(args=["campaign", "copy", "hq-2024", "hq-2025", "--year", "2025", "--name", "Hớn Quản 2025"])
    assert copied.exit_code == 0, copied.output
    lines = copied.output.splitlines()
    assert [line for line in lines if line.startswith("retired")] == [
        "retired\tBPC-HQ-TL\tXã Tân Lợi",
        "retired\tBPC-HQ-TQ\tXã Tân Quan",
    ]
    assert [line for line in lines if line.startswith("new")] == ["new\tBPC-HQ-TLQ\tXã Tân Lợi Quan"]
    new = dbs.scalars(select(Campaign).where(Campaign.key == "hq-2025")).one()
    quotas = dict(dbs.execute(select(Unit.code, Quota.target).join(Quota.unit).join(Quota.group)
                              .where(RespondentGroup.campaign_id == new.id)).all())  # fmt: skip
    assert len(quotas) == 12 and quotas["BPC-HQ-TLQ"] == 60 and "BPC-HQ-TL" not in quotas
    ubnd = next(g for g in new.groups if g.code == "ubnd")
    assert len(ubnd.rated_units) == 12 and "BPC-HQ-TLQ" in {u.code for u in ubnd.rated_units}
    old = dbs.scalars(select(Campaign).where(Campaign.key == "hq-2024")).one()
    assert (
        sum(q.target for g in old.groups for q in dbs.scalars(select(Quota).where(Quota.group_id == g.id))) == 13 * 60
    )


def test_unit_template_downloads_and_imports_back_with_vietnamese_headers(admin, dbs):
    response = admin.get("/admin/units/mau-danh-sach-don-vi.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    from openpyxl import load_workbook

    header = [c.value for c in next(load_workbook(io.BytesIO(response.data)).active.rows)]
    assert header == ["Mã", "Tên", "Loại", "Mã đơn vị cha", "Số hồ sơ", "Giờ làm việc"]
    preview = upload_units(admin, response.data, "mau.xlsx")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "Xã Tân Lợi" in html
    assert apply_preview(admin, html).status_code == 302
    unit = dbs.scalar(select(Unit).where(Unit.code == "BPC-HQ-TL"))
    assert (unit.parent.code, unit.frame_size, unit.opening_hours) == ("BPC-HQ", 1250, "07:30-11:30,13:30-17:00")


@pytest.mark.parametrize(
    "header",
    ["mã,tên,loại,mã đơn vị cha", "Mã đơn vị,Tên đơn vị,Loại đơn vị,Đơn vị cha", "code,name,kind,parent_code"],
)
def test_unit_files_with_vietnamese_or_english_headers(admin, dbs, header):
    data = f"{header}\nBPC-HQ,Huyện Hớn Quản,huyện,\nBPC-HQ-TL,Xã Tân Lợi,xã,BPC-HQ\n".encode()
    html = upload_units(admin, data, "u.csv").get_data(as_text=True)
    assert apply_preview(admin, html).status_code == 302
    assert dbs.scalar(select(Unit).where(Unit.code == "BPC-HQ-TL")).parent.code == "BPC-HQ"
