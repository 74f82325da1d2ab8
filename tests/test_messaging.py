"""Invitations sent from the product (issue 18): a real SMTP server on loopback (aiosmtpd), the
real worker (``surveyapp worker --burst``, a separate process on RQ over the real Redis), the
links followed and answered in headless Chromium, and where every message stands."""

from __future__ import annotations

import contextlib
import email
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyapp.api.tokens import new_token
from surveyapp.invitations.services import Person, add_invitations
from surveyapp.models import Invitation, Message, MessageSend, RespondentGroup, Response, Unit
from surveyapp.web import VIETNAM

from .conftest import ARTIFACTS, STRICT_TOOLS, TEST_CONFIG, count, csrf_token, hidden_fields, redis_db_url
from .test_browser import PHONE, browser, no_axe_violations  # noqa: F401 (the fixture)
from .test_invitations import leader_answers
from .test_qr_posters import login

SURVEYAPP = Path(sys.executable).parent / "surveyapp"
REDIS_URL = redis_db_url(os.environ.get("SURVEYAPP_TEST_QUEUE_URL", "redis://127.0.0.1:6379/13"))
KEY = "ninh-giang-2023"


class Inbox:
    """What the SMTP server received, message by message; ``hold`` runs before each is accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.hold = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None and self.hold(len(self.messages)) is False:
            return "451 4.3.0 not now"
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def queue_url():
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        message = f"Redis does not answer at {REDIS_URL} (the job queue): apt-get install redis-server"
        if STRICT_TOOLS:
            pytest.fail(message)
        pytest.skip(message)
    store.flushdb()
    yield REDIS_URL
    store.flushdb()
    store.close()


def mail_config(smtp, queue: str = "") -> dict:
    """Mail through the test's SMTP server; with ``queue``, jobs on a queue of this test's own (a
    worker left over from another run never takes them)."""
    return {"QUEUE_NAME": f"test-{os.getpid()}-{smtp.port}","SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_TLS": "none",
            "MAIL_FROM": "Sở Nội vụ tỉnh Hải Dương <khaosat@noivu.example.vn>", "REDIS_URL": queue,
            "MESSAGE_RATE_EMAIL": "1000 per second", "MESSAGE_RETRY_DELAYS": [0.2, 0.2]}  # fmt: skip


def worker_env(app, **extra) -> dict:
    """The worker's environment: the same database, secret and public address as the app."""
    c = app.config
    env = {**os.environ, "DATABASE_URL": c["DATABASE_URL"], "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
           "PUBLIC_BASE_URL": c["PUBLIC_BASE_URL"], "REDIS_URL": c["REDIS_URL"], "QUEUE_NAME": c["QUEUE_NAME"], "SMTP_HOST": c["SMTP_HOST"],
           "SMTP_PORT": str(c["SMTP_PORT"]), "SMTP_TLS": c["SMTP_TLS"], "MAIL_FROM": c["MAIL_FROM"],
           "MESSAGE_RATE_EMAIL": c["MESSAGE_RATE_EMAIL"],
           "MESSAGE_RETRY_DELAYS": ",".join(str(d) for d in c["MESSAGE_RETRY_DELAYS"]),
           "BOUNCE_MAILBOX": c["BOUNCE_MAILBOX"]}  # fmt: skip
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_worker(app, timeout: float = 120, **extra) -> str:
    done = subprocess.run([str(SURVEYAPP), "worker", "--burst"], env=worker_env(app, **extra), capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def delegates(dbs, n: int, *, without_email: int = 0) -> tuple[RespondentGroup, list[Invitation]]:
    """``n`` delegates in the demo's HĐND group, rating one commune (a one-page form)."""
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    group.rated_units = [dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-02")).one()]
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    people = [Person(f"Đại biểu Số {i:03d}", "Đại biểu HĐND huyện", district, "",
                     "" if i < without_email else f"daibieu{i:03d}@hdnd.example.vn") for i in range(n)]  # fmt: skip
    rows = add_invitations(dbs, group, people)
    dbs.commit()
    return group, rows


def compose(client, group_code: str = "hdnd", **fields):
    url = f"/admin/c/{KEY}/g/{group_code}/gui"
    page = client.get(url + ("?loai=nhac" if fields.get("kind") == "reminder" else "")).get_data(as_text=True)
    chosen = re.findall(r'name="people" value="(\d+)"[^>]*checked', page)
    subject = re.search(r'name="subject" value="([^"]*)"', page)
    body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S)
    import html

    data = {"csrf_token": csrf_token(page), "channel": "email", "kind": "invitation",
            "subject": html.unescape(subject.group(1)) if subject else "",
            "body": html.unescape(body.group(1)) if body else "", "people": chosen, "intent": "preview"}  # fmt: skip
    data.update(fields)
    preview = client.post(url, data=data)
    return data, preview


def send_now(client, **fields) -> int:
    data, preview = compose(client, **fields)
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    text = preview.get_data(as_text=True)
    assert "Xem trước thư gửi" in text, re.findall(r"<li>(.*?)</li>", text)
    sent = client.post(f"/admin/c/{KEY}/g/{fields.get('group_code', 'hdnd')}/gui", data={**data, "intent": "send"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    return int(re.search(r"/gui/(\d+)$", sent.headers["Location"]).group(1))


def answer_in_chromium(browser, url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(url)
    for name in page.eval_on_selector_all(
        ".q:not(.hid) input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    ):
        options = page.locator(f'input[name="{name}"]')
        options.nth(options.count() - 1).check()
    page.click("button.send")
    page.wait_for_selector("text=Cảm ơn")
    context.close()


@pytest.mark.browser
def test_invited_by_email_via_the_worker(browser, live_server, app, client, demo, dbs, smtp, queue_url):  # noqa: F811
    """Done when, first point: invitations over a real SMTP server, sent by the worker, read
    back, each link followed and answered in Chromium; the page and the API count what happened."""
    app.config.update(mail_config(smtp, queue_url))
    group, people = delegates(dbs, 6, without_email=1)
    login(client, demo.admin_username, demo.admin_password)
    send_id = send_now(client)
    assert not smtp.messages  # the request queued the work; it sent nothing itself
    assert dbs.scalar(select(func.count()).where(Message.send_id == send_id)) == 5
    run_worker(app)

    assert len(smtp.messages) == 5
    for person in people[1:]:
        [mail] = smtp.to(person.email)
        assert mail["Subject"] == f"Mời tham gia khảo sát: {group.campaign.name}"
        assert mail["List-Unsubscribe"] == f"<{live_server}/i/{person.code}/tu-choi>"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = mail.get_body(("plain",)).get_content()
        html_part = mail.get_body(("html",)).get_content()
        assert f"Kính gửi Ông/Bà {person.full_name}," in text and "Xã An Đức" in text
        link = f"{live_server}/i/{person.code}"
        assert link in text and f'href="{link}"' in html_part
        assert "{" not in text  # every placeholder was filled
    assert not smtp.to("daibieu000@")  # no address: not sent
    page = client.get(f"/admin/c/{KEY}/gui/{send_id}").get_data(as_text=True)
    assert "Đã gửi xong" in page and page.count("Đã gửi</span>") == 5

    for person in people[1:4]:
        answer_in_chromium(browser, f"{live_server}/i/{person.code}")
    context = browser.new_context(viewport=PHONE)  # the fourth only opens the link
    context.new_page().goto(f"{live_server}/i/{people[4].code}")
    context.close()
    assert count(dbs, Response) == 3

    group_page = client.get(f"/admin/c/{KEY}/g/hdnd/").get_data(as_text=True)
    stages = dict(re.findall(r'<option value="(\w+)"[^>]*>[^<(]+\((\d+)\)</option>', group_page))
    assert stages == {"completed": "3", "opened": "1", "sent": "1", "not_sent": "1"}, stages
    only_opened = client.get(f"/admin/c/{KEY}/g/hdnd/?tinh-trang=opened").get_data(as_text=True)
    assert people[4].full_name in only_opened and people[1].full_name not in only_opened
    exported = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/g/hdnd/links.xlsx").data)).active
    rows = {r[0]: r for r in exported.iter_rows(min_row=2, values_only=True)}
    assert rows[people[4].full_name][6] == "Đã mở đường dẫn" and rows[people[1].full_name][6] == "Đã trả lời"
    assert rows[people[5].full_name][6] == "Đã gửi" and rows[people[5].full_name][7].startswith("Email ")
    assert rows[people[0].full_name][6:] == ("Chưa gửi", "")
    token = new_token(dbs, "kiểm tra")
    dbs.commit()
    api = client.get(f"/api/campaigns/{KEY}/invitations", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.get_data(as_text=True)[:500]
    [hdnd] = [g for g in api.get_json()["groups"] if g["group_code"] == "hdnd"]
    assert [u["unit_code"] for u in hdnd["units"]] == ["HDG-NGG"]
    summary = hdnd["outcomes"]
    assert summary == {"invited": 6, "sent": 5, "opened": 4, "started": 0, "completed": 3, "failed": 0,
                       "bounced": 0, "opted_out": 0, "not_sent": 1, "rr1": 0.5, "rr2": 0.5,
                       "coop1": 0.75}, summary  # fmt: skip
    dashboard = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    total = re.search(r'<tr class="total"><td><strong>' + group.name + r"</strong></td>(.*?)</tr>", dashboard, re.S)
    cells = re.findall(r'<td class="r">([^<]*)</td>', total.group(1))
    assert cells == ["6", "5", "4", "0", "3", "0", "0", "50,0%", "50,0%", "75,0%"], cells
    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/results.xlsx").data), read_only=True)
    [line] = [r for r in book["Thu phiếu"].iter_rows(values_only=True) if r[:2] == (group.name, "Cả nhóm")]
    assert line == (group.name, "Cả nhóm", 6, 5, 4, 0, 3, 0, 0, 0.5, 0.5, 0.75)
    from .test_every_page import _sign_in

    shots = ARTIFACTS / "messaging"
    shots.mkdir(parents=True, exist_ok=True)
    for width in (360, 1366):  # the outcome table as the office sees it
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = _sign_in(context, live_server, demo.admin_username, demo.admin_password)
        page.goto(f"{live_server}/admin/c/{KEY}/dashboard")
        page.locator("table.outcomes").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"dashboard-outcomes-{width}.png"))
        no_axe_violations(page)
        context.close()


def test_a_killed_worker_resumes_and_nobody_gets_two(app, client, demo, dbs, smtp, queue_url):
    """Done when, second point: the worker is killed in the middle of a 500-person send and
    started again: every person has exactly one message. The one it was handing over when it
    died is marked uncertain and not resent by itself; resending it knowingly completes the set."""
    app.config.update(mail_config(smtp, queue_url))
    _group, people = delegates(dbs, 500)
    login(client, demo.admin_username, demo.admin_password)
    send_id = send_now(client)
    # its own process group: RQ's scheduler runs in a child process, and a machine that dies takes both
    worker = subprocess.Popen([str(SURVEYAPP), "worker"], env=worker_env(app), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip

    def kill_at_200(received: int):
        if received == 200:
            os.killpg(worker.pid, signal.SIGKILL)  # while the 201st is being handed over
            worker.wait(10)
            return False  # and that one is not accepted

    smtp.hold = kill_at_200
    try:
        deadline = time.monotonic() + 120
        while worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.returncode == -signal.SIGKILL, worker.returncode
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
    smtp.hold = None
    assert len(smtp.messages) == 200
    out = run_worker(app)
    assert "Tiếp tục 1 lần gửi còn dở" in out, out

    received = [m["To"] for m in smtp.messages]
    assert len(received) == len(set(received)) == 499  # nobody twice
    dbs.expire_all()
    statuses = dict(dbs.execute(select(Message.status, func.count()).where(Message.send_id == send_id)
                                .group_by(Message.status)).all())  # fmt: skip
    assert statuses == {"sent": 499, "uncertain": 1}, statuses
    [uncertain] = dbs.scalars(select(Message).where(Message.send_id == send_id, Message.status == "uncertain"))
    assert "không rõ thư đã đi hay chưa" in uncertain.error
    assert not smtp.to(uncertain.recipient)

    page = client.get(f"/admin/c/{KEY}/gui/{send_id}").get_data(as_text=True)
    assert "có thể nhận hai lần" in page
    again = client.post(f"/admin/c/{KEY}/gui/{send_id}/gui-lai", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 302
    run_worker(app)
    received = sorted(m["To"] for m in smtp.messages)
    assert len(received) == len(set(received)) == 500
    assert {p.email for p in people} == {re.search(r"<(.+)>", to).group(1) for to in received}


def test_the_worker_running_twice_at_once_sends_each_message_once(app, client, demo, dbs, smtp, queue_url):
    """The claim is one conditional UPDATE: two workers on the same send never both take a message."""
    app.config.update(mail_config(smtp, queue_url))
    delegates(dbs, 60)
    login(client, demo.admin_username, demo.admin_password)
    send_now(client)
    env = worker_env(app)
    two = [subprocess.Popen([str(SURVEYAPP), "worker", "--burst"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT) for _ in range(2)]  # fmt: skip
    # both take the same job's work: the first is queued, the second finds unfinished work on start
    for w in two:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0, out.decode()[-2000:]
    received = [m["To"] for m in smtp.messages]
    assert len(received) == len(set(received)) == 60


def test_invitations_send_command_queues_and_prints_the_count(app, runner, demo, dbs, smtp, queue_url):
    app.config.update(mail_config(smtp, queue_url))
    delegates(dbs, 4, without_email=1)
    result = runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "email"])
    assert result.exit_code == 0, result.output
    assert "Đã xếp hàng 3 thư (Email)" in result.output
    assert not smtp.messages
    run_worker(app)
    assert len(smtp.messages) == 3
    again = runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "email"])
    assert "Đã xếp hàng 0 thư" in again.output  # an invitation is not sent twice by the command
    bad = runner.invoke(args=["invitations", "send", KEY, "citizen", "--channel", "email"])
    assert bad.exit_code != 0 and "không có nhóm mời cá nhân “citizen”" in bad.output
    sms = runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "sms"])
    assert sms.exit_code != 0 and "Chưa cấu hình gửi tin nhắn sms" in sms.output


def test_without_redis_the_command_sends_in_place(app, runner, demo, dbs, smtp):
    """A laptop has no Redis: the command sends itself, and the worker finishes what was left."""
    app.config.update(mail_config(smtp))
    delegates(dbs, 3)
    result = runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "email"])
    assert result.exit_code == 0 and "gửi ngay trong lệnh này" in result.output, result.output
    assert len(smtp.messages) == 3
    assert dbs.scalar(select(MessageSend.finished_at)) is not None


def test_a_person_who_answered_before_their_turn_is_skipped(app, client, demo, dbs, smtp, queue_url):
    app.config.update(mail_config(smtp, queue_url))
    _group, people = delegates(dbs, 3)
    login(client, demo.admin_username, demo.admin_password)
    send_id = send_now(client)
    people[1].used = True  # a non-anonymous way of having answered: the claim path is covered below
    dbs.commit()
    run_worker(app)
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        f"{p.full_name} <{p.email}>" for p in (people[0], people[2])
    )
    skipped = dbs.scalars(select(Message).where(Message.send_id == send_id, Message.status == "skipped")).one()
    assert skipped.invitation_id == people[1].id and "đã trả lời" in skipped.error


def test_opt_out_asks_on_get_and_records_on_post(client, demo, dbs):
    _group, [person] = delegates(dbs, 1)
    page = client.get(f"/i/{person.code}/tu-choi")
    assert page.status_code == 200 and "Không nhận thêm thư nhắc?" in page.get_data(as_text=True)
    dbs.refresh(person)
    assert not person.opted_out  # a mail scanner following the link changes nothing
    done = client.post(f"/i/{person.code}/tu-choi", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Đã ghi nhận" in done.get_data(as_text=True)
    assert "Set-Cookie" not in done.headers or "session=" not in done.headers["Set-Cookie"]
    dbs.refresh(person)
    assert person.opted_out
    assert client.post("/i/khong-co-ma-nay/tu-choi", data={"x": "1"}).status_code == 404


def _daytime(moment: datetime) -> datetime:
    """The first moment at or after ``moment`` inside reminder hours (08:00–20:00 Vietnam time)."""
    local = moment.astimezone(VIETNAM)
    if local.hour < 8:
        local = local.replace(hour=8, minute=30)
    elif local.hour >= 20:
        local = (local + timedelta(days=1)).replace(hour=8, minute=30)
    return local


def _answer(client, person, unit) -> None:
    html = client.get(f"/i/{person.code}").get_data(as_text=True)
    done = client.post(f"/i/{person.code}", data={**hidden_fields(html), **leader_answers([unit])})
    assert "Cảm ơn" in done.get_data(as_text=True)


def test_reminders_on_a_fake_clock_reach_only_those_who_have_not_answered(app, client, demo, dbs, smtp, queue_url):
    """Done when, third point: with the clock moved on, only people who have not answered get the
    day-3 and day-7 reminders; an answered or opted-out person gets none, and nobody gets a step twice."""
    from surveyapp.messaging import work

    app.config.update(mail_config(smtp, queue_url))
    group, people = delegates(dbs, 5)
    unit = group.rated_units[0]
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/g/hdnd/gui?loai=nhac").get_data(as_text=True)
    saved = client.post(f"/admin/c/{KEY}/g/hdnd/nhac-tu-dong",
                        data={"csrf_token": csrf_token(page), "after_days": "7, 3", "before_end": ""})  # fmt: skip
    assert "3 ngày sau lời mời; 7 ngày sau lời mời" in client.get(saved.headers["Location"]).get_data(as_text=True)
    send_now(client)
    run_worker(app)
    assert len(smtp.messages) == 5
    invited_at = max(dbs.scalars(select(Message.sent_at)))
    invited_at = invited_at if invited_at.tzinfo else invited_at.replace(tzinfo=UTC)
    public = app.test_client()
    _answer(public, people[0], unit)
    public.post(f"/i/{people[1].code}/tu-choi", data={"x": "1"})

    def remind_at(moment: datetime) -> list[str]:
        before = len(smtp.messages)
        with app.app_context():
            work.run_reminders(moment.isoformat())
        run_worker(app)
        return sorted(re.search(r"<(.+)>", m["To"]).group(1) for m in smtp.messages[before:])

    assert remind_at(_daytime(invited_at + timedelta(days=2))) == []  # not due yet
    day3 = _daytime(invited_at + timedelta(days=3))
    assert remind_at(day3) == [p.email for p in people[2:]]
    assert all(m["Subject"].startswith("Nhắc trả lời khảo sát") for m in smtp.messages[5:])
    assert remind_at(day3 + timedelta(hours=1)) == []  # that step went already
    _answer(public, people[2], unit)  # answers after the first reminder: no second one
    assert remind_at(_daytime(invited_at + timedelta(days=5))) == []
    assert remind_at(_daytime(invited_at + timedelta(days=7))) == [p.email for p in people[3:]]
    assert remind_at(_daytime(invited_at + timedelta(days=9))) == []
    night = (invited_at + timedelta(days=12)).astimezone(VIETNAM).replace(hour=23)
    with app.app_context():
        assert work.run_reminders(night.isoformat()) == []  # never at night
    received = [m["To"] for m in smtp.messages]
    assert sum(people[0].email in to for to in received) == 1  # the invitation only
    assert sum(people[1].email in to for to in received) == 1


@pytest.mark.browser
def test_the_send_pages_on_a_phone_and_a_desktop(browser, live_server, app, demo, dbs, smtp, queue_url):  # noqa: F811
    """What the office sees, in Chromium at 360 and 1366 px with axe-core: compose with its
    preview, the progress bar following the worker, the group's list; and the opt-out page."""
    from .test_every_page import _sign_in

    app.config.update(mail_config(smtp, queue_url))
    _group, people = delegates(dbs, 12, without_email=2)
    shots = ARTIFACTS / "messaging"
    shots.mkdir(parents=True, exist_ok=True)
    for width, height in ((360, 740), (1366, 900)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = _sign_in(context, live_server, demo.admin_username, demo.admin_password)
        page.goto(f"{live_server}/admin/c/{KEY}/g/hdnd/gui")
        page.screenshot(path=str(shots / f"compose-{width}.png"), full_page=True)
        no_axe_violations(page)
        page.locator('input[name="people"]').first.uncheck()
        page.check("#all")  # "choose all" ticks every person who can receive it
        assert page.locator('input[name="people"]:checked').count() == 10
        page.click("button[value=preview] >> nth=-1")
        page.wait_for_selector("#preview-title")
        assert page.inner_text("button[value=send]") == "Gửi 10 thư"
        page.screenshot(path=str(shots / f"preview-{width}.png"), full_page=True)
        no_axe_violations(page)
        if width == 360:
            page.goto(f"{live_server}/admin/c/{KEY}/g/hdnd/gui?loai=nhac")
            page.screenshot(path=str(shots / f"reminder-{width}.png"), full_page=True)
            no_axe_violations(page)
            context.close()
            continue
        page.click("button[value=send]")
        page.wait_for_selector("#send-progress")
        assert page.is_visible("text=Đang gửi: 0/10 thư")
        page.screenshot(path=str(shots / f"send-queued-{width}.png"), full_page=True)
        no_axe_violations(page)
        worker = subprocess.Popen([str(SURVEYAPP), "worker", "--burst"], env=worker_env(app),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        page.wait_for_selector("text=Đã gửi xong: 10/10 thư", timeout=60_000)  # the bar followed, then reloaded
        worker.wait(60)
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(shots / "send-done-360.png"), full_page=True)
        no_axe_violations(page)
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(shots / f"send-done-{width}.png"), full_page=True)
        for w in (360, 1366):
            page.set_viewport_size({"width": w, "height": 900})
            page.goto(f"{live_server}/admin/c/{KEY}/g/hdnd/")
            page.screenshot(path=str(shots / f"group-{w}.png"), full_page=True)
            no_axe_violations(page)
        context.close()
    for width in (360, 1366):
        context = browser.new_context(viewport={"width": width, "height": 740})
        page = context.new_page()
        page.goto(f"{live_server}/i/{people[3].code}/tu-choi")
        page.screenshot(path=str(shots / f"opt-out-{width}.png"), full_page=True)
        no_axe_violations(page)
        if width == 1366:
            page.click("button.send")
            page.wait_for_selector("text=Đã ghi nhận")
            no_axe_violations(page)
        context.close()
    dbs.refresh(people[3])
    assert people[3].opted_out


def test_counter_coverage_against_the_frame_on_the_dashboard_and_in_the_workbook(client, demo, dbs):
    """Part 5, counter groups: valid answers against the procedures of the period, the frame drawn
    from where there is one, else the unit's own figure; the dashboard's total and the workbook agree."""
    from surveyapp.campaigns.services import campaign_by_key
    from surveyapp.demo.fake import fill
    from surveyapp.models import FrameDraw, ResponseStatus

    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.5, seed=7)
    citizen = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()
    an_duc = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-02")).one()
    dbs.add(FrameDraw(campaign_id=campaign.id, group_id=citizen.id, unit_id=an_duc.id, method="simple", seed=1,
                      frame_sha256="0" * 64, frame_size=50, sample_size=5, reserve_size=0, selected_ids="[]",
                      reserve_ids="[]"))  # fmt: skip
    dbs.commit()
    valid = dict(dbs.execute(select(Unit.code, func.count(Response.id)).join(Unit, Response.unit_id == Unit.id)
                             .where(Response.group_id == citizen.id, Response.status == ResponseStatus.VALID)
                             .group_by(Unit.code)).all())  # fmt: skip
    frames = dict(dbs.execute(select(Unit.code, Unit.frame_size).where(Unit.code.in_(valid))).all())
    frames["HDG-NGG-02"] = 50
    assert len(valid) == 20 and all(frames.values())

    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/dashboard").get_data(as_text=True)
    total_valid, total_frame = sum(valid.values()), sum(frames.values())
    assert "Độ bao phủ tại quầy" in page
    share = f"{100 * total_valid / total_frame:.1f}".replace(".", ",")
    numbers = f"{total_valid:,} phiếu / {total_frame:,} giao dịch".replace(",", ".")
    assert f'{share}%</span><span class="muted">{numbers}' in page
    lowest = min(valid, key=lambda code: valid[code] / frames[code])
    first = re.search(r"độ bao phủ thấp nhất</summary>.*?<tbody>\s*<tr>(.*?)</tr>", page, re.S).group(1)
    name = dbs.scalars(select(Unit.name).where(Unit.code == lowest)).one()
    assert first.startswith(f"<td>{name}</td>") and first.endswith(
        f"{100 * valid[lowest] / frames[lowest]:.1f}%</td>".replace(".", ",")
    )

    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/results.xlsx").data), read_only=True)
    sheet = [r for r in book["Thu phiếu"].iter_rows(values_only=True) if r and r[0]]
    coverage_heads = ("Nhóm", "Mã đơn vị", "Đơn vị", "Giao dịch trong kỳ", "Phiếu hợp lệ", "Độ bao phủ")
    heads = next(i for i, r in enumerate(sheet) if r[:6] == coverage_heads)
    lines = {r[1]: r for r in sheet[heads + 1 :] if r[0] == citizen.name}
    assert {code: (r[3], r[4]) for code, r in lines.items()} == {code: (frames[code], valid[code]) for code in valid}
    assert lines["HDG-NGG-02"][5] == pytest.approx(valid["HDG-NGG-02"] / 50)
    assert "Thu phiếu" in [c for (c,) in book["Phương pháp"].iter_rows(values_only=True, max_col=1) if c][-1]


@pytest.fixture
def imap():
    """Dovecot (Debian's IMAP server) on loopback with one mailbox, the bounce address's."""
    import pwd
    import shutil
    import tempfile

    dovecot = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if dovecot is None:
        message = "dovecot is not installed (the bounce-mailbox tests' IMAP server): apt-get install dovecot-imapd"
        if STRICT_TOOLS:
            pytest.fail(message)
        pytest.skip(message)
    # not under pytest's tmp_path (mode 0700): the mail processes run as another user when we are root
    root = Path(tempfile.mkdtemp(prefix="surveyapp-dovecot-"))
    root.chmod(0o755)
    for sub in ("base", "state", "home"):
        (root / sub).mkdir(parents=True)
    # dovecot never runs mail processes as root: as root, the mailbox belongs to nobody
    uid, gid = (
        (os.getuid(), os.getgid()) if os.getuid() else (pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
    )
    os.chown(root / "home", uid, gid)
    port = free_port()
    user = pwd.getpwuid(os.getuid()).pw_name
    unprivileged = "" if os.getuid() == 0 else f"default_internal_user = {user}\ndefault_login_user = {user}\n"
    (root / "dovecot.conf").write_text(f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
log_path = {root}/log
{unprivileged}ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = static
  args = password=matkhau
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
    subprocess.run([dovecot, "-c", str(root / "dovecot.conf")], check=True, timeout=30)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, (root / "log").read_text()[-2000:]
            time.sleep(0.1)
    yield f"imap://tra-lai:matkhau@127.0.0.1:{port}/INBOX"
    subprocess.run([dovecot, "-c", str(root / "dovecot.conf"), "stop"], timeout=30)
    shutil.rmtree(root, ignore_errors=True)


def delivery_report(
    original,
    recipient: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one, returning ``original``."""
    subject = "Undelivered Mail Returned to Sender" if action == "failed" else "Delayed Mail (still being retried)"
    returned = "".join(f"{k}: {v}\r\n" for k, v in original.items() if k in ("From", "To", "Subject", "Message-ID"))
    text = f"""From: MAILER-DAEMON@mail.hdnd.example.vn (Mail Delivery System)
To: khaosat@noivu.example.vn
Subject: {subject}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"

--B0UND
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.hdnd.example.vn.
I'm sorry to have to inform you that your message could not be delivered.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.hdnd.example.vn
Arrival-Date: Wed,  2 Dec 2026 10:00:00 +0700

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.hdnd.example.vn
Diagnostic-Code: {diagnostic.format(rcpt=recipient)}

--B0UND
Content-Type: text/rfc822-headers

{returned}
--B0UND--
"""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def test_returned_mail_is_read_from_the_bounce_mailbox(app, runner, client, demo, dbs, smtp, queue_url, imap):
    """Part 4, bounces: delivery reports land in the bounce address's mailbox (a real IMAP server);
    the command and the worker's tick read them; only a report that names one of our messages and
    its recipient as failed for good marks that message bounced, with the server's reason. A delay
    report, someone else's mail and a report naming another address change nothing."""
    import imaplib

    from surveyapp import jobs

    app.config.update(mail_config(smtp, queue_url), BOUNCE_MAILBOX=imap)
    _group, people = delegates(dbs, 5)
    login(client, demo.admin_username, demo.admin_password)
    send_now(client)
    run_worker(app)
    mails = {p.email: smtp.to(p.email)[0] for p in people}
    unknown, delayed, other = people[0].email, people[1].email, people[2].email
    box = imaplib.IMAP4("127.0.0.1", int(re.search(r":(\d+)/", imap).group(1)))
    box.login("tra-lai", "matkhau")

    def deliver(raw: bytes) -> None:  # as the mail server delivers a report to the bounce address
        assert box.append("INBOX", None, None, raw)[0] == "OK"

    deliver(delivery_report(mails[unknown], unknown))
    deliver(
        delivery_report(
            mails[delayed],
            delayed,
            action="delayed",
            status="4.4.1",
            diagnostic="X-Postfix; connect to mx.hdnd.example.vn: timed out",
        ),
    )
    deliver(delivery_report(mails[other], "ai-do-khac@hdnd.example.vn"))
    deliver(b"From: ban@example.vn\r\nSubject: Cam on\r\n\r\nDa nhan thu moi.\r\n")

    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 0, result.output
    assert "Đã đọc 4 thư báo; 1 thư mời bị trả lại." in result.output, result.output
    dbs.expire_all()
    by_address = {m.recipient: m for m in dbs.scalars(select(Message))}
    assert by_address[unknown].status == "bounced"
    assert by_address[unknown].error == ("Thư bị máy chủ của người nhận trả lại: smtp; 550 5.1.1 "
                                         f"<{unknown}>: Recipient address rejected: User unknown")  # fmt: skip
    assert {a for a, m in by_address.items() if m.status != "sent"} == {unknown}
    again = runner.invoke(args=["invitations", "bounces"])
    assert "Đã đọc 0 thư báo; 0 thư mời bị trả lại." in again.output  # read reports are marked seen

    deliver(delivery_report(mails[people[3].email], people[3].email))  # later, by the tick
    box.logout()
    with app.app_context():
        jobs.enqueue("tick")
    run_worker(app)
    dbs.expire_all()
    assert dbs.scalars(select(Message.status).where(Message.recipient == people[3].email)).one() == "bounced"
    page = client.get(f"/admin/c/{KEY}/g/hdnd/").get_data(as_text=True)
    assert re.search(r'<option value="bounced"[^>]*>[^<(]+\(2\)</option>', page)
    token = new_token(dbs, "kiểm tra")
    dbs.commit()
    api = client.get(f"/api/campaigns/{KEY}/invitations", headers={"Authorization": f"Bearer {token}"}).get_json()
    [hdnd] = [g for g in api["groups"] if g["group_code"] == "hdnd"]
    assert hdnd["outcomes"]["bounced"] == 2 and hdnd["outcomes"]["sent"] == 3


def test_an_unreadable_bounce_mailbox_is_a_vietnamese_message(app, runner, demo, imap):
    app.config.update(BOUNCE_MAILBOX=imap.replace("matkhau", "sai-mat-khau"))
    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code != 0
    assert "Không đọc được hộp thư nhận thư trả lại (BOUNCE_MAILBOX)" in result.output, result.output
    app.config.update(BOUNCE_MAILBOX="pop3://may-chu/INBOX")
    assert "imaps://tên:mật-khẩu@máy-chủ/INBOX" in runner.invoke(args=["invitations", "bounces"]).output
