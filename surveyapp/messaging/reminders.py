"""Reminders that chase by themselves (issue 18, part 3): per invited group, a number of days after
each person's invitation went out ("3,7") and a number of days before the campaign ends.

Only people who have not answered, did not ask for no more messages and whose link stands are
reminded, each step at most once, at most one reminder a day, between 08:00 and 20:00 Vietnam
time, on the channel their invitation reached them. "Answered" in an anonymous campaign is the
claim (surveyapp/anonymity.py): it tells that a person answered, never which answer is theirs.
Functions flush; the job (work.py) commits and queues the sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..invitations.services import group_invitations
from ..models import (
    Campaign,
    CampaignStatus,
    GroupMode,
    Message,
    MessageSend,
    MessageStatus,
    RespondentGroup,
    SendKind,
)
from ..web import VIETNAM
from .services import create_send, last_draft

#: reminders go out in the day, Vietnam time, never at night
HOURS = (8, 20)
MAX_STEPS = 5


class ScheduleError(ValueError):
    pass


def parse_days(text: str) -> list[int]:
    """``"3, 7"`` → ``[3, 7]``; Vietnamese messages for anything else."""
    days = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 60:
            raise ScheduleError(f"“{part}” không phải số ngày từ 1 đến 60.")
        days.append(int(part))
    if len(days) > MAX_STEPS:
        raise ScheduleError(f"Tối đa {MAX_STEPS} lần nhắc sau lời mời.")
    return sorted(set(days))


def describe(group: RespondentGroup) -> str:
    parts = [f"{d} ngày sau lời mời" for d in parse_days(group.reminder_after_days or "")]
    if group.reminder_before_end_days:
        parts.append(f"{group.reminder_before_end_days} ngày trước khi kết thúc đợt")
    return "; ".join(parts) if parts else "không nhắc tự động"


@dataclass(frozen=True)
class Due:
    group: RespondentGroup
    step: str
    channel: str
    invitation_ids: frozenset[int]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def due(s: Session, now: datetime) -> list[Due]:
    """The reminders due at ``now`` in every open campaign, grouped by group, step and channel."""
    local = now.astimezone(VIETNAM)
    if not HOURS[0] <= local.hour < HOURS[1]:
        return []
    groups = s.scalars(
        select(RespondentGroup)
        .join(Campaign, RespondentGroup.campaign_id == Campaign.id)
        .where(Campaign.status == CampaignStatus.OPEN, RespondentGroup.mode == GroupMode.INVITATION,
               (RespondentGroup.reminder_after_days != "") | RespondentGroup.reminder_before_end_days.is_not(None))
        .order_by(RespondentGroup.id)
    )  # fmt: skip
    found = []
    for group in groups:
        found += _due_in(s, group, now)
    return found


def _due_in(s: Session, group: RespondentGroup, now: datetime) -> list[Due]:
    rows = s.execute(
        select(Message.invitation_id, Message.sent_at, Message.status, MessageSend.channel, MessageSend.kind,
               MessageSend.step, MessageSend.created_at)
        .join(MessageSend, Message.send_id == MessageSend.id)
        .where(MessageSend.group_id == group.id)
        .order_by(Message.id)
    ).all()  # fmt: skip
    invited: dict[int, tuple[datetime, str]] = {}  # first invitation that went: when, and its channel
    stepped: set[tuple[int, str]] = set()
    last_reminder: dict[int, datetime] = {}
    for invitation_id, sent_at, status, channel, kind, step, created_at in rows:
        if kind == SendKind.INVITATION and status == MessageStatus.SENT and invitation_id not in invited:
            invited[invitation_id] = (_aware(sent_at), channel)
        if kind == SendKind.REMINDER and status != MessageStatus.FAILED:
            if step:
                stepped.add((invitation_id, step))
            moment = _aware(sent_at or created_at)
            last_reminder[invitation_id] = max(moment, last_reminder.get(invitation_id, moment))
    steps = [(f"after-{d}", timedelta(days=d)) for d in parse_days(group.reminder_after_days or "")]
    ends = group.campaign.ends_on
    before = group.reminder_before_end_days
    by_key: dict[tuple[str, str], set[int]] = {}
    for invitation in group_invitations(s, group):
        if invitation.answered or invitation.opted_out or invitation.revoked or invitation.id not in invited:
            continue
        first, channel = invited[invitation.id]
        recent = last_reminder.get(invitation.id)
        if recent is not None and now - recent < timedelta(hours=20):
            continue  # at most one reminder a day
        chosen = None
        for step, after in steps:  # the latest step that is due and not yet sent
            if now >= first + after and (invitation.id, step) not in stepped:
                chosen = step
        if before and ends and (invitation.id, f"before-{before}") not in stepped and now - first >= timedelta(days=1):
            start = datetime.combine(ends - timedelta(days=before), time(HOURS[0]), VIETNAM)
            if now >= start and now.astimezone(VIETNAM).date() <= ends:
                chosen = f"before-{before}"
        if chosen:
            by_key.setdefault((chosen, channel), set()).add(invitation.id)
    return [Due(group, step, channel, frozenset(ids)) for (step, channel), ids in sorted(by_key.items())]


def queue_due(s: Session, now: datetime) -> list[MessageSend]:
    """A reminder send for each due (group, step, channel), flushed; the caller commits and queues them."""
    sends = []
    for item in due(s, now):
        draft = last_draft(s, item.group, item.channel, SendKind.REMINDER)
        try:
            send = create_send(s, item.group, item.channel, SendKind.REMINDER, draft, set(item.invitation_ids), None)
        except ValueError:
            continue  # nobody left who can receive it (e.g. their address was removed)
        send.step = item.step
        sends.append(send)
    s.flush()
    return sends
