"""Quality review that can decide (issue 15, part 5): open a flagged response (answers in words,
duration, channel, flags), keep or exclude several at once with one reason, filter by flag and unit."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select, update

from questionnaires.labels import answer_label, answer_lines
from surveyapp.models import AuditEvent, Campaign, Quota, Response

from .conftest import csrf_token
from .helpers import CITIZEN
from .test_monitoring import KEY, _point, _submit, staff  # noqa: F401 (the fixture)
from .test_qr_posters import login


def _flagged(client, dbs, n: int, unit: str = "HDG-NGG-07") -> list[Response]:
    dbs.execute(update(Campaign).values(min_seconds_per_question=30))
    dbs.commit()
    point = _point(dbs, unit)
    for _ in range(n):  # a test answers in no time: too fast, and every scale item at one level
        assert _submit(client, point, level="4", procedure_field="land").status_code == 200
    return list(dbs.scalars(select(Response).where(Response.unit_id == point.unit_id).order_by(Response.id)))


def _received(dbs, response: Response) -> int:
    return dbs.scalar(
        select(Quota.received).where(Quota.unit_id == response.unit_id, Quota.group_id == response.group_id)
    )


def test_answers_in_words():
    land = CITIZEN.question("procedure_field")
    assert answer_label(land, code="land") == "Đất đai"
    seating = CITIZEN.question("access_seating")
    assert answer_label(seating, num=4.0).startswith("4 · ") and answer_label(seating, num=4.0) != "4 · 4"
    assert answer_label(CITIZEN.question("visits"), num=2.0) == "2"
    lines = answer_lines(CITIZEN, [("procedure_field", 1, "land", None, None), ("visits", 1, None, 2.5, None)], {})
    assert [(line.question.id, line.text) for line in lines[:4]] == [
        ("procedure_field", "Đất đai"), ("respondent_kind", ""), ("submit_channel", ""), ("visits", "2,5")]  # fmt: skip


def test_a_reviewer_opens_a_flagged_response(client, demo, dbs):
    [response] = _flagged(client, dbs, 1)
    login(client, demo.admin_username, demo.admin_password)
    listing = client.get(f"/admin/c/{KEY}/quality").get_data(as_text=True)
    assert f"/admin/c/{KEY}/responses/{response.id}?next=" in listing
    page = client.get(f"/admin/c/{KEY}/responses/{response.id}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert f"Phiếu số {response.id}" in text and "mã QR tại quầy" in text
    assert "Đất đai" in text and "land" not in text  # option labels, never codes
    assert "Thủ tục ông/bà vừa thực hiện thuộc lĩnh vực nào?" in text
    assert "trả lời quá nhanh" in text and "mọi câu thang đo cùng một mức" in text
    assert re.search(r"Thời gian trả lời \d+ giây cho \d+ câu trả lời", text)
    assert "(giờ Việt Nam)" in text
    # the staff who may not see answers cannot open it
    other = client.application.test_client()
    assert other.get(f"/admin/c/{KEY}/responses/{response.id}").status_code == 302
    assert client.get(f"/admin/c/{KEY}/responses/999999").status_code == 404


def test_scorers_and_officers_cannot_open_a_response(app, client, demo, dbs, staff):  # noqa: F811
    [response] = _flagged(client, dbs, 1)
    for role in ("scorer", "unit_officer", "clerk"):
        browser = app.test_client()
        login(browser, *staff[role])
        assert browser.get(f"/admin/c/{KEY}/responses/{response.id}").status_code == 403, role


def test_bulk_exclude_with_one_reason_then_restore(client, demo, dbs):
    responses = _flagged(client, dbs, 3)
    before = _received(dbs, responses[0])
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/quality").get_data(as_text=True)
    ids = [str(r.id) for r in responses[:2]]
    done = client.post(f"/admin/c/{KEY}/responses/review", follow_redirects=True,
                       data={"csrf_token": csrf_token(page), "ids": ids, "decision": "exclude",
                             "note": "Đơn vị xác nhận phiếu thử"})  # fmt: skip
    assert "Đã loại 2 phiếu." in done.get_data(as_text=True)
    dbs.expire_all()
    assert [dbs.get(Response, r.id).status for r in responses] == ["excluded", "excluded", "valid"]
    assert _received(dbs, responses[0]) == before - 2
    events = dbs.scalars(select(AuditEvent).where(AuditEvent.action == "response.excluded")).all()
    assert len(events) == 2 and {json.loads(e.details)["note"] for e in events} == {"Đơn vị xác nhận phiếu thử"}
    # the same decision again, with the third: one changed, two already excluded and left alone
    again = client.post(f"/admin/c/{KEY}/responses/review", follow_redirects=True,
                        data={"csrf_token": csrf_token(page), "ids": [*ids, str(responses[2].id)],
                              "decision": "exclude", "note": "Lần hai"})  # fmt: skip
    assert "Đã loại 1 phiếu. 2 phiếu không đổi" in again.get_data(as_text=True)
    assert _received(dbs, responses[0]) == before - 3
    client.post(f"/admin/c/{KEY}/responses/review",
                data={"csrf_token": csrf_token(page), "ids": ids, "decision": "restore", "note": "Nhầm"})  # fmt: skip
    dbs.expire_all()
    assert [dbs.get(Response, r.id).status for r in responses] == ["valid", "valid", "excluded"]
    assert _received(dbs, responses[0]) == before - 1


def test_filters_by_flag_and_unit(client, demo, dbs):
    here = _flagged(client, dbs, 2, "HDG-NGG-07")
    there = _flagged(client, dbs, 1, "HDG-NGG-05")
    dbs.execute(update(Response).where(Response.id == there[0].id).values(flags="off_hours"))
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)

    def listed(**args) -> set[int]:
        page = client.get(f"/admin/c/{KEY}/quality", query_string=args).get_data(as_text=True)
        return {int(x) for x in re.findall(r'name="ids" value="(\d+)"', page)}

    mine = {r.id for r in here} | {there[0].id}
    assert mine <= listed()
    assert listed(flag="off_hours") & mine == {there[0].id}
    assert listed(flag="too_fast") & mine == {r.id for r in here}
    assert listed(unit="HDG-NGG-05") & mine == {there[0].id}
    assert listed(flag="nonsense") >= mine  # an unknown filter is no filter, never an error


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ids": ["abc"], "decision": "exclude", "note": "x"}, "Danh sách phiếu đã chọn không hợp lệ"),
        ({"ids": ["1" * 40], "decision": "exclude", "note": "x"}, "Danh sách phiếu đã chọn không hợp lệ"),
        ({"decision": "exclude", "note": "x"}, "Vui lòng chọn ít nhất một phiếu"),
        ({"ids": ["{id}"], "decision": "drop", "note": "x"}, "Vui lòng chọn giữ, loại hoặc khôi phục"),
        ({"ids": ["{id}"], "decision": "exclude", "note": ""}, "Vui lòng ghi lý do"),
        ({"ids": ["{id}"], "decision": "exclude", "note": "x" * 501}, "Lý do dài tối đa 500 ký tự"),
        ({"ids": ["{id}", "999999"], "decision": "exclude", "note": "x"}, "Có phiếu không thuộc đợt khảo sát này"),
    ],
)
def test_junk_decisions_change_nothing_and_say_why(client, demo, dbs, fields, message):
    [response] = _flagged(client, dbs, 1)
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/quality").get_data(as_text=True)
    data = {k: [v.format(id=response.id) for v in value] if isinstance(value, list) else value
            for k, value in fields.items()}  # fmt: skip
    result = client.post(f"/admin/c/{KEY}/responses/review", data={"csrf_token": csrf_token(page), **data},
                         follow_redirects=True)  # fmt: skip
    assert result.status_code == 200 and message in result.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Response, response.id).status == "valid" and dbs.get(Response, response.id).reviewed_at is None
