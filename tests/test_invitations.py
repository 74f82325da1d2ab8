"""Personal invitations, single-use slips, anonymity, list imports and paper entry."""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest
import xlsxwriter
from openpyxl import load_workbook
from sqlalchemy import inspect, select
from werkzeug.security import generate_password_hash

from questionnaires import QuestionType, builtin_files, load_questionnaire
from surveyapp.invitations.services import Person, add_invitations, make_slips
from surveyapp.models import (
    Answer,
    Campaign,
    CounterAccess,
    Invitation,
    InvitationClaim,
    InvitationDraft,
    RespondentGroup,
    Response,
    Role,
    Unit,
    User,
)
from surveyapp.paper.codes import code_table

from .conftest import count, csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login

LEADER_LEVEL = "4"


def _group(dbs, code: str) -> RespondentGroup:
    return dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == code)).one()


def _rate_three(dbs, group: RespondentGroup) -> list[Unit]:
    communes = dbs.scalars(select(Unit).where(Unit.code.in_(["HDG-NGG-02", "HDG-NGG-03", "HDG-NGG-04"]))).all()
    group.rated_units = list(communes)
    dbs.commit()
    return sorted(communes, key=lambda u: u.code)


@pytest.fixture
def invitation(demo, dbs) -> Invitation:
    group = _group(dbs, "hdnd")
    _rate_three(dbs, group)
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    [row] = add_invitations(dbs, group, [Person("Trần Văn Bình", "Đại biểu HĐND huyện", district, "0912345678")])
    dbs.commit()
    return row


def leader_answers(units: list[Unit], level: str = LEADER_LEVEL) -> dict[str, str]:
    q = load_questionnaire(next(p for p in builtin_files() if p.stem == "council_delegate"))
    fields = {"q_delegate_term": "part_time", "q_supervision": "yes"}
    for unit in units:
        for item in q.question("unit_rating").items:
            fields[f"q_{item.id}__{unit.id}"] = level
    return fields


def test_invitation_form_rates_each_unit_and_counts_for_the_unit_rated(client, invitation, dbs):
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    html = client.get(f"/i/{invitation.code}").get_data(as_text=True)
    assert all(u.name in html for u in units) and "Lưu tạm, làm tiếp sau" in html
    response = client.post(f"/i/{invitation.code}", data={**hidden_fields(html), **leader_answers(units)})
    assert response.status_code == 200 and "Cảm ơn" in response.get_data(as_text=True)
    stored = dbs.scalars(select(Response)).one()
    assert stored.channel == "invitation" and dbs.get(Unit, stored.unit_id).code == "HDG-NGG"
    subjects = {a.subject_unit_id for a in dbs.scalars(select(Answer).where(Answer.question_id == "dlg_direction"))}
    assert subjects == {u.id for u in units}
    dbs.refresh(invitation)
    # anonymous: the invitation row is untouched; a keyed-hash claim stops a second answer
    assert not invitation.used and count(dbs, InvitationClaim) == 1
    again = client.get(f"/i/{invitation.code}")
    assert again.status_code == 410 and "Phiếu đã được ghi nhận" in again.get_data(as_text=True)
    second = client.post(f"/i/{invitation.code}", data={**hidden_fields(html), **leader_answers(units, "2")})
    assert second.status_code == 409 and count(dbs, Response) == 1


def test_revoked_and_reissued_links(client, invitation, dbs, demo):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/c/ninh-giang-2023/g/hdnd/").get_data(as_text=True)
    token = csrf_token(page)
    old = invitation.code
    client.post(f"/admin/c/ninh-giang-2023/inv/{invitation.id}/revoke", data={"csrf_token": token})
    assert client.get(f"/i/{old}").status_code == 410
    client.post(f"/admin/c/ninh-giang-2023/inv/{invitation.id}/reissue", data={"csrf_token": token})
    dbs.refresh(invitation)
    assert invitation.code != old and not invitation.revoked
    assert client.get(f"/i/{old}").status_code == 404
    assert client.get(f"/i/{invitation.code}").status_code == 200


def test_a_used_invitation_is_not_reissued(client, invitation, dbs, demo):
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    html = client.get(f"/i/{invitation.code}").get_data(as_text=True)
    client.post(f"/i/{invitation.code}", data={**hidden_fields(html), **leader_answers(units)})
    login(client, demo.admin_username, demo.admin_password)
    token = csrf_token(client.get("/admin/c/ninh-giang-2023/g/hdnd/").get_data(as_text=True))
    page = client.post(
        f"/admin/c/ninh-giang-2023/inv/{invitation.id}/reissue", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "không cấp lại đường dẫn" in page


def test_draft_is_saved_on_the_server_and_deleted_on_submit(client, invitation, dbs):
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    html = client.get(f"/i/{invitation.code}").get_data(as_text=True)
    partial = {k: v for k, v in leader_answers(units).items() if k.endswith(f"__{units[0].id}")}
    saved = client.post(f"/i/{invitation.code}", data={**hidden_fields(html), **partial, "intent": "save"})
    assert saved.status_code == 200 and "Đã lưu phần trả lời" in saved.get_data(as_text=True)
    assert count(dbs, Response) == 0 and count(dbs, InvitationDraft) == 1
    # a fresh browser, the same link: the answers and the submission id come back
    other = client.application.test_client()
    resumed = other.get(f"/i/{invitation.code}").get_data(as_text=True)
    assert hidden_fields(resumed)["submission_id"] == hidden_fields(html)["submission_id"]
    # it opens at the first screen not finished (about the delegate); the unit's screen has its answers
    unit_screen = other.post(f"/i/{invitation.code}", data={**hidden_fields(resumed), "screen": "0", "goto": "1"})
    name = next(iter(partial))
    assert f'name="{name}" value="{LEADER_LEVEL}" checked' in unit_screen.get_data(as_text=True)


def _post(opener, url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _race(bodies: list[tuple], url: str) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    results = [0] * len(bodies)

    def run(i, opener, body):
        barrier.wait()
        results[i] = _post(opener, url, body)

    threads = [threading.Thread(target=run, args=(i, o, b)) for i, (o, b) in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _tabs(url: str, fields: dict, n: int) -> list[tuple]:
    """``n`` browsers that each opened ``url`` (each with its own submission id)."""
    out = []
    for _ in range(n):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(url) as response:
            hidden = hidden_fields(response.read().decode("utf-8"))
        out.append((opener, urlencode({**hidden, **fields}).encode("ascii")))
    return out


def test_concurrent_submits_on_one_invitation_store_one_response(live_server, invitation, dbs):
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    url = f"{live_server}/i/{invitation.code}"
    statuses = _race(_tabs(url, leader_answers(units), 8), url)
    assert sorted(statuses) == [200] + [409] * 7, statuses
    assert count(dbs, Response) == 1


def test_concurrent_submits_on_one_slip_store_one_response(live_server, demo, dbs):
    group = _group(dbs, "citizen")
    group.counter_access = CounterAccess.BOTH
    unit = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-06")).one()
    [slip] = make_slips(dbs, group, unit, 1)
    dbs.commit()
    url = f"{live_server}/s/{slip.code}"
    statuses = _race(_tabs(url, valid_answers(), 8), url)
    assert sorted(statuses) == [200] + [409] * 7, statuses
    assert count(dbs, Response) == 1
    assert dbs.scalars(select(Response)).one().channel == "slip"


def test_slips_work_once_and_follow_the_counter_access_setting(client, demo, dbs):
    group = _group(dbs, "citizen")
    unit = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-06")).one()
    [slip] = make_slips(dbs, group, unit, 1)
    dbs.commit()
    assert client.get(f"/s/{slip.code}").status_code == 403  # default: poster only
    group.counter_access = CounterAccess.SLIPS
    dbs.commit()
    poster = dbs.scalars(select(Response)).first()
    assert poster is None
    point_code = client.application.test_cli_runner().invoke(args=["links", "ninh-giang-2023"]).output.split("\t")[3]
    refused = client.get(point_code.removeprefix("http://testserver"))
    assert refused.status_code == 403 and "phiếu có mã QR riêng" in refused.get_data(as_text=True)
    html = client.get(f"/s/{slip.code}").get_data(as_text=True)
    assert client.post(f"/s/{slip.code}", data={**hidden_fields(html), **valid_answers()}).status_code == 200
    used = client.get(f"/s/{slip.code}")
    assert used.status_code == 410 and "đã được dùng" in used.get_data(as_text=True)


def test_anonymous_response_cannot_be_tied_to_its_invitation(live_server, invitation, dbs, demo, caplog, client):
    """No column, no log line and no export links an anonymous response to its invitation."""
    assert dbs.get(Campaign, _group(dbs, "hdnd").campaign_id).anonymous
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    caplog.set_level(logging.DEBUG)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    url = f"{live_server}/i/{invitation.code}"
    with opener.open(url) as page:
        hidden = hidden_fields(page.read().decode("utf-8"))
    body = urlencode({**hidden, **leader_answers(units)}).encode("ascii")
    assert _post(opener, url, body) == 200

    response = dbs.scalars(select(Response)).one()
    dbs.refresh(invitation)
    assert not invitation.used and response.invitation_id is None
    # no column of the invitation holds anything about the response, nor the reverse
    invitation_values = {str(getattr(invitation, c.key)) for c in inspect(Invitation).columns}
    response_values = {str(getattr(response, c.key)) for c in inspect(Response).columns}
    assert str(response.id) not in invitation_values - {
        str(invitation.id),
        str(invitation.group_id),
        str(invitation.unit_id),
    }
    assert invitation.code not in response_values and str(invitation.id) not in {str(response.invitation_id)}
    assert not {c.key for c in inspect(Invitation).columns} & {"response_id", "used_at", "answered_at"}
    assert count(dbs, InvitationDraft) == 0
    # no log line carries the personal code
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/i/…" in logged and invitation.code not in logged
    # the exports of the invitation list say "answered", nothing about when or which response
    login(client, demo.admin_username, demo.admin_password)
    exported = client.get("/admin/c/ninh-giang-2023/g/hdnd/links.xlsx").data
    sheet = load_workbook(io.BytesIO(exported)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "Đã trả lời" in cells
    assert not cells & {response.submission_id, str(response.id), str(response.submitted_at)}
    assert not any(response.submitted_at.strftime("%Y-%m-%d") in c for c in cells)


def test_named_campaign_links_response_to_invitation(client, invitation, dbs):
    campaign = dbs.get(Campaign, _group(dbs, "hdnd").campaign_id)
    campaign.anonymous = False
    dbs.commit()
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    html = client.get(f"/i/{invitation.code}").get_data(as_text=True)
    client.post(f"/i/{invitation.code}", data={**hidden_fields(html), **leader_answers(units)})
    assert dbs.scalars(select(Response)).one().invitation_id == invitation.id


def _xlsx(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def _import(client, demo, data: bytes, filename: str):
    login(client, demo.admin_username, demo.admin_password)
    token = csrf_token(client.get("/admin/c/ninh-giang-2023/g/hdnd/").get_data(as_text=True))
    return client.post(
        "/admin/c/ninh-giang-2023/g/hdnd/import",
        data={"csrf_token": token, "list": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)


GOOD_LIST = (
    "Họ tên,Chức vụ,Đơn vị,Điện thoại,Email\n"
    "Nguyễn Văn An,Đại biểu,HDG-NGG,0911111111,an@example.vn\n"
    "Lê Thị Hoa,Đại biểu,Huyện Ninh Giang,,\n"
)


def test_import_a_good_list_then_export_links(client, demo, dbs):
    page = _import(client, demo, GOOD_LIST.encode("utf-8"), "hdnd.csv")
    assert "Đã thêm 2 người" in page and count(dbs, Invitation) == 2
    exported = client.get("/admin/c/ninh-giang-2023/g/hdnd/links.csv")
    text = exported.data.decode("utf-8-sig")
    codes = [i.code for i in dbs.scalars(select(Invitation))]
    assert all(f"http://testserver/i/{c}" in text for c in codes) and "Nguyễn Văn An" in text
    slips = client.get("/admin/c/ninh-giang-2023/g/hdnd/qr-slips").get_data(as_text=True)
    assert slips.count('<article class="slip">') == 2 and "Lê Thị Hoa" in slips
    reminders = client.get("/admin/c/ninh-giang-2023/g/hdnd/links.xlsx?only=pending")
    assert len(list(load_workbook(io.BytesIO(reminders.data)).active.iter_rows())) == 3


@pytest.mark.parametrize(
    ("data", "filename", "messages"),
    [
        (
            "Họ tên,Chức vụ,Đơn vị\n,Đại biểu,HDG-NGG\nAn,Đại biểu,HDG-NGG\n".encode(),
            "a.csv",
            ["a.csv, dòng 2: thiếu họ tên."],
        ),
        (
            "Họ tên,Chức vụ,Đơn vị\nAn,Đại biểu,HDG-NGG\nBình,,HDG-NGG\nan,Đại biểu,Huyện Ninh Giang\n".encode(),
            "b.csv",
            ["b.csv, dòng 4: “an” (Huyện Ninh Giang) bị trùng với dòng 2."],
        ),
        ("Họ tên,Chức vụ,Đơn vị\nAn,Đại biểu,Xã Không Có\n".encode(), "c.csv", ["không có đơn vị “Xã Không Có”"]),
        ("Họ tên,Chức vụ,Đơn vị,Email\nAn,Đại biểu,HDG-NGG,an@\n".encode(), "d.csv", ["email “an@” không hợp lệ"]),
        (b"H\xf4 t\xean,Ch\xfac v\xf5,\xd0\xf4n v\xf5\nAn,x,HDG-NGG\n", "e.csv", ["không dùng mã UTF-8"]),
        (b"%PDF-1.4\n\x00\x01binary", "f.csv", ["không phải tệp bảng tính"]),
        (b"PK\x03\x04broken", "g.xlsx", ["tệp Excel bị hỏng"]),
        ("Tên,Đơn vị\nAn,HDG-NGG\n".encode(), "h.csv", ["thiếu cột chức vụ"]),
        (b"", "i.csv", ["tệp trống"]),
    ],
)
def test_bad_lists_are_explained_and_import_nothing(client, demo, dbs, data, filename, messages):
    page = _import(client, demo, data, filename)
    assert "Chưa nhập người nào vì danh sách có lỗi" in page
    for message in messages:
        assert message in page
    assert count(dbs, Invitation) == 0


def test_a_list_with_people_already_invited_imports_nothing(client, demo, dbs):
    _import(client, demo, GOOD_LIST.encode("utf-8"), "hdnd.csv")
    page = _import(
        client,
        demo,
        _xlsx([["Họ và tên", "Chức vụ", "Đơn vị"], ["Trần Mới", "", ""], ["Nguyễn Văn An", "", "HDG-NGG"]]),
        "x.xlsx",
    )
    assert "đã có trong danh sách mời của nhóm này" in page and count(dbs, Invitation) == 2


@pytest.mark.parametrize("path", builtin_files(), ids=lambda p: p.stem)
def test_every_builtin_questionnaire_prints_as_a_paper_form(client, demo, dbs, path):
    questionnaire = load_questionnaire(path)
    group = _group(dbs, "hdnd")
    from surveyapp.campaigns.services import store_questionnaire_file

    group.questionnaire_version = store_questionnaire_file(dbs, path)
    _rate_three(dbs, group)
    login(client, demo.admin_username, demo.admin_password)
    html = client.get("/admin/c/ninh-giang-2023/g/hdnd/paper?copies=2&unit=HDG-NGG").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    text = re.sub(r"\s+", " ", text)
    assert html.count('<article class="form">') == 2 and "HDG-NGG-0001" in html and "HDG-NGG-0002" in html
    for question in questionnaire.top_questions():
        assert question.label in html.replace("&#34;", '"')
        for item in question.items:
            assert item.label in html
        if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO, QuestionType.SCALE):
            for code, label in code_table(question):
                assert f"{code} {label}" in text or f"{code} {label}".replace("  ", " ") in text


def test_a_keyed_in_paper_form_is_stored_like_any_other(client, demo, dbs):
    dbs.add(User(username="nhaplieu", password_hash=generate_password_hash("mat-khau-2"), role=Role.CLERK))
    dbs.commit()
    login(client, "nhaplieu", "mat-khau-2")
    page = client.get("/admin/c/ninh-giang-2023/g/citizen/entry?unit=HDG-NGG-07").get_data(as_text=True)
    names = re.findall(r'<input id="(q_[a-z0-9_]+)"', page)
    questionnaire = load_questionnaire(next(p for p in builtin_files() if p.stem == "citizen_counter"))
    typed = {}
    for name in names:
        q = questionnaire.question(name[2:])
        typed[name] = {"number": "2", "longtext": "Phiếu giấy", "yesno": "1", "scale": "5"}.get(q.type.value, "1")
    typed["q_procedure_field"] = "3"
    typed["q_on_time"] = "1"  # yes: the apology question does not apply
    typed["q_apology_letter"] = ""
    typed["q_gave_feedback"] = "2"  # no
    typed["q_feedback_handling"] = ""
    data = {"csrf_token": csrf_token(page), "unit": "HDG-NGG-07", "paper_number": "NGG07-0001", **typed}
    saved = client.post("/admin/c/ninh-giang-2023/g/citizen/entry", data=data)
    assert saved.status_code == 303
    stored = dbs.scalars(select(Response)).one()
    clerk = dbs.scalars(select(User).where(User.username == "nhaplieu")).one()
    assert (stored.channel, stored.paper_number, stored.entered_by_id) == ("paper", "NGG07-0001", clerk.id)
    answers = {a.question_id: a for a in dbs.scalars(select(Answer))}
    assert answers["procedure_field"].value_code == "land"  # option 3
    assert answers["access_seating"].value_num == 5.0 and answers["on_time"].value_code == "yes"
    assert "feedback_handling" not in answers
    again = client.post("/admin/c/ninh-giang-2023/g/citizen/entry", data=data)
    assert again.status_code == 422 and "đã được nhập trước đó" in again.get_data(as_text=True)
    bad = client.post(
        "/admin/c/ninh-giang-2023/g/citizen/entry", data={**data, "paper_number": "NGG07-0002", "q_access_seating": "7"}
    )
    assert bad.status_code == 422 and "Mã “7” không có trong câu này (từ 1 đến 5)." in bad.get_data(as_text=True)
    assert count(dbs, Response) == 1


def test_list_template_downloads_and_imports_back(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    response = client.get("/admin/c/ninh-giang-2023/g/hdnd/mau-danh-sach-moi.xlsx")
    assert response.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(response.data)).active.rows)]
    assert header == ["Họ tên", "Chức vụ", "Đơn vị", "Điện thoại", "Email"]
    page = _import(client, demo, response.data, "mau.xlsx")
    assert "Đã thêm 1 người" in page and count(dbs, Invitation) == 1
