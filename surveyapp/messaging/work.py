"""The job that sends a send's messages. Each message goes out at most once:

1. a worker *claims* a queued message with one conditional UPDATE (queued → sending, with its
   host:pid and the time) and commits before it talks to the provider; two workers, or the same
   job queued twice, cannot both claim it;
2. it hands the message over, then commits sent (with the provider's id) or the failure;
3. a message left in "sending" by a worker that is gone (its pid is dead on this host, or the
   claim is older than ``MESSAGE_CLAIM_TIMEOUT``) is marked *uncertain*: it may or may not have
   gone, and it is never resent by itself. An officer can resend it knowingly.

Temporary failures (a server that does not answer, an SMTP 4xx, a provider's 5xx) go back to the
queue with ``next_try_at`` after each of ``MESSAGE_RETRY_DELAYS``; then the message is failed.
Each channel is paced by ``MESSAGE_RATE_<CHANNEL>``, counted in the rate-limit store, so several
workers together keep to it. A person who answered or opted out before their turn is skipped.

This module is a job, like a command: it commits (once per state change, which is the point).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select, update

from .. import anonymity, jobs
from ..db import session
from ..models import Invitation, Message, MessageSend, MessageStatus, SendKind, utcnow
from .channels import NotConfigured, SendFailed, open_channel
from .errors import Problem
from .services import outgoing

log = logging.getLogger(__name__)
#: the longest a job waits in place for a retry that is nearly due; later ones are queued again
WAIT_IN_PLACE = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(claimed_by: str | None) -> bool:
    host, _, pid = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: only the timeout can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def settle_stopped(send_id: int | None = None) -> int:
    """Mark as uncertain the messages whose worker stopped while handing them over."""
    s = session()
    limit = utcnow() - timedelta(seconds=current_app.config["MESSAGE_CLAIM_TIMEOUT"])
    query = select(Message).where(Message.status == MessageStatus.SENDING)
    if send_id is not None:
        query = query.where(Message.send_id == send_id)
    stale = [m for m in s.scalars(query) if not _alive(m.claimed_by) or _aware(m.claimed_at) < limit]
    for message in stale:
        s.execute(
            update(Message)
            .where(Message.id == message.id, Message.status == MessageStatus.SENDING,
                   Message.claimed_by == message.claimed_by)
            .values(status=MessageStatus.UNCERTAIN, error=Problem.STOPPED_MIDWAY.text())
        )  # fmt: skip
    s.commit()
    return len(stale)


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _claim(send_id: int, me: str) -> Message | None:
    s = session()
    now = utcnow()
    while True:
        candidate = s.scalar(
            select(Message.id)
            .where(Message.send_id == send_id, Message.status == MessageStatus.QUEUED,
                   (Message.next_try_at.is_(None)) | (Message.next_try_at <= now))
            .order_by(Message.id)
            .limit(1)
        )  # fmt: skip
        if candidate is None:
            s.commit()
            return None
        taken = s.execute(
            update(Message)
            .where(Message.id == candidate, Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENDING, claimed_by=me, claimed_at=now, attempts=Message.attempts + 1)
        ).rowcount
        s.commit()
        if taken:
            return s.get(Message, candidate, populate_existing=True)


def _finish(message: Message, **values) -> None:
    s = session()
    s.execute(update(Message).where(Message.id == message.id, Message.status == MessageStatus.SENDING).values(**values))
    s.commit()


class Pace:
    """At most ``MESSAGE_RATE_<CHANNEL>`` messages, counted where the rate limits are counted."""

    def __init__(self, channel: str):
        config = current_app.config
        self.item = parse(config[f"MESSAGE_RATE_{channel.upper()}"])
        self.limiter = MovingWindowRateLimiter(storage_from_string(config["RATELIMIT_STORAGE_URI"]))
        self.key = f"surveyapp-messages-{channel}"

    def wait(self) -> None:
        while not self.limiter.hit(self.item, self.key):
            time.sleep(min(0.05, self.item.get_expiry() / max(self.item.amount, 1)))


def _skip_reason(message: Message, kind: str) -> str | None:
    invitation: Invitation = message.invitation
    if invitation.revoked:
        return "Đường dẫn đã bị thu hồi trước khi đến lượt gửi."
    if invitation.opted_out and kind == SendKind.REMINDER:
        return "Người nhận đã xin không nhận thêm thư."
    if anonymity.has_answered(session(), invitation):
        return "Người nhận đã trả lời trước khi đến lượt gửi."
    return None


def run_send(send_id: int) -> None:
    """Send every due message of ``send_id``; safe to run twice, or after a worker stopped."""
    s = session()
    send = s.get(MessageSend, send_id)
    if send is None or send.finished_at is not None:
        return
    settle_stopped(send_id)
    me = worker_name()
    delays = current_app.config["MESSAGE_RETRY_DELAYS"]
    try:
        channel = open_channel(current_app.config, send.channel)
    except NotConfigured as exc:
        s.execute(
            update(Message).where(Message.send_id == send_id, Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.FAILED, error=str(exc))
        )  # fmt: skip
        s.commit()
        _maybe_finished(send_id)
        return
    pace = Pace(send.channel)
    try:
        while True:
            message = _claim(send_id, me)
            if message is None:
                wait = _next_due(send_id)
                if wait is None:
                    break
                if wait > WAIT_IN_PLACE:
                    jobs.enqueue("send", send_id, delay=wait)
                    return
                time.sleep(max(wait, 0.01))
                continue
            reason = _skip_reason(message, send.kind)
            if reason:
                _finish(message, status=MessageStatus.SKIPPED, error=reason)
                continue
            pace.wait()
            try:
                provider_id = channel.send(outgoing(message, send))
            except SendFailed as failure:
                if failure.temporary and message.attempts <= len(delays):
                    retry_at = utcnow() + timedelta(seconds=delays[message.attempts - 1])
                    _finish(message, status=MessageStatus.QUEUED, next_try_at=retry_at, error=failure.reason,
                            claimed_by=None, claimed_at=None)  # fmt: skip
                else:
                    reason = failure.reason
                    if failure.temporary:
                        reason = Problem.GAVE_UP.text(tries=message.attempts, last=failure.reason)
                    _finish(message, status=MessageStatus.FAILED, error=reason)
                continue
            _finish(message, status=MessageStatus.SENT, provider_id=provider_id[:200], sent_at=utcnow(), error=None)
    finally:
        channel.close()
    _maybe_finished(send_id)


def _next_due(send_id: int) -> float | None:
    """Seconds until the next retry of this send is due; None when nothing is left to try (or
    another worker holds the rest)."""
    s = session()
    due = s.scalar(
        select(func.min(Message.next_try_at)).where(Message.send_id == send_id, Message.status == MessageStatus.QUEUED)
    )
    s.commit()
    if due is None:
        return None
    return max((_aware(due) - utcnow()).total_seconds(), 0.0)


def _maybe_finished(send_id: int) -> None:
    s = session()
    left = s.scalar(
        select(func.count()).where(
            Message.send_id == send_id, Message.status.in_((MessageStatus.QUEUED, MessageStatus.SENDING))
        )
    )
    if not left:
        s.execute(update(MessageSend).where(MessageSend.id == send_id, MessageSend.finished_at.is_(None))
                  .values(finished_at=utcnow()))  # fmt: skip
    s.commit()


def resume() -> int:
    """At a worker's start: settle what stopped workers left and queue every unfinished send again."""
    settle_stopped()
    s = session()
    unfinished = list(s.scalars(select(MessageSend.id).where(MessageSend.finished_at.is_(None))))
    s.commit()
    for send_id in unfinished:
        _maybe_finished(send_id)
    for send_id in unfinished:
        jobs.enqueue("send", send_id)
    return len(unfinished)


def run_reminders(now_iso: str | None = None) -> list[int]:
    """The reminder tick: queue every reminder due now (or at ``now_iso``, for tests and replays)."""
    from .reminders import queue_due

    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    s = session()
    sends = queue_due(s, now)
    ids = [send.id for send in sends]
    s.commit()
    for send_id in ids:
        jobs.enqueue("send", send_id)
    return ids


def tick() -> None:
    """The periodic job: returned mail read, reminders due now, then the next tick scheduled
    (surveyapp/jobs.py). A mailbox that cannot be read is logged and tried again next time."""
    from .returns import read_bounces

    try:
        read_bounces(session())
    except ValueError as exc:
        log.warning("%s", exc)
    run_reminders()
    from ..results.exports import forget_old

    forget_old(session())
    session().commit()
    if current_app.config["REDIS_URL"]:
        jobs.ensure_tick(current_app.config)
