"""Who a send goes to, what each person receives, and where every message stands. Functions
flush; the request or command commits once, then queues the work (surveyapp/jobs.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from sampling.outcomes import Rates, coverage, rates

from .. import anonymity
from ..invitations.services import group_invitations, invitation_url
from ..models import (
    FrameDraw,
    GroupMode,
    Invitation,
    Message,
    MessageSend,
    MessageStatus,
    RespondentGroup,
    SendChannel,
    SendKind,
    Unit,
    User,
)
from .addresses import email_problem, mobile, phone_problem
from .channels import Outgoing
from .errors import Problem
from .returns import callback_signature
from .templates import Draft, render

#: what a message waiting or in flight blocks: the same person is not queued twice on a channel
LIVE = (MessageStatus.QUEUED, MessageStatus.SENDING)
#: an invitation already went (or may have) on this channel: not preselected for another invitation
REACHED = (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.QUEUED, MessageStatus.UNCERTAIN)

CHANNEL_NAMES = {SendChannel.EMAIL: "Email", SendChannel.SMS: "Tin nhắn SMS", SendChannel.ZALO: "Zalo"}
KIND_NAMES = {SendKind.INVITATION: "Lời mời", SendKind.REMINDER: "Nhắc trả lời"}
STATUS_NAMES = {
    MessageStatus.QUEUED: "Đang chờ gửi",
    MessageStatus.SENDING: "Đang gửi",
    MessageStatus.SENT: "Đã gửi",
    MessageStatus.FAILED: "Gửi không được",
    MessageStatus.UNCERTAIN: "Không rõ đã gửi chưa",
    MessageStatus.BOUNCED: "Bị trả lại",
    MessageStatus.SKIPPED: "Không gửi",
}

DEFAULTS: dict[tuple[str, str], Draft] = {
    (SendChannel.EMAIL, SendKind.INVITATION): Draft(
        "Mời tham gia khảo sát: {đợt khảo sát}",
        "Kính gửi Ông/Bà {họ tên},\n\n"
        "{cơ quan} trân trọng mời Ông/Bà trả lời phiếu khảo sát “{đợt khảo sát}”, đánh giá {đơn vị đánh giá}.\n\n"
        "Xin mở đường dẫn cá nhân dưới đây để trả lời. Đường dẫn chỉ dành riêng cho Ông/Bà, xin không chuyển cho "
        "người khác:\n{đường dẫn}\n\n"
        "Hạn trả lời: {hạn trả lời}. Phiếu có thể lưu tạm và trả lời tiếp sau.\n\n"
        "Trân trọng cảm ơn Ông/Bà.\n{cơ quan}",
    ),
    (SendChannel.EMAIL, SendKind.REMINDER): Draft(
        "Nhắc trả lời khảo sát: {đợt khảo sát}",
        "Kính gửi Ông/Bà {họ tên},\n\n"
        "{cơ quan} chưa nhận được phiếu khảo sát “{đợt khảo sát}” của Ông/Bà. Xin Ông/Bà dành ít phút trả lời "
        "trước ngày {hạn trả lời}:\n{đường dẫn}\n\n"
        "Nếu Ông/Bà đã trả lời, xin bỏ qua thư này.\n\nTrân trọng cảm ơn.\n{cơ quan}",
    ),
    (SendChannel.SMS, SendKind.INVITATION): Draft(
        "", "{cơ quan} kính mời Ông/Bà {họ tên} trả lời phiếu khảo sát trước ngày {hạn trả lời}: {đường dẫn}"
    ),
    (SendChannel.SMS, SendKind.REMINDER): Draft(
        "", "{cơ quan} nhắc Ông/Bà {họ tên}: xin trả lời phiếu khảo sát trước ngày {hạn trả lời}: {đường dẫn}"
    ),
}


def default_draft(channel: str, kind: str) -> Draft:
    if channel == SendChannel.ZALO:
        return Draft("", current_app.config["ZALO_TEMPLATE_DATA"])
    return DEFAULTS[(channel, kind)]


def last_draft(s: Session, group: RespondentGroup, channel: str, kind: str) -> Draft:
    """The template of the group's last send of this kind on this channel, else the default."""
    last = s.scalars(
        select(MessageSend)
        .where(MessageSend.group_id == group.id, MessageSend.channel == channel, MessageSend.kind == kind)
        .order_by(MessageSend.id.desc())
    ).first()
    return Draft(last.subject, last.body) if last and channel != SendChannel.ZALO else default_draft(channel, kind)


def address_of(invitation: Invitation, channel: str) -> tuple[str | None, str | None]:
    """(where the message goes, None) or (None, why it cannot go)."""
    if channel == SendChannel.EMAIL:
        problem = email_problem(invitation.email)
        return (None, problem) if problem else (invitation.email.strip(), None)
    problem = phone_problem(invitation.phone)
    return (None, problem) if problem else (mobile(invitation.phone), None)


def _rated(group: RespondentGroup, invitation: Invitation) -> str:
    units = [u.name for u in group.rated_units]
    if not units:
        return invitation.unit.name
    if len(units) <= 5:
        return ", ".join(units)
    return f"{len(units)} đơn vị ({', '.join(units[:3])} …)"


def values_for(group: RespondentGroup, invitation: Invitation) -> dict[str, str]:
    campaign = group.campaign
    return {
        "họ tên": invitation.full_name,
        "chức vụ": invitation.position,
        "đơn vị": invitation.unit.name,
        "đơn vị đánh giá": _rated(group, invitation),
        "đợt khảo sát": campaign.name,
        "cơ quan": campaign.issuer_text,
        "hạn trả lời": campaign.ends_on.strftime("%d/%m/%Y") if campaign.ends_on else "kết thúc đợt khảo sát",
        "đường dẫn": invitation_url(invitation.code),
        "mã mời": invitation.code,
    }


def unsubscribe_url(invitation: Invitation) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/i/{invitation.code}/tu-choi"


def outgoing(message: Message, send: MessageSend) -> Outgoing:
    invitation = message.invitation
    values = values_for(send.group, invitation)
    return Outgoing(
        key=f"khaosat.{send.id}.{message.id}",
        recipient=message.recipient,
        name=invitation.full_name,
        subject=render(send.subject, values),
        text=render(send.body, values),
        link=values["đường dẫn"],
        unsubscribe=unsubscribe_url(invitation),
        values=values,
        callback=f"{current_app.config['PUBLIC_BASE_URL']}/hook/esms/{message.id}/{callback_signature(message.id)}",
    )


@dataclass
class Candidate:
    invitation: Invitation
    address: str | None
    #: why this person cannot receive this message, or None
    problem: str | None
    #: ticked by default on the form, and who the command sends to
    chosen: bool


def candidates(s: Session, group: RespondentGroup, channel: str, kind: str) -> list[Candidate]:
    """Everyone on the group's list, with whether they can and should receive this message.

    Nobody who answered, asked for no more messages or had their link withdrawn is sent
    anything; an invitation is not preselected for a person one already reached on this channel.
    In an anonymous campaign "answered" comes from the claims (surveyapp/anonymity.py): it says
    that a person answered, never which answer is theirs.
    """
    invitations = group_invitations(s, group)
    reached = set(
        s.scalars(
            select(Message.invitation_id)
            .join(MessageSend, Message.send_id == MessageSend.id)
            .where(MessageSend.group_id == group.id, MessageSend.channel == channel,
                   MessageSend.kind == SendKind.INVITATION, Message.status.in_(REACHED))
        )
    )  # fmt: skip
    waiting = set(
        s.scalars(
            select(Message.invitation_id)
            .join(MessageSend, Message.send_id == MessageSend.id)
            .where(MessageSend.group_id == group.id, MessageSend.channel == channel, Message.status.in_(LIVE))
        )
    )
    result = []
    for invitation in invitations:
        address, problem = address_of(invitation, channel)
        if invitation.revoked:
            problem = "Đường dẫn đã bị thu hồi."
        elif invitation.answered:
            problem = "Đã trả lời."
        elif invitation.opted_out:
            problem = "Đã xin không nhận thêm thư."
        elif invitation.id in waiting:
            problem = "Đang có một thư chờ gửi trên kênh này."
        chosen = problem is None and (kind == SendKind.REMINDER or invitation.id not in reached)
        result.append(Candidate(invitation, address, problem, chosen))
    return result


def create_send(
    s: Session, group: RespondentGroup, channel: str, kind: str, draft: Draft, chosen_ids: set[int],
    user: User | None,
) -> MessageSend:  # fmt: skip
    """A send with one queued message per chosen person who can receive it (checked again)."""
    people = [c for c in candidates(s, group, channel, kind) if c.problem is None and c.invitation.id in chosen_ids]
    if not people:
        raise ValueError(Problem.NOBODY.text(why="không ai trong số được chọn còn nhận được thư trên kênh này."))
    send = MessageSend(group_id=group.id, channel=channel, kind=kind, subject=draft.subject, body=draft.body,
                       created_by_id=user.id if user else None)  # fmt: skip
    s.add(send)
    s.flush()
    s.add_all(
        Message(send_id=send.id, invitation_id=c.invitation.id, recipient=c.address, status=MessageStatus.QUEUED)
        for c in people
    )
    s.flush()
    return send


def counts(s: Session, send_id: int) -> Counter:
    return Counter(
        dict(
            s.execute(
                select(Message.status, func.count()).where(Message.send_id == send_id).group_by(Message.status)
            ).all()
        )
    )


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    sent: int
    failed: int
    uncertain: int
    skipped: int
    waiting: int
    finished: bool

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def progress(s: Session, send: MessageSend) -> Progress:
    c = counts(s, send.id)
    waiting = c[MessageStatus.QUEUED] + c[MessageStatus.SENDING]
    total = sum(c.values())
    return Progress(
        total=total, done=total - waiting, sent=c[MessageStatus.SENT] + c[MessageStatus.BOUNCED],
        failed=c[MessageStatus.FAILED] + c[MessageStatus.BOUNCED], uncertain=c[MessageStatus.UNCERTAIN],
        skipped=c[MessageStatus.SKIPPED], waiting=waiting, finished=waiting == 0,
    )  # fmt: skip


def latest_messages(s: Session, group: RespondentGroup) -> dict[int, Message]:
    """Each invitation's most recent message in this group, whatever its channel."""
    rows = s.scalars(
        select(Message)
        .join(MessageSend, Message.send_id == MessageSend.id)
        .where(MessageSend.group_id == group.id)
        .options(contains_eager(Message.send))
        .order_by(Message.id)
    )
    return {m.invitation_id: m for m in rows}


#: a person's place on the way from invitation to answer, furthest first (issue 18, part 4)
STAGES = {
    "completed": "Đã trả lời",
    "started": "Đang trả lời (có bản lưu tạm)",
    "opened": "Đã mở đường dẫn",
    "bounced": "Thư bị trả lại",
    "failed": "Gửi không được",
    "uncertain": "Không rõ đã gửi chưa",
    "sent": "Đã gửi",
    "queued": "Đang chờ gửi",
    "not_sent": "Chưa gửi",
    "opted_out": "Xin không nhận thư",
    "revoked": "Đã thu hồi",
}


@dataclass(frozen=True)
class Delivery:
    stage: str
    message: Message | None

    @property
    def text(self) -> str:
        return STAGES[self.stage]


def last_sent_words(delivery: Delivery) -> str:
    """ "email 02/12/2026 10:14": the channel and Vietnam time of the latest message that went."""
    from ..web import vn_datetime

    m = delivery.message
    if m is None or m.sent_at is None:
        return ""
    return f"{CHANNEL_NAMES[m.send.channel]} {vn_datetime(m.sent_at)}"


def deliveries(s: Session, group: RespondentGroup, invitations: list[Invitation]) -> dict[int, Delivery]:
    """Where each invited person stands: revoked, answered, started, opened, else the latest
    message's status; ``invitations`` must come from ``group_invitations`` (``answered`` set)."""
    latest = latest_messages(s, group)
    opened = anonymity.opened_ids(s, group, invitations)
    started = anonymity.started_ids(s, group, invitations)
    result = {}
    for i in invitations:
        message = latest.get(i.id)
        if i.revoked:
            stage = "revoked"
        elif i.answered:
            stage = "completed"
        elif i.id in started:
            stage = "started"
        elif i.id in opened:
            stage = "opened"
        elif message is None:
            stage = "opted_out" if i.opted_out else "not_sent"
        elif message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
            stage = "queued"
        elif message.status == MessageStatus.SKIPPED:
            stage = "opted_out" if i.opted_out else "not_sent"
        else:
            stage = str(message.status)
        result[i.id] = Delivery(stage, message)
    return result


def unfinished_sends(s: Session) -> list[int]:
    return list(s.scalars(select(MessageSend.id).where(MessageSend.finished_at.is_(None)).order_by(MessageSend.id)))


#: the outcome counts of an invited group, in the order the page, the API and the workbook give them
OUTCOMES = ("invited", "sent", "opened", "started", "completed", "failed", "bounced", "opted_out", "not_sent")


def outcomes(s: Session, group: RespondentGroup) -> dict[str, Counter]:
    """Per unit code (and ``"*"`` for the whole group), how many people reached each outcome.

    Cumulative where the way is one: a person who completed also opened; "sent" counts those who
    had a message accepted by the provider (not bounced since). ``failed``/``bounced`` are by the
    latest message; ``not_sent`` are people no message reached and who did not answer.
    Withdrawn links are not counted as invited.
    """
    invitations = [i for i in group_invitations(s, group) if not i.revoked]
    delivery = deliveries(s, group, invitations)
    reached = set(
        s.scalars(
            select(Message.invitation_id)
            .join(MessageSend, Message.send_id == MessageSend.id)
            .where(MessageSend.group_id == group.id, Message.status == MessageStatus.SENT)
        )
    )
    opened = anonymity.opened_ids(s, group, invitations)
    result: dict[str, Counter] = {"*": Counter({k: 0 for k in (*OUTCOMES, "contacted")})}
    for i in invitations:
        d = delivery[i.id]
        marks = {"invited"}
        if i.id in reached:
            marks.add("sent")
        if i.answered or d.stage == "started" or i.id in opened:
            marks.add("opened")
        if d.stage == "started":
            marks.add("started")
        if i.answered:
            marks.add("completed")
        if d.stage in ("failed", "uncertain"):
            marks.add("failed")
        if d.stage == "bounced":
            marks.add("bounced")
        if i.opted_out:
            marks.add("opted_out")
        if i.id not in reached and not i.answered:
            marks.add("not_sent")
        if "opened" in marks or i.opted_out:
            marks.add("contacted")
        for key in (i.unit.code, "*"):
            result.setdefault(key, Counter({k: 0 for k in (*OUTCOMES, "contacted")})).update(marks)
    return result


def rates_of(counts: Counter) -> Rates:
    """AAPOR's RR1, RR2 and COOP1 of one outcome count (sampling/outcomes.py)."""
    return rates(invited=counts["invited"], completed=counts["completed"], partial=counts["started"],
                 contacted=counts["contacted"])  # fmt: skip


@dataclass(frozen=True)
class OutcomeRow:
    group_name: str
    unit_code: str
    unit_name: str
    counts: Counter
    rates: Rates
    #: the whole group (all its units)
    total: bool


def outcome_rows(s: Session, campaign, only_unit_id: int | None = None) -> list[OutcomeRow]:
    """Per invited group: its total, then each unit with invited people (a unit officer sees
    only their unit's line)."""
    rows = []
    for group in campaign.groups:
        if group.mode != GroupMode.INVITATION:
            continue
        found = outcomes(s, group)
        if not found["*"]["invited"]:
            continue  # a group nobody was invited to yet says nothing
        codes = [k for k in found if k != "*"]
        units = {u.code: u for u in s.scalars(select(Unit).where(Unit.code.in_(codes)))} if codes else {}
        if only_unit_id is None:
            rows.append(OutcomeRow(group.name, "", "Cả nhóm", found["*"], rates_of(found["*"]), True))
        for code in sorted(codes):
            if only_unit_id is None or units[code].id == only_unit_id:
                rows.append(OutcomeRow(group.name, code, units[code].name, found[code], rates_of(found[code]), False))
    return rows


@dataclass(frozen=True)
class CoverageRow:
    group_name: str
    unit_code: str
    unit_name: str
    valid: int
    #: procedures in the period: the last frame drawn from for this unit and group, else the unit's
    frame: int | None
    share: float | None


def coverage_rows(s: Session, campaign, cell_rows: list) -> list[CoverageRow]:
    """Counter groups: valid answers against the procedures of the period, per unit, for the
    quota cells given (``campaigns.services.cells``, as the dashboard has them)."""
    counter = {g.code for g in campaign.groups if g.mode == GroupMode.COUNTER}
    if not counter:
        return []
    drawn = dict(
        ((group_id, unit_id), size)
        for group_id, unit_id, size in s.execute(
            select(FrameDraw.group_id, FrameDraw.unit_id, FrameDraw.frame_size)
            .where(FrameDraw.campaign_id == campaign.id)
            .order_by(FrameDraw.id)
        )
    )
    groups = {g.code: g for g in campaign.groups}
    counter_cells = [c for c in cell_rows if c.group_code in counter]
    units = dict(
        (code, (unit_id, size))
        for code, unit_id, size in s.execute(select(Unit.code, Unit.id, Unit.frame_size)
                                             .where(Unit.code.in_({c.unit_code for c in counter_cells} or {""})))
    )  # fmt: skip
    rows = []
    for c in counter_cells:
        unit_id, own = units[c.unit_code]
        frame = drawn.get((groups[c.group_code].id, unit_id), own)
        rows.append(CoverageRow(c.group_name, c.unit_code, c.unit_name, c.valid, frame, coverage(c.valid, frame)))
    return rows


OUTCOME_HEADINGS = ["Nhóm", "Đơn vị", "Được mời", "Đã nhận thư", "Đã mở", "Đang trả lời", "Đã trả lời",
                    "Xin thôi nhận", "Không gửi được", "RR1", "RR2", "Tỷ lệ hợp tác (COOP1)"]  # fmt: skip
COVERAGE_HEADINGS = ["Nhóm", "Mã đơn vị", "Đơn vị", "Giao dịch trong kỳ", "Phiếu hợp lệ", "Độ bao phủ"]


def outcome_sheet_rows(rows: list[OutcomeRow]) -> list[list]:
    """The method sheet's lines: numbers as numbers, rates as shares (None where undefined)."""
    return [[r.group_name, r.unit_name, r.counts["invited"], r.counts["sent"], r.counts["opened"], r.counts["started"],
             r.counts["completed"], r.counts["opted_out"], r.counts["failed"] + r.counts["bounced"], r.rates.rr1,
             r.rates.rr2, r.rates.coop1] for r in rows]  # fmt: skip


def fieldwork_tables(s: Session, campaign) -> tuple[list[str], list[list], list[str], list[list]]:
    """The workbook's "Thu phiếu" sheet: outcome rows of invited groups, coverage of counter ones."""
    from ..campaigns.services import cells

    covered = coverage_rows(s, campaign, cells(s, campaign))
    coverage_lines = [[c.group_name, c.unit_code, c.unit_name, c.frame, c.valid, c.share] for c in covered]
    return OUTCOME_HEADINGS, outcome_sheet_rows(outcome_rows(s, campaign)), COVERAGE_HEADINGS, coverage_lines
