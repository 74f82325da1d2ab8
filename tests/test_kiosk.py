"""A counter's shared tablet (issue 22, part 1): paired by a one-time code, paced instead of the
per-phone limit, nothing of one citizen left for the next, refused in Vietnamese when revoked or
closed. The real Chromium walk is in test_kiosk_browser.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from surveyapp.collect import kiosk as kiosk_mode
from surveyapp.models import Campaign, CollectionPoint, Kiosk, Response, Role, Unit, User

from .conftest import csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login

PASSWORD = "mat-khau-dai-1"
UNIT = "HDG-NGG-02"


def _point(dbs, unit: str = UNIT) -> CollectionPoint:
    return dbs.scalars(select(CollectionPoint).join(Unit).where(Unit.code == unit)).first()


def _pairing_code(html: str) -> str:
    found = re.search(r"Mã ghép nối: <strong>(\d{3}) (\d{3})</strong>", html)
    assert found, html[:2000]
    return found.group(1) + found.group(2)


def _responses(dbs, point) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(Response).where(Response.collection_point_id == point.id))


@pytest.fixture
def officer(demo, dbs):
    """A unit officer of HDG-NGG-02, signed in on the officer's own client."""
    unit = dbs.scalars(select(Unit).where(Unit.code == UNIT)).one()
    dbs.add(User(username="canboxa", password_hash=generate_password_hash(PASSWORD), role=Role.UNIT_OFFICER,
                 unit_id=unit.id))  # fmt: skip
    dbs.commit()


def _pair(app, client, dbs, point) -> None:
    """The officer makes a pairing code (in their own client) and the tablet (``client``) types it."""
    staff = app.test_client()
    login(staff, "canboxa", PASSWORD)
    page = staff.post(f"/admin/p/{point.code}/kiosk",
                      data={"csrf_token": csrf_token(staff.get(f"/admin/p/{point.code}/kiosk").text),
                            "intent": "pair"})  # fmt: skip
    assert page.status_code == 200
    code = _pairing_code(page.text)
    first = client.get(f"/k/{point.code}")
    assert first.status_code in (200, 403) and "Ghép nối máy tính bảng" in first.text
    paired = client.post(f"/k/{point.code}/pair", data={"csrf_token": csrf_token(first.text), "pairing": code})
    assert paired.status_code == 303 and paired.headers["Location"].endswith(f"/k/{point.code}")


def _send(client, point, **overrides):
    form = client.get(f"/k/{point.code}")
    assert form.status_code == 200 and 'id="survey"' in form.text and "data-kiosk" in form.text, form.text[:500]
    return client.post(f"/k/{point.code}", data={**hidden_fields(form.text), **valid_answers(**overrides)})


def test_a_paired_tablet_answers_and_the_next_citizen_gets_a_blank_form(app, client, officer, dbs):
    point = _point(dbs)
    _pair(app, client, dbs, point)
    before = _responses(dbs, point)
    form = client.get(f"/k/{point.code}")
    # never kept by the browser, so going back shows nothing of the last citizen; no draft on the tablet
    assert form.headers["Cache-Control"] == "no-store" and 'autocomplete="off"' in form.text
    assert 'class="kiosk"' in form.text and "phiếu sẽ tự xoá sau 90 giây" in form.text
    done = client.post(f"/k/{point.code}", data={**hidden_fields(form.text), **valid_answers()})
    assert (
        done.status_code == 200 and "Mời người tiếp theo" in done.text and done.headers["Cache-Control"] == "no-store"
    )
    assert _responses(dbs, point) == before + 1
    stored = dbs.scalars(select(Response).order_by(Response.id.desc())).first()
    assert stored.channel == "counter" and stored.device_hash and "burst" not in stored.flags
    # the same submission again (a second tap): thanked again, nothing stored twice, not asked to wait
    again = client.post(f"/k/{point.code}", data={**hidden_fields(form.text), **valid_answers()})
    assert again.status_code == 200 and "Mời người tiếp theo" in again.text and _responses(dbs, point) == before + 1
    # the next citizen's form is blank: a new submission id, nothing checked
    following = client.get(f"/k/{point.code}").text
    assert hidden_fields(following)["submission_id"] != hidden_fields(form.text)["submission_id"]
    assert " checked" not in following and "Tốt lắm" not in following
    # the tablet's cookie is not the secret the database holds
    row = dbs.scalars(select(Kiosk).where(Kiosk.point_id == point.id)).one()
    assert row.token_hash and row.token_hash not in str(client.get_cookie("kiosk", path="/k/").value)
    assert row.pairing_hash is None and row.paired_at is not None


def test_a_pairing_code_works_once_for_its_point_and_expires(app, client, officer, dbs, monkeypatch):
    point, other = _point(dbs), _point(dbs, "HDG-NGG-05")
    staff = app.test_client()
    login(staff, "canboxa", PASSWORD)
    page = staff.post(f"/admin/p/{point.code}/kiosk",
                      data={"csrf_token": csrf_token(staff.get(f"/admin/p/{point.code}/kiosk").text), "intent": "pair"})  # fmt: skip
    code = _pairing_code(page.text)
    assert "Chờ ghép nối" not in page.text  # pending codes are not listed as tablets

    def attempt(c, where, typed):
        first = c.get(f"/k/{where.code}")
        return c.post(f"/k/{where.code}/pair", data={"csrf_token": csrf_token(first.text), "pairing": typed})

    wrong = attempt(client, point, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "Mã ghép nối không đúng hoặc đã hết hạn" in wrong.text
    assert attempt(client, other, code).status_code == 422  # another point's page: not this code
    assert attempt(client, point, "12ab").status_code == 422  # malformed: the same message
    later = datetime.now(UTC) + timedelta(minutes=kiosk_mode.PAIRING_MINUTES + 1)
    monkeypatch.setattr(kiosk_mode, "clock", lambda: later)
    assert attempt(client, point, code).status_code == 422  # expired
    monkeypatch.undo()
    assert attempt(client, point, code[:3] + " " + code[3:]).status_code == 303  # typed as shown, with the space
    assert attempt(app.test_client(), point, code).status_code == 422  # used once


def test_an_unpaired_or_revoked_tablet_or_a_closed_campaign_stores_nothing(app, client, officer, dbs):
    point = _point(dbs)
    stranger = app.test_client()  # never paired: it may not post a form
    form = stranger.get(f"/k/{point.code}")
    assert "Ghép nối máy tính bảng" in form.text and 'id="survey"' not in form.text
    refused = stranger.post(f"/k/{point.code}", data={"csrf_token": csrf_token(form.text), **valid_answers()})
    assert refused.status_code == 403 and "Máy tính bảng chưa được ghép nối" in refused.text

    _pair(app, client, dbs, point)
    before = _responses(dbs, point)
    form = client.get(f"/k/{point.code}")
    staff = app.test_client()
    login(staff, "canboxa", PASSWORD)
    row = dbs.scalars(select(Kiosk).where(Kiosk.point_id == point.id)).one()
    listed = staff.get(f"/admin/p/{point.code}/kiosk").text
    assert f"Máy số {row.id}" in listed and "Đang dùng" in listed
    revoked = staff.post(f"/admin/p/{point.code}/kiosk",
                         data={"csrf_token": csrf_token(listed), "intent": "revoke", "kiosk": row.id})  # fmt: skip
    assert revoked.status_code == 303
    assert "Đã thu hồi" in staff.get(f"/admin/p/{point.code}/kiosk").text
    late = client.post(f"/k/{point.code}", data={**hidden_fields(form.text), **valid_answers()})
    assert late.status_code == 403 and "Máy tính bảng này đã ngừng lấy ý kiến" in late.text
    page = client.get(f"/k/{point.code}")  # the citizen is told; the officer may pair it again
    assert page.status_code == 403 and "đã ngừng lấy ý kiến" in page.text and 'id="survey"' not in page.text
    assert _responses(dbs, point) == before

    # a new pairing, then the campaign closes
    _pair(app, client, dbs, point)
    form = client.get(f"/k/{point.code}")
    campaign = dbs.get(Campaign, point.group.campaign_id)
    campaign.status = "closed"
    dbs.commit()
    closed = client.post(f"/k/{point.code}", data={**hidden_fields(form.text), **valid_answers()})
    assert closed.status_code == 410 and "Đợt khảo sát đã kết thúc" in closed.text
    assert _responses(dbs, point) == before
    # an unknown point
    assert "Không tìm thấy phiếu khảo sát" in client.get("/k/khong-co-ma-nay").text


def test_another_units_officer_cannot_pair_or_revoke_its_tablets(app, officer, dbs):
    other = _point(dbs, "HDG-NGG-05")
    staff = app.test_client()
    login(staff, "canboxa", PASSWORD)
    assert staff.get(f"/admin/p/{other.code}/kiosk").status_code == 403
    token = csrf_token(staff.get(f"/admin/p/{_point(dbs).code}/kiosk").text)
    assert staff.post(f"/admin/p/{other.code}/kiosk", data={"csrf_token": token, "intent": "pair"}).status_code == 403
    dbs.expire_all()
    assert dbs.scalar(select(func.count()).select_from(Kiosk)) == 0


def test_a_normal_pace_gets_through_and_rapid_submissions_are_slowed_and_flagged(app, client, officer, dbs,
                                                                                 monkeypatch):  # fmt: skip
    """An hour of a queue, one citizen every 2 minutes: all 30 stored, none flagged. Then someone
    stuffing the kiosk: a submission within KIOSK_MIN_SECONDS is refused with the form kept and
    a request to wait (nothing stored); at the fastest pace allowed the level passes KIOSK_BURST
    and those submissions are flagged as a burst."""
    point = _point(dbs)
    _pair(app, client, dbs, point)
    before = _responses(dbs, point)
    now = [datetime.now(UTC)]
    monkeypatch.setattr(kiosk_mode, "clock", lambda: now[0])
    for _ in range(30):
        assert _send(client, point).status_code == 200
        now[0] += timedelta(minutes=2)
    assert _responses(dbs, point) == before + 30
    paced = dbs.scalars(select(Response).where(Response.collection_point_id == point.id)
                        .order_by(Response.id.desc()).limit(30)).all()  # fmt: skip
    assert not [r.flags for r in paced if "burst" in r.flags]

    assert _send(client, point).status_code == 200
    now[0] += timedelta(seconds=5)
    soon = _send(client, point)
    assert soon.status_code == 429 and "vui lòng chờ khoảng 20 giây" in soon.text
    assert len(re.findall(r'value="4"[^>]*checked', soon.text)) >= 10  # the answers are still on the form
    assert _responses(dbs, point) == before + 31
    step = timedelta(seconds=app.config["KIOSK_MIN_SECONDS"])
    flags = []
    for _ in range(8):
        now[0] += step
        assert _send(client, point).status_code == 200
        flags.append(dbs.scalars(select(Response.flags).order_by(Response.id.desc())).first())
    assert _responses(dbs, point) == before + 39
    # the level: 1 after the 31st, 1 − 25/60 + 1 = 1.58 at the first of these, then +1 − 20/60 each:
    # 2.25, 2.92, 3.58, 4.25, 4.92, 5.58, 6.25, so past 5 from the seventh on
    assert ["burst" in f for f in flags] == [False] * 6 + [True] * 2, flags


def test_added_to_the_home_screen_the_kiosk_opens_full_screen(client, demo, dbs):
    """The pairing page, the form and the thank-you page link a web app manifest: Chrome's "Add to
    home screen" opens the point's kiosk full screen, within its own address, with drawn icons."""
    import io
    import json

    from PIL import Image

    point = _point(dbs)
    page = client.get(f"/k/{point.code}").text
    assert f'<link rel="manifest" href="/k/{point.code}/manifest.webmanifest">' in page
    found = client.get(f"/k/{point.code}/manifest.webmanifest")
    assert found.headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(found.text)
    assert manifest["display"] == "fullscreen" and manifest["start_url"] == manifest["scope"] == f"/k/{point.code}"
    assert manifest["name"] == "Lấy ý kiến người dân · Xã An Đức" and manifest["lang"] == "vi"
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).data))
        assert f"{image.width}x{image.height}" == icon["sizes"] and image.format == "PNG"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    assert client.get("/k/icon-64.png").status_code == 404
    assert client.get("/k/khong-co-ma-nay/manifest.webmanifest").status_code == 404
