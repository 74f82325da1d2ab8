"""Slips only where they work, keyed paper forms listed, corrected and deleted (audited), numbered
paper forms chosen in the page (issue 15, part 7)."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from questionnaires import builtin_files, load_questionnaire
from surveyapp.invitations.services import make_slips
from surveyapp.models import Answer, AuditEvent, Quota, RespondentGroup, Response, Role, Slip, Unit, User

from .conftest import count, csrf_token
from .test_qr_posters import login

KEY = "ninh-giang-2023"
ENTRY = f"/admin/c/{KEY}/g/citizen/entry"
CITIZEN = load_questionnaire(next(p for p in builtin_files() if p.stem == "citizen_counter"))


def _citizen(dbs) -> RespondentGroup:
    return dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()


def test_slips_are_offered_and_printed_only_where_citizens_can_use_them(client, demo, dbs):
    group = _citizen(dbs)
    unit = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-05")).one()
    [old] = make_slips(dbs, group, unit, 1)  # printed while slips were accepted
    dbs.commit()
    assert group.counter_access == "poster"
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/g/citizen/").get_data(as_text=True)
    assert "đang chỉ nhận trả lời qua mã QR dán tại quầy" in page and "Tạo và in" not in page
    made = client.post(f"/admin/c/{KEY}/g/citizen/slips", follow_redirects=True,
                       data={"csrf_token": csrf_token(page), "unit": "HDG-NGG-05", "count": "5"})  # fmt: skip
    assert "phiếu QR dùng một lần sẽ bị từ chối khi quét" in made.get_data(as_text=True)
    assert count(dbs, Slip) == 1
    reprint = client.get(f"/admin/c/{KEY}/g/citizen/slips/HDG-NGG-05/{old.batch}", follow_redirects=True)
    assert "phiếu QR dùng một lần sẽ bị từ chối khi quét" in reprint.get_data(as_text=True)
    assert "/qr/s/" not in reprint.get_data(as_text=True)

    client.post(f"/admin/c/{KEY}/g/citizen/access", data={"csrf_token": csrf_token(page), "counter_access": "both"})
    page = client.get(f"/admin/c/{KEY}/g/citizen/").get_data(as_text=True)
    assert "Tạo và in" in page
    made = client.post(f"/admin/c/{KEY}/g/citizen/slips", data={"csrf_token": csrf_token(page), "unit": "HDG-NGG-05",
                                                                "count": "5"})  # fmt: skip
    assert made.status_code == 302 and count(dbs, Slip) == 6


def _clerk(dbs, name: str) -> None:
    dbs.add(User(username=name, password_hash=generate_password_hash("mat-khau-dai-1"), role=Role.CLERK))
    dbs.commit()


def _typed(**overrides) -> dict[str, str]:
    typed = {}
    for q in CITIZEN.top_questions():
        typed[f"q_{q.id}"] = {"number": "2", "longtext": "Phiếu giấy", "yesno": "1", "scale": "5"}.get(
            q.type.value, "1"
        )
    typed.update({"q_on_time": "1", "q_apology_letter": "", "q_gave_feedback": "2", "q_feedback_handling": ""})
    typed.update({f"q_{k}": v for k, v in overrides.items()})
    return typed


def _key_in(client, number: str, **overrides):
    page = client.get(f"{ENTRY}?unit=HDG-NGG-07").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "unit": "HDG-NGG-07", "paper_number": number, **_typed(**overrides)}
    return client.post(ENTRY, data=data)


def _received(dbs) -> int:
    unit = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-07")).one()
    return dbs.scalar(select(Quota.received).where(Quota.unit_id == unit.id, Quota.group_id == _citizen(dbs).id))


def test_keyed_forms_are_listed_corrected_and_deleted_with_an_audit(client, demo, dbs):
    _clerk(dbs, "nhaplieu")
    login(client, "nhaplieu", "mat-khau-dai-1")
    before = _received(dbs)
    assert _key_in(client, "NGG07-0001").status_code == 303
    assert _key_in(client, "NGG07-0002", procedure_field="3").status_code == 303
    assert _received(dbs) == before + 2
    page = client.get(f"{ENTRY}?unit=HDG-NGG-07").get_data(as_text=True)
    assert "Phiếu đã nhập cho" in page and "NGG07-0001" in page and "NGG07-0002" in page
    second = dbs.scalars(select(Response).where(Response.paper_number == "NGG07-0002")).one()
    second_id = second.id

    # correct: the form comes back as typed, answers and number change, the quota does not
    edit = client.get(f"{ENTRY}?unit=HDG-NGG-07&edit={second.id}").get_data(as_text=True)
    assert "Sửa phiếu số NGG07-0002" in edit and 'name="q_procedure_field" value="3"' in edit
    assert 'name="q_visits" value="2"' in edit and 'name="paper_number" value="NGG07-0002"' in edit
    data = {"csrf_token": csrf_token(edit), "unit": "HDG-NGG-07", "edit": str(second.id),
            "paper_number": "NGG07-0003", **_typed(procedure_field="1", visits="4")}  # fmt: skip
    taken = client.post(ENTRY, data={**data, "paper_number": "NGG07-0001"})
    assert taken.status_code == 422 and "đã được nhập trước đó" in taken.get_data(as_text=True)
    assert client.post(ENTRY, data=data).status_code == 303
    dbs.expire_all()
    answers = {a.question_id: a for a in dbs.scalars(select(Answer).where(Answer.response_id == second.id))}
    assert answers["procedure_field"].value_code == "civil_status" and answers["visits"].value_num == 4.0
    assert dbs.get(Response, second.id).paper_number == "NGG07-0003" and _received(dbs) == before + 2
    assert count(dbs, Response) == 2
    event = dbs.scalars(select(AuditEvent).where(AuditEvent.action == "paper.corrected")).one()
    assert json.loads(event.details) == {"before": "NGG07-0002", "after": "NGG07-0003"}

    # delete: a reason is required; then the form and its answers go, and the quota counts one less
    url = f"{ENTRY}/{second.id}/delete"
    refused = client.post(url, data={"csrf_token": csrf_token(edit), "note": ""}, follow_redirects=True)
    assert "vui lòng ghi lý do xoá" in refused.get_data(as_text=True) and count(dbs, Response) == 2
    done = client.post(url, data={"csrf_token": csrf_token(edit), "note": "Nhập trùng"}, follow_redirects=True)
    assert "Đã xoá phiếu số NGG07-0003" in done.get_data(as_text=True)
    dbs.expire_all()
    assert count(dbs, Response) == 1 and _received(dbs) == before + 1
    assert not dbs.scalars(select(Answer).where(Answer.response_id == second_id)).all()
    event = dbs.scalars(select(AuditEvent).where(AuditEvent.action == "paper.deleted")).one()
    assert json.loads(event.details) == {"paper_number": "NGG07-0003", "note": "Nhập trùng"}


def test_a_clerk_changes_only_the_forms_they_keyed(app, client, demo, dbs):
    _clerk(dbs, "nhaplieu")
    _clerk(dbs, "nhaplieu2")
    login(client, "nhaplieu", "mat-khau-dai-1")
    assert _key_in(client, "NGG07-0001").status_code == 303
    mine = dbs.scalars(select(Response)).one()
    other = app.test_client()
    login(other, "nhaplieu2", "mat-khau-dai-1")
    page = other.get(f"{ENTRY}?unit=HDG-NGG-07").get_data(as_text=True)
    assert "NGG07-0001" in page and "người khác nhập" in page
    assert other.get(f"{ENTRY}?unit=HDG-NGG-07&edit={mine.id}").status_code == 403
    deleted = other.post(f"{ENTRY}/{mine.id}/delete", data={"csrf_token": csrf_token(page), "note": "x"})
    assert deleted.status_code == 403 and count(dbs, Response) == 1
    assert other.get(f"{ENTRY}?unit=HDG-NGG-07&edit=abc").status_code == 404
    admin = app.test_client()
    login(admin, demo.admin_username, demo.admin_password)
    assert admin.get(f"{ENTRY}?unit=HDG-NGG-07&edit={mine.id}").status_code == 200


def test_numbered_paper_forms_are_chosen_in_the_page(client, demo, dbs):
    _clerk(dbs, "nhaplieu")
    login(client, "nhaplieu", "mat-khau-dai-1")
    url = f"/admin/c/{KEY}/g/citizen/paper"
    blank = client.get(url).get_data(as_text=True)
    assert '<select name="unit">' in blank and 'name="copies"' in blank and "Tạo phiếu" in blank
    numbered = client.get(url, query_string={"unit": "HDG-NGG-07", "copies": "3", "start": "5"}).get_data(as_text=True)
    numbers = re.findall(r'class="number">([^<]+)<', numbered)
    assert numbers == ["HDG-NGG-07-0005", "HDG-NGG-07-0006", "HDG-NGG-07-0007"]
    for junk in ({"copies": "abc"}, {"copies": "100000"}, {"start": "-3", "copies": "2"}):
        page = client.get(url, query_string=junk)
        assert page.status_code == 200 and "Số bản phải từ 1 đến 200" in page.get_data(as_text=True)
        assert not re.findall(r'class="number">([^<]+)<', page.get_data(as_text=True))
    nowhere = client.get(url, query_string={"unit": "NOWHERE", "copies": "2"}).get_data(as_text=True)
    assert "Không có đơn vị này" in nowhere
