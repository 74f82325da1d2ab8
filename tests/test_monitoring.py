"""Roles and access, the quota dashboard, data quality, the audit log and the read-only API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from werkzeug.security import generate_password_hash

from surveyapp.collect import quality
from surveyapp.invitations.services import make_slips
from surveyapp.models import (
    AuditEvent,
    Campaign,
    CollectionPoint,
    Quota,
    RespondentGroup,
    Response,
    Role,
    Unit,
    User,
)

from .conftest import csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login

PASSWORD = "mat-khau-dai-1"
KEY = "ninh-giang-2023"


@pytest.fixture
def staff(demo, dbs):
    """One account per role; the unit officer belongs to Xã An Đức (HDG-NGG-02)."""
    own = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-02")).one()
    for name, role, unit in (("canboxa", Role.UNIT_OFFICER, own.id), ("chamdiem", Role.SCORER, None),
                             ("nhaplieu", Role.CLERK, None)):  # fmt: skip
        dbs.add(User(username=name, password_hash=generate_password_hash(PASSWORD), role=role, unit_id=unit))
    dbs.commit()
    citizen = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()
    citizen.counter_access = "both"  # slips are printed only where they work
    other = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-05")).one()
    [other_slip] = make_slips(dbs, citizen, other, 1)
    dbs.commit()
    points = {u: dbs.scalars(select(CollectionPoint.code).join(Unit).where(Unit.code == u)).one()
              for u in ("HDG-NGG-02", "HDG-NGG-05")}  # fmt: skip
    return {"admin": (demo.admin_username, demo.admin_password), "unit_officer": ("canboxa", PASSWORD),
            "scorer": ("chamdiem", PASSWORD), "clerk": ("nhaplieu", PASSWORD), "points": points,
            "other_slip_batch": other_slip.batch}  # fmt: skip


def routes(staff) -> dict[str, set[str]]:
    """Every staff page (GET) and who may open it."""
    own, other = staff["points"]["HDG-NGG-02"], staff["points"]["HDG-NGG-05"]
    c = f"/admin/c/{KEY}"
    everyone = {"admin", "scorer", "unit_officer", "clerk"}
    return {
        "/admin/": everyone,
        f"{c}/": {"admin", "scorer"},
        f"{c}/posters": {"admin"},
        f"/admin/p/{own}/poster": {"admin", "unit_officer"},
        f"/admin/p/{other}/poster": {"admin"},  # another unit's poster: refused to the unit officer
        f"/admin/p/{own}/kiosk": {"admin", "unit_officer"},
        f"{c}/g/citizen/ho-so": {"admin"},
        f"/admin/p/{other}/kiosk": {"admin"},  # another unit's tablets: refused to the unit officer
        f"{c}/plan": {"admin", "scorer"},
        f"{c}/plan.xlsx": {"admin", "scorer"},
        f"{c}/draws": {"admin"},
        f"{c}/results": {"admin", "scorer"},
        f"{c}/results/u/HDG-NGG-02": {"admin", "scorer"},
        f"{c}/results.xlsx": {"admin", "scorer"},
        f"{c}/rules": {"admin", "scorer"},
        f"{c}/g/citizen/raw.csv": {"admin", "scorer"},
        f"{c}/dashboard": {"admin", "scorer", "unit_officer"},
        f"{c}/dashboard.xlsx": {"admin", "scorer", "unit_officer"},
        f"{c}/quality": {"admin"},
        f"{c}/settings": {"admin"},
        f"{c}/g/hdnd/": {"admin"},
        f"{c}/g/hdnd/gui": {"admin"},
        f"{c}/g/hdnd/links.csv": {"admin"},
        f"{c}/g/hdnd/links.xlsx": {"admin"},
        f"{c}/g/hdnd/qr-slips": {"admin"},
        f"{c}/g/citizen/slips/HDG-NGG-05/{staff['other_slip_batch']}": {"admin"},  # not the officer's unit
        f"{c}/g/citizen/paper": {"admin", "clerk", "unit_officer"},
        f"{c}/g/citizen/entry?unit=HDG-NGG-02": {"admin", "clerk"},
        "/admin/users": {"admin"},
        "/admin/audit": {"admin"},
        "/admin/audit.csv": {"admin"},
    }


@pytest.mark.parametrize("role", ["anonymous", "admin", "scorer", "unit_officer", "clerk"])
def test_access_matrix_for_every_staff_page(app, staff, role):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, *staff[role]).status_code == 302
    for path, allowed in routes(staff).items():
        status = client.get(path).status_code
        if role == "anonymous":
            assert status == 302, (path, status)
        elif role in allowed:
            assert status == 200, (role, path, status)
        else:
            assert status == 403, (role, path, status)


def test_unit_officer_cannot_reach_other_units_by_changing_ids(app, staff, dbs):
    client = app.test_client()
    login(client, *staff["unit_officer"])
    html = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "Xã An Đức" in body and "Xã Hiệp Lực" not in html and body.count("<tr>") == 1
    token = csrf_token(html)
    assert (
        client.post(
            f"/admin/c/{KEY}/g/citizen/slips", data={"csrf_token": token, "unit": "HDG-NGG-05", "count": "5"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/c/{KEY}/g/citizen/slips", data={"csrf_token": token, "unit": "HDG-NGG-02", "count": "5"}
        ).status_code
        == 302
    )
    xlsx = client.get(f"/admin/c/{KEY}/dashboard.xlsx?parent=HDG-NGG")
    import io

    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["HDG-NGG-02"]


@pytest.mark.parametrize("role", ["scorer", "unit_officer", "clerk"])
def test_state_changes_are_for_administrators(app, staff, dbs, role):
    client = app.test_client()
    login(client, *staff[role])
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    invitation_group = f"/admin/c/{KEY}/g/hdnd"
    posts = [
        (f"/admin/c/{KEY}/plan", {"plan_text": "groups: []", "intent": "apply"}),
        (
            f"/admin/c/{KEY}/settings",
            {"quota_full_policy": "accept", "min_seconds_per_question": "1", "burst_limit": "5"},
        ),
        (f"{invitation_group}/add", {"full_name": "A", "unit": "HDG-NGG"}),
        (f"/admin/c/{KEY}/g/citizen/access", {"counter_access": "both"}),
        ("/admin/users", {"username": "moi", "password": "x" * 12, "role": "admin"}),
    ]
    for path, data in posts:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert dbs.scalar(select(Campaign.quota_full_policy)) == "stop"
    assert dbs.scalar(select(User.id).where(User.username == "moi")) is None


def test_repeated_failed_logins_are_slowed(client, demo):
    for _ in range(5):
        assert login(client, demo.admin_username, "sai").status_code == 401
    blocked = login(client, demo.admin_username, demo.admin_password)
    assert blocked.status_code == 429 and "Đăng nhập sai quá nhiều lần" in blocked.get_data(as_text=True)


def test_sessions_expire(app, demo):
    assert app.permanent_session_lifetime == timedelta(hours=8)
    client = app.test_client()
    login(client, demo.admin_username, demo.admin_password)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None and cookie.http_only


def count_queries(app, client, path: str) -> int:
    engine = app.extensions["surveyapp.db"]
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_dashboard_uses_the_same_number_of_queries_for_any_number_of_units(app, client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    small = count_queries(app, client, f"/admin/c/{KEY}/dashboard")
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()
    extra = [Unit(code=f"EXTRA-{i:03d}", name=f"Xã thêm {i}", kind="xã", parent_id=district.id) for i in range(300)]
    dbs.add_all(extra)
    dbs.flush()
    dbs.add_all(Quota(group_id=group.id, unit_id=u.id, target=60, received=0) for u in extra)
    dbs.commit()
    large = count_queries(app, client, f"/admin/c/{KEY}/dashboard")
    assert large == small
    assert "Xã thêm 299" in client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)


def _point(dbs, unit="HDG-NGG-07"):
    return dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == unit)).one()


def _submit(client, point, **fields):
    html = client.get(f"/f/{point.code}").get_data(as_text=True)
    return client.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers(**fields)})


def test_quality_flags_pure():
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Vietnam
    assert quality.too_fast(now - timedelta(seconds=20), now, questions=20, min_seconds=2)
    assert not quality.too_fast(now - timedelta(seconds=60), now, questions=20, min_seconds=2)
    assert quality.straight_lining([4.0] * 15) and not quality.straight_lining([4.0] * 14 + [5.0])
    assert not quality.straight_lining([4.0] * 4)
    hours = "07:30-11:30,13:30-17:00"
    assert not quality.off_hours(hours, now)
    assert quality.off_hours(hours, now + timedelta(hours=3))  # 13:00, lunch
    assert quality.off_hours(hours, now + timedelta(days=5))  # Saturday
    assert not quality.off_hours(None, now + timedelta(days=5))
    flags = quality.flags_for(shown_at=now, submitted_at=now + timedelta(seconds=5), questions=10, min_seconds=2,
                              scale_levels=[5.0] * 6, recent_from_device=3, burst_limit=3,
                              opening_hours=hours, check_hours=True)  # fmt: skip
    assert flags == ["too_fast", "straight_lining", "burst"]


def test_flags_are_computed_at_submit(client, demo, dbs):
    dbs.execute(update(Campaign).values(min_seconds_per_question=30, burst_limit=2))
    dbs.commit()
    point = _point(dbs)
    assert _submit(client, point, level="4").status_code == 200  # too fast (a test is quick) and straight
    assert _submit(client, point, level="4").status_code == 200
    assert _submit(client, point, level="4").status_code == 200  # the third from this device within the hour
    flags = [r.flags.split() for r in dbs.scalars(select(Response).order_by(Response.id))]
    assert all("too_fast" in f and "straight_lining" in f for f in flags)
    assert ["burst" in f for f in flags] == [False, False, True]
    hashes = {r.device_hash for r in dbs.scalars(select(Response))}
    assert len(hashes) == 1 and len(next(iter(hashes))) == 64
    cookie = client.get_cookie("dv")
    assert cookie is not None and cookie.value not in next(iter(hashes))


def test_excluded_response_disappears_from_counts(client, demo, dbs, runner):
    point = _point(dbs)
    assert _submit(client, point, level="5").status_code == 200
    assert _submit(client, point, level="2").status_code == 200
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/quality").get_data(as_text=True)
    assert "mọi câu thang đo cùng một mức" in page
    assert "mã QR tại quầy" in page and ">counter<" not in page  # channels in Vietnamese
    target = dbs.scalars(select(Response).order_by(Response.id)).all()[1]
    token = csrf_token(page)
    refused = client.post(
        f"/admin/c/{KEY}/responses/{target.id}/review",
        data={"csrf_token": token, "decision": "exclude", "note": ""},
        follow_redirects=True,
    )
    assert "Vui lòng ghi lý do" in refused.get_data(as_text=True)
    client.post(
        f"/admin/c/{KEY}/responses/{target.id}/review",
        data={"csrf_token": token, "decision": "exclude", "note": "Phiếu thử"},
    )
    dbs.expire_all()
    assert dbs.get(Response, target.id).status == "excluded"
    lines = runner.invoke(args=["progress", KEY]).output.splitlines()
    assert "HDG-NGG-07\tcitizen\t60\t1" in lines
    dashboard = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    assert "1 phiếu bị loại" in dashboard
    assert (
        dbs.scalar(select(Quota.received).where(Quota.unit_id == point.unit_id, Quota.group_id == point.group_id)) == 1
    )
    # scoring reads valid answers only:
    from surveyapp.campaigns.services import campaign_by_key
    from surveyapp.results.services import level_counts

    counts = [c for c in level_counts(dbs, campaign_by_key(dbs, KEY)) if c.question == "overall_satisfaction"]
    assert [(c.level, c.n) for c in counts] == [(5, 1)]
    events = dbs.scalars(select(AuditEvent).where(AuditEvent.action == "response.excluded")).all()
    assert len(events) == 1 and json.loads(events[0].details)["note"] == "Phiếu thử"


def test_changes_are_audited_and_exported(client, demo, dbs, runner, tmp_path):
    login(client, demo.admin_username, demo.admin_password)
    token = csrf_token(client.get("/admin/users").get_data(as_text=True))
    client.post("/admin/users", data={"csrf_token": token, "username": "xa.anduc", "password": "mat-khau-moi-1",
                                      "role": "unit_officer", "unit": "HDG-NGG-02", "full_name": "Cán bộ xã"})  # fmt: skip
    client.post(f"/admin/c/{KEY}/settings", data={"csrf_token": token, "quota_full_policy": "accept",
                                                  "min_seconds_per_question": "1,5", "burst_limit": "4"})  # fmt: skip
    plan = tmp_path / "p.yaml"
    plan.write_text("groups:\n  - {group: hdnd, method: census, unit: HDG-NGG, size: 25}\n", encoding="utf-8")
    runner.invoke(args=["plan", KEY, str(plan), "--apply"])
    actions = [e.action for e in dbs.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["user.created", "campaign.settings_changed", "campaign.plan_applied"]
    csv_text = client.get("/admin/audit.csv").data.decode("utf-8-sig")
    assert "Tạo tài khoản" in csv_text and "user:xa.anduc" in csv_text and "dòng lệnh" in csv_text
    assert "mat-khau-moi-1" not in csv_text
    assert dbs.scalar(select(Campaign.min_seconds_per_question)) == 1.5


@pytest.fixture
def token(runner, demo):
    result = runner.invoke(args=["api-token", "phan-mem-cham-diem"])
    return result.output.strip().split("\t")[2]


def test_api_needs_a_token(client, demo):
    for path in ("/api/campaigns", f"/api/campaigns/{KEY}/progress", f"/api/campaigns/{KEY}/scores"):
        response = client.get(path)
        assert response.status_code == 401 and "error" in response.get_json()
        assert client.get(path, headers={"Authorization": "Bearer sai"}).status_code == 401


def test_api_answers(client, demo, token, dbs):
    headers = {"Authorization": f"Bearer {token}"}
    campaigns = client.get("/api/campaigns", headers=headers).get_json()["campaigns"]
    assert campaigns[0]["key"] == KEY and campaigns[0]["scope_unit"]["code"] == "HDG-NGG"
    progress = client.get(f"/api/campaigns/{KEY}/progress", headers=headers).get_json()
    assert len(progress["cells"]) == 24 and sum(c["target"] for c in progress["cells"]) == 1248
    scores = client.get(f"/api/campaigns/{KEY}/scores", headers=headers).get_json()
    assert scores["component_total"] == 10 and len(scores["units"]) == 20
    assert client.get("/api/campaigns/khong-co/progress", headers=headers).status_code == 404


def test_openapi_document_validates(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    assert set(spec["paths"]) == {
        "/api/campaigns",
        "/api/campaigns/{key}/progress",
        "/api/campaigns/{key}/scores",
        "/api/campaigns/{key}/invitations",
    }


def test_unit_officer_prints_slips_for_their_own_unit_from_the_home_page(app, staff, dbs):
    citizen = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()
    citizen.counter_access = "both"
    dbs.commit()
    client = app.test_client()
    login(client, *staff["unit_officer"])
    home = client.get("/admin/").get_data(as_text=True)
    assert "In phiếu" in home and 'name="unit" value="HDG-NGG-02"' in home
    printed = client.post(f"/admin/c/{KEY}/g/citizen/slips", data={"csrf_token": csrf_token(home), "unit": "HDG-NGG-02", "count": "8"},
                          follow_redirects=True)  # fmt: skip
    assert printed.status_code == 200 and printed.get_data(as_text=True).count('<article class="slip">') == 8


def test_staff_see_vietnam_time_everywhere(client, demo, dbs):
    """Issue 15: a response at 05:41 on 02/12 in Vietnam was listed as 22:41 on 01/12 (UTC), and
    the per-day chart bucketed by UTC date. One response at 23:30 and one at 00:30 Vietnam time."""
    from datetime import UTC, datetime

    from surveyapp.models import Campaign, CollectionPoint, Response, Unit
    from surveyapp.monitor.services import per_day

    from .conftest import hidden_fields
    from .helpers import valid_answers

    point = dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == "HDG-NGG-05")).first()
    for _ in range(2):
        phone = client.application.test_client()
        html = phone.get(f"/f/{point.code}").get_data(as_text=True)
        assert phone.post(f"/f/{point.code}", data={**hidden_fields(html), **valid_answers()}).status_code == 200
    first, second = dbs.scalars(select(Response).order_by(Response.id)).all()
    first.submitted_at, first.flags = datetime(2026, 12, 1, 16, 30, tzinfo=UTC), "too_fast"  # 23:30 in Vietnam
    second.submitted_at, second.flags = datetime(2026, 12, 1, 17, 30, tzinfo=UTC), "too_fast"  # 00:30 on 02/12
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    quality = client.get(f"/admin/c/{KEY}/quality").get_data(as_text=True)
    assert "01/12/2026 23:30" in quality and "02/12/2026 00:30" in quality and "16:30" not in quality
    raw = client.get(f"/admin/c/{KEY}/g/citizen/raw.csv").get_data(as_text=True)
    assert "01/12/2026" in raw and "02/12/2026" in raw
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == KEY))
    assert per_day(dbs, campaign) == [("2026-12-01", 1), ("2026-12-02", 1)]
    dashboard = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    assert "01/12/2026: 1" in dashboard and "02/12/2026: 1" in dashboard and "2026-12-0" not in dashboard
    from surveyapp.models import AuditEvent

    dbs.add(AuditEvent(at=datetime(2026, 12, 1, 17, 30, tzinfo=UTC), action="unit.changed", target="unit:X"))
    dbs.commit()
    audit = client.get("/admin/audit.csv").get_data(as_text=True)
    assert "giờ Việt Nam" in audit and "02/12/2026 00:30" in audit and not re.search(r"\d{4}-\d\d-\d\dT", audit)
    assert "02/12/2026 00:30" in client.get("/admin/audit").get_data(as_text=True)


def test_a_campaign_past_its_end_date_says_so(client, demo, dbs):
    from datetime import date

    from surveyapp.models import Campaign

    campaign = dbs.scalar(select(Campaign).where(Campaign.key == KEY))
    campaign.ends_on = date(2023, 12, 31)
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    assert "đã kết thúc ngày 31/12/2023" in page and "còn 0 ngày" not in page
    # nothing more will come in: the page stays still (no reload script, never a <meta refresh>)
    assert "/a/refresh-" not in page and "http-equiv" not in page and "không tự cập nhật" in page
    campaign.ends_on = date.today() + timedelta(days=10)
    dbs.commit()
    live = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    assert "/a/refresh-" in live and "http-equiv" not in live and "tự cập nhật mỗi phút" in live


def test_the_group_page_counts_like_the_campaign_page(client, demo, dbs):
    from surveyapp.campaigns.services import campaign_by_key
    from surveyapp.demo.fake import fill

    fill(dbs, campaign_by_key(dbs, KEY), share=0.5, seed=7)
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    campaign_page = re.sub(r"\s+", " ", client.get(f"/admin/c/{KEY}/").get_data(as_text=True))
    group_page = re.sub(r"\s+", " ", client.get(f"/admin/c/{KEY}/g/hdnd/").get_data(as_text=True))
    received, target = re.search(r'class="big">(\d+)/(\d+)<', group_page).groups()
    assert int(target) == 30 and int(received) > 0  # the demo's 30 delegates, half of them answered
    rows = re.findall(r"<td>[^<]*</td><td>Đại biểu HĐND huyện</td><td class=\"r\">(\d+)</td><td class=\"r\">(\d+)</td>",
                      campaign_page)  # fmt: skip
    assert sum(int(t) for t, _ in rows) == int(target) and sum(int(r) for _, r in rows) == int(received)
    assert "Chưa có ai trong danh sách mời" in group_page


def test_the_audit_log_reads_as_sentences(client, demo, dbs):
    point = _point(dbs)
    assert _submit(client, point, level="5").status_code == 200
    target = dbs.scalars(select(Response)).one()
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/settings").get_data(as_text=True)
    client.post(f"/admin/c/{KEY}/settings", data={"csrf_token": csrf_token(page), "quota_full_policy": "accept",
                                                 "min_seconds_per_question": "3", "burst_limit": "10"})  # fmt: skip
    client.post(f"/admin/c/{KEY}/responses/{target.id}/review",
                data={"csrf_token": csrf_token(page), "decision": "exclude", "note": "Phiếu thử"})  # fmt: skip
    log = re.sub(r"\s+", " ", client.get("/admin/audit").get_data(as_text=True))
    campaign = dbs.scalar(select(Campaign.name).where(Campaign.key == KEY))
    assert f"đợt “{campaign}”" in log and f"phiếu số {target.id}" in log
    assert "lý do: Phiếu thử; cờ: trả lời quá nhanh, mọi câu thang đo cùng một mức" in log
    assert "khi đủ chỉ tiêu ngừng nhận" in log and "khi đủ chỉ tiêu vẫn nhận, đánh dấu vượt chỉ tiêu" in log
    assert "campaign:" not in log and "{&#34;" not in log and '{"' not in log
    csv_text = client.get("/admin/audit.csv").get_data(as_text=True)
    assert f"phiếu số {target.id}" in csv_text and f"response:{target.id}" in csv_text  # the raw code kept too
