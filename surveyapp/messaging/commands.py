"""``surveyapp worker`` and ``surveyapp invitations send``: module-level commands the factory
registers (as flaskr does), not part of cli.py's closure."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import jobs
from ..audit import record
from ..campaigns.services import campaign_by_key
from ..db import session
from ..models import GroupMode, SendChannel, SendKind
from .channels import configured
from .services import CHANNEL_NAMES, candidates, create_send, last_draft, unfinished_sends
from .templates import check


@click.command("worker", help="Tiến trình nền: gửi lời mời và thư nhắc từ hàng đợi (RQ trên Redis, REDIS_URL).")
@click.option("--burst", is_flag=True, help="Làm hết việc đang có trong hàng đợi rồi thoát.")
@with_appcontext
def worker_command(burst: bool) -> None:
    from . import work

    app = current_app._get_current_object()
    jobs.set_worker_app(app)
    url = app.config["REDIS_URL"]
    if not url:
        # a laptop: no queue; the unsent and the reminders due are worked here, once (--burst) or every minute
        while True:
            with app.app_context():
                work.settle_stopped()
                sends = unfinished_sends(session())
            for send_id in sends:
                with app.app_context():
                    work.run_send(send_id)
            with app.app_context():
                reminded = work.run_reminders()
            for send_id in reminded:
                with app.app_context():
                    work.run_send(send_id)
            if burst:
                click.echo(f"Chưa đặt REDIS_URL: đã làm xong {len(sends) + len(reminded)} lần gửi ngay trong lệnh này.")
                return
            time.sleep(60)
    from rq import SimpleWorker

    with app.app_context():
        resumed = work.resume()
        reminded = work.run_reminders()
    if resumed:
        click.echo(f"Tiếp tục {resumed} lần gửi còn dở.")
    if reminded:
        click.echo(f"Đã xếp hàng {len(reminded)} lần gửi thư nhắc đến hạn.")
    if not burst:
        jobs.ensure_tick(app.config)
    connection = jobs.redis_connection(url)
    worker = SimpleWorker([jobs.queue(app.config)], connection=connection)
    worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")


@click.group("invitations", help="Lời mời cá nhân: gửi lời mời và thư nhắc.")
def invitations_group() -> None:
    pass


@invitations_group.command("send", help="Xếp hàng gửi lời mời (hoặc thư nhắc) cho một nhóm; in số thư đã xếp hàng.")
@click.argument("campaign")
@click.argument("group")
@click.option("--channel", type=click.Choice([c.value for c in SendChannel]), required=True)
@click.option("--remind", is_flag=True, help="Thư nhắc, chỉ gửi người chưa trả lời.")
@with_appcontext
def send_command(campaign: str, group: str, channel: str, remind: bool) -> None:
    s = session()
    found = campaign_by_key(s, campaign)
    if found is None:
        raise click.ClickException(f"Không có đợt khảo sát “{campaign}”. Xem danh sách bằng: surveyapp campaigns")
    target = next((g for g in found.groups if g.code == group), None)
    if target is None or target.mode != GroupMode.INVITATION:
        names = ", ".join(g.code for g in found.groups if g.mode == GroupMode.INVITATION) or "không có"
        raise click.ClickException(f"Đợt “{campaign}” không có nhóm mời cá nhân “{group}” (các nhóm mời: {names}).")
    if not configured(current_app.config)[channel]:
        from .channels import HOW

        raise click.ClickException(f"Chưa cấu hình gửi {CHANNEL_NAMES[channel].lower()}: {HOW[channel]}")
    kind = SendKind.REMINDER if remind else SendKind.INVITATION
    draft = last_draft(s, target, channel, kind)
    if channel != SendChannel.ZALO:
        problems = check(draft, needs_subject=channel == SendChannel.EMAIL)
        if problems:
            raise click.ClickException("Mẫu thư có lỗi: " + " ".join(problems))
    chosen = {c.invitation.id for c in candidates(s, target, channel, kind) if c.chosen}
    if not chosen:
        click.echo("Đã xếp hàng 0 thư: không còn ai cần gửi trên kênh này.")
        return
    send = create_send(s, target, channel, kind, draft, chosen, None)
    record(s, "messages.queued", f"group:{found.key}/{target.code}", channel=channel, kind=kind, people=len(chosen))
    s.commit()
    if current_app.config["REDIS_URL"]:
        jobs.enqueue("send", send.id)
        click.echo(f"Đã xếp hàng {len(chosen)} thư ({CHANNEL_NAMES[channel]}), lần gửi số {send.id}; "
                   "tiến trình nền (surveyapp worker) sẽ gửi.")  # fmt: skip
    else:
        from . import work

        click.echo(f"Đã xếp hàng {len(chosen)} thư ({CHANNEL_NAMES[channel]}), lần gửi số {send.id}; "
                   "chưa có REDIS_URL nên gửi ngay trong lệnh này…")  # fmt: skip
        work.run_send(send.id)
        click.echo("Xong.")


@invitations_group.command("bounces", help="Đọc thư bị trả lại trong hộp thư BOUNCE_MAILBOX; in số thư bị trả lại.")
@with_appcontext
def bounces_command() -> None:
    from .returns import read_bounces

    if not current_app.config["BOUNCE_MAILBOX"]:
        raise click.ClickException("Chưa cấu hình BOUNCE_MAILBOX (hộp thư của địa chỉ nhận thư trả lại), ví dụ "
                                   "imaps://khaosat%40noivu.example.vn:mat-khau@mail.example.vn/INBOX")  # fmt: skip
    try:
        read, marked = read_bounces(session())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã đọc {read} thư báo; {marked} thư mời bị trả lại.")
