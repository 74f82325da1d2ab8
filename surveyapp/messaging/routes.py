from __future__ import annotations

import json

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import csrf, jobs
from ..audit import record
from ..auth import current_user, staff_required
from ..collect.services import resolve_invitation
from ..db import session
from ..lookups import campaign_or_404, group_or_404
from ..models import GroupMode, Invitation, Message, MessageSend, MessageStatus, SendChannel, SendKind
from ..web import fail
from . import bp
from .channels import HOW, NAMES, configured
from .forms import ComposeForm
from .reminders import ScheduleError, describe, parse_days
from .returns import esms_report, zalo_event, zalo_signature_ok
from .services import (
    CHANNEL_NAMES,
    KIND_NAMES,
    STATUS_NAMES,
    candidates,
    create_send,
    last_draft,
    progress,
    values_for,
)
from .templates import PLACEHOLDERS, Draft, check, render


def _invitation_group(key: str, group_code: str):
    campaign, group = group_or_404(session(), key, group_code)
    if group.mode != GroupMode.INVITATION:
        abort(404)
    return campaign, group


@bp.route("/admin/c/<key>/g/<group_code>/gui", methods=["GET", "POST"])
@staff_required()
def compose(key: str, group_code: str):
    """Write the message, choose who gets it, see each person's message, then queue it."""
    campaign, group = _invitation_group(key, group_code)
    s = session()
    form = ComposeForm()
    if request.method == "GET":
        form.channel.data = request.args.get("kenh") if request.args.get("kenh") in set(SendChannel) else "email"
        form.kind.data = SendKind.REMINDER if request.args.get("loai") == "nhac" else SendKind.INVITATION
        draft = last_draft(s, group, form.channel.data, form.kind.data)
        form.subject.data, form.body.data = draft.subject, draft.body
    elif request.form.get("intent") == "switch":  # the channel or kind was changed: load its template
        form.intent.data = "preview"
        draft = last_draft(s, group, form.channel.data, form.kind.data) if form.channel.data in set(SendChannel) \
            and form.kind.data in set(SendKind) else Draft("", "")  # fmt: skip
        form.subject.data, form.body.data = draft.subject, draft.body
        form.people.data = None
    channel = form.channel.data if form.channel.data in set(SendChannel) else "email"
    kind = form.kind.data if form.kind.data in set(SendKind) else SendKind.INVITATION
    people = candidates(s, group, channel, kind)
    can_send = configured(current_app.config)
    problems, preview, chosen = [], None, None
    if request.method == "POST" and request.form.get("intent") != "switch":
        valid = form.validate()
        problems = form.errors_list()
        draft = Draft(form.subject.data or "", form.body.data or "")
        if channel != SendChannel.ZALO:
            problems += check(draft, needs_subject=channel == SendChannel.EMAIL, body_limit=5000)
        if not can_send[channel]:
            problems.append(f"Chưa cấu hình gửi {NAMES[channel]}: {HOW[channel]}")
        chosen = set(form.people.data or [])
        sendable = [p for p in people if p.problem is None and p.invitation.id in chosen]
        if valid and not sendable and not problems:
            problems.append("Không ai trong số được chọn còn nhận được thư trên kênh này.")
        if not problems and form.intent.data == "send":
            send = create_send(s, group, channel, kind, draft, chosen, current_user())
            record(s, "messages.queued", f"group:{campaign.key}/{group.code}", channel=channel, kind=kind,
                   people=len(sendable))  # fmt: skip
            s.commit()
            jobs.enqueue("send", send.id)
            flash(f"Đã xếp hàng {len(sendable)} thư; phần mềm đang gửi, trang này cho biết tiến độ.")
            return redirect(url_for("messaging.send_page", key=campaign.key, send_id=send.id))
        if not problems:
            by_id = {p.invitation.id: p for p in sendable}
            pick = form.preview.data
            person = by_id.get(int(pick)) if pick and pick.isascii() and pick.isdigit() else None
            person = person or sendable[0]
            values = values_for(group, person.invitation)
            preview = {
                "person": person,
                "subject": render(draft.subject, values) if channel == SendChannel.EMAIL else "",
                "text": render(draft.body, values) if channel != SendChannel.ZALO else "",
                "fields": _zalo_fields(values) if channel == SendChannel.ZALO else {},
                "count": len(sendable),
                "sendable": sendable,
            }
    if chosen is None:
        chosen = {p.invitation.id for p in people if p.chosen}
    sends = list(s.scalars(select(MessageSend).where(MessageSend.group_id == group.id).order_by(MessageSend.id.desc())))
    return render_template(
        "messaging/compose.html", campaign=campaign, group=group, form=form, channel=channel, kind=kind,
        people=people, chosen=chosen, problems=problems, preview=preview, can_send=can_send, how=HOW,
        channel_names=CHANNEL_NAMES, kind_names=KIND_NAMES, placeholders=PLACEHOLDERS, sends=sends,
        no_deadline=campaign.ends_on is None, schedule=describe(group), user=current_user(),
    )  # fmt: skip


@bp.route("/admin/c/<key>/g/<group_code>/nhac-tu-dong", methods=["POST"])
@staff_required()
def reminder_schedule(key: str, group_code: str):
    campaign, group = _invitation_group(key, group_code)
    back = url_for("messaging.compose", key=campaign.key, group_code=group.code, loai="nhac")
    after_text = (request.form.get("after_days") or "").strip()[:40]
    before_text = (request.form.get("before_end") or "").strip()
    try:
        after = parse_days(after_text)
        before = parse_days(before_text)
        if len(before) > 1:
            raise ScheduleError("Chỉ ghi một số ngày trước khi kết thúc đợt.")
    except ScheduleError as exc:
        flash(f"Chưa lưu lịch nhắc: {exc}", "error")
        return redirect(back)
    if before and campaign.ends_on is None:
        flash("Chưa lưu lịch nhắc: đợt khảo sát chưa có ngày kết thúc (đặt ở trang Thiết lập).", "error")
        return redirect(back)
    before_value = before[0] if before else None
    group.reminder_after_days = ",".join(map(str, after))
    group.reminder_before_end_days = before_value
    record(session(), "group.reminders_changed", f"group:{campaign.key}/{group.code}", after=describe(group))
    session().commit()
    flash(f"Đã lưu lịch nhắc tự động: {describe(group)}.")
    return redirect(back)


def _zalo_fields(values: dict) -> dict[str, str]:
    from .channels import zalo_fields

    return {
        name: render(value, values) for name, value in zalo_fields(current_app.config["ZALO_TEMPLATE_DATA"]).items()
    }


#: people listed per page of a send (a province's send can be 10,000 people)
PAGE_ROWS = 200


def _send(key: str, send_id: int) -> tuple:
    campaign = campaign_or_404(session(), key)
    send = session().get(MessageSend, send_id)
    if send is None or send.group.campaign_id != campaign.id:
        abort(404)
    return campaign, send


@bp.route("/admin/c/<key>/gui/<int(max=2147483647):send_id>")
@staff_required()
def send_page(key: str, send_id: int):
    campaign, send = _send(key, send_id)
    s = session()
    shown = request.args.get("tinh-trang")
    query = select(Message).where(Message.send_id == send.id)
    if shown in set(MessageStatus):
        query = query.where(Message.status == shown)
    matching = s.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-matching // PAGE_ROWS))
    page = request.args.get("trang", "1")
    page = min(int(page), pages) if page.isascii() and page.isdigit() and int(page) >= 1 else 1
    messages = list(s.scalars(query.options(selectinload(Message.invitation).selectinload(Invitation.unit))
                              .order_by(Message.id).offset((page - 1) * PAGE_ROWS).limit(PAGE_ROWS)))  # fmt: skip
    return render_template(
        "messaging/send.html", campaign=campaign, send=send, group=send.group, messages=messages,
        progress=progress(s, send), status_names=STATUS_NAMES, channel_names=CHANNEL_NAMES, kind_names=KIND_NAMES,
        shown=shown if shown in set(MessageStatus) else "", user=current_user(), page=page, pages=pages,
        matching=matching, first=(page - 1) * PAGE_ROWS + 1,
        page_url=lambda n: url_for("messaging.send_page", key=campaign.key, send_id=send.id, trang=n,
                                   **({"tinh-trang": shown} if shown in set(MessageStatus) else {})),
    )  # fmt: skip


@bp.route("/admin/c/<key>/gui/<int(max=2147483647):send_id>/tien-do")
@staff_required()
def send_progress(key: str, send_id: int):
    """What the progress bar polls: a few numbers, no names."""
    _campaign, send = _send(key, send_id)
    p = progress(session(), send)
    response = jsonify(total=p.total, done=p.done, sent=p.sent, failed=p.failed, uncertain=p.uncertain,
                       skipped=p.skipped, waiting=p.waiting, finished=p.finished, percent=p.percent)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/c/<key>/gui/<int(max=2147483647):send_id>/gui-lai", methods=["POST"])
@staff_required()
def resend(key: str, send_id: int):
    """A new send, same words, to the people of this one whose message failed or may not have
    gone (uncertain: the officer chooses knowingly; the page says they may receive it twice)."""
    campaign, send = _send(key, send_id)
    s = session()
    ids = set(
        s.scalars(
            select(Message.invitation_id).where(
                Message.send_id == send.id, Message.status.in_((MessageStatus.FAILED, MessageStatus.UNCERTAIN))
            )
        )
    )
    try:
        again = create_send(s, send.group, send.channel, send.kind, Draft(send.subject, send.body), ids,
                            current_user())  # fmt: skip
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("messaging.send_page", key=campaign.key, send_id=send.id))
    count = s.scalar(select(func.count()).where(Message.send_id == again.id))
    record(s, "messages.queued", f"group:{campaign.key}/{send.group.code}", channel=send.channel, kind=send.kind,
           people=count, resend_of=send.id)  # fmt: skip
    s.commit()
    jobs.enqueue("send", again.id)
    flash(f"Đã xếp hàng gửi lại {count} thư.")
    return redirect(url_for("messaging.send_page", key=campaign.key, send_id=again.id))


@bp.route("/i/<code>/tu-choi", methods=["GET", "POST"])
def opt_out(code: str):
    """The link at the foot of every e-mail (and its List-Unsubscribe header): no more reminders.
    A GET only asks (mail scanners follow links); the POST, or a mail program's one-click POST
    (RFC 8058), records it."""
    s = session()
    ctx = resolve_invitation(s, code)
    if ctx is None:
        fail("invitation_unknown", 404)
    done = ctx.invitation.opted_out
    if request.method == "POST" and not done:
        ctx.invitation.opted_out = True
        s.commit()
        done = True
    return render_template("messaging/opt_out.html", campaign=ctx.campaign, done=done, code=code)


csrf.exempt(opt_out)  # a bearer link: the unguessable code is the proof; mail programs post without a form


@bp.route("/hook/esms/<int(max=2147483647):message_id>/<signature>")
def esms_hook(message_id: int, signature: str):
    """eSMS's delivery report (an HTTP GET to the CallbackUrl each message carried); the address is
    signed per message, so nobody else can mark a message undelivered."""
    s = session()
    found = esms_report(s, message_id, signature, request.args)
    if found is None:
        abort(403)
    s.commit()
    return jsonify(ok=True)


@bp.route("/hook/zalo", methods=["POST"])
def zalo_hook():
    """Zalo's webhook (the Official Account's events), signed by Zalo with the OA's secret key."""
    body = request.get_data(cache=True)
    try:
        payload = json.loads(body)
    except ValueError:
        abort(400)
    if not isinstance(payload, dict) or not zalo_signature_ok(
        body, payload, request.headers.get("X-ZEvent-Signature", "")
    ):
        abort(403)
    s = session()
    zalo_event(s, payload)
    s.commit()
    return jsonify(ok=True)


csrf.exempt(zalo_hook)  # Zalo posts without a form of ours: its signature is the proof
