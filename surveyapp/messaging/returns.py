"""Messages that came back (issue 18, part 4): e-mail returned to the bounce address, and the SMS
and Zalo providers' delivery reports. Each is checked before it changes anything:

- **e-mail**: the bounce address's mailbox (``BOUNCE_MAILBOX``, IMAP) is read by the worker's
  periodic tick and by ``surveyapp invitations bounces``. A delivery report (RFC 3464) names the
  message it returns by the Message-ID we gave it (``<khaosat.SEND.MESSAGE@domain>``, in the
  returned headers); which addresses failed, and for good or for now, is read by flufl.bounce
  (GNU Mailman's bounce detectors, which know the reports of the common mail servers besides the
  standard one). A message is marked bounced only when the report names it *and* its recipient
  failed for good; a delay ("will retry") changes nothing. Reports read are marked seen.
- **SMS (eSMS)**: eSMS calls the ``CallbackUrl`` each message was sent with, by HTTP GET. eSMS
  signs nothing, so the address carries our own signature: a keyed hash (HMAC-SHA256 under the
  app's secret) of the message's number. A callback with a wrong signature changes nothing.
- **Zalo (ZNS)**: the Official Account's webhook; Zalo signs each event in the
  ``X-ZEvent-Signature`` header as ``mac=`` SHA-256 of app id + body + timestamp + the OA's secret
  key (``ZALO_APP_ID``, ``ZALO_OA_SECRET``). ``user_received_message`` confirms delivery.

Only messages already sent change (sent → bounced, with the reason in Vietnamese and the
provider's own words); nothing here can mark as sent what was not.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import hmac
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email import policy
from urllib.parse import unquote, urlsplit

from flask import current_app
from flufl.bounce import all_failures
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Message, MessageStatus, utcnow
from .errors import Problem

log = logging.getLogger(__name__)

#: the Message-ID we give each e-mail (``services.outgoing``): send and message numbers
OUR_ID = re.compile(rb"<khaosat\.(\d{1,12})\.(\d{1,12})@")
#: reports read per pass at most (the rest wait for the next tick)
BATCH = 500


@dataclass(frozen=True)
class Bounce:
    message_id: int
    #: the addresses the report says failed for good
    permanent: frozenset[str]
    temporary: frozenset[str]
    #: the reporting server's words (Diagnostic-Code, else Status)
    reason: str


def read_report(raw: bytes) -> Bounce | None:
    """What one returned e-mail says, or None when it is not a report about one of our messages."""
    found = OUR_ID.search(raw)
    if found is None:
        return None
    report = email.message_from_bytes(raw)  # flufl.bounce reads the classic Message
    temporary, permanent = all_failures(report)
    words = ""
    for part in email.message_from_bytes(raw, policy=policy.default).walk():
        if part.get_content_type() == "message/delivery-status":
            for block in part.get_payload():
                words = words or str(block.get("Diagnostic-Code", "") or block.get("Status", ""))
    as_text = lambda found: frozenset(a.decode("utf-8", "replace").lower() for a in found)  # noqa: E731
    return Bounce(int(found.group(2)), as_text(permanent), as_text(temporary), words.strip()[:300])


def apply_bounce(s: Session, bounce: Bounce) -> bool:
    """Mark the message bounced when its recipient failed for good; True when it changed."""
    message = s.get(Message, bounce.message_id)
    if message is None or message.recipient.lower() not in bounce.permanent:
        return False
    return _bounced(s, message.id, Problem.BOUNCED.text(detail=bounce.reason or "không nêu lý do"))


def _mailbox(url: str):
    """Log in to ``BOUNCE_MAILBOX``: ``imaps://user:password@host[:port]/FOLDER`` (TLS), or
    ``imap://…`` (no encryption: a server on this machine or a trusted network only)."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError(Problem.BOUNCE_MAILBOX.text(detail="địa chỉ phải có dạng imaps://tên:mật-khẩu@máy-chủ/INBOX"))
    timeout = current_app.config["SMTP_TIMEOUT"]
    if parts.scheme == "imaps":
        box = imaplib.IMAP4_SSL(parts.hostname, parts.port or 993, ssl_context=ssl.create_default_context(),
                                timeout=timeout)  # fmt: skip
    else:
        box = imaplib.IMAP4(parts.hostname, parts.port or 143, timeout=timeout)
    try:
        box.login(unquote(parts.username or ""), unquote(parts.password or ""))
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        status, _ = box.select(folder)
        if status != "OK":
            raise ValueError(Problem.BOUNCE_MAILBOX.text(detail=f"không mở được thư mục {folder}"))
    except BaseException:
        box.shutdown()
        raise
    return box


def read_bounces(s: Session) -> tuple[int, int]:
    """Read the unseen reports of the bounce mailbox; (reports read, messages marked bounced).
    Commits once per pass; a report is marked seen only after that."""
    url = current_app.config["BOUNCE_MAILBOX"]
    if not url:
        return 0, 0
    try:
        box = _mailbox(url)
    except (OSError, imaplib.IMAP4.error) as exc:
        detail = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        raise ValueError(Problem.BOUNCE_MAILBOX.text(detail=detail)) from None
    try:
        _, found = box.uid("SEARCH", None, "UNSEEN")
        uids = (found[0] or b"").split()[:BATCH]
        marked = 0
        for uid in uids:
            _, data = box.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
            bounce = read_report(raw)
            if bounce is not None and apply_bounce(s, bounce):
                marked += 1
        s.commit()
        if uids:
            box.uid("STORE", b",".join(uids), "+FLAGS", r"(\Seen)")
        return len(uids), marked
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            box.logout()


# --- SMS and Zalo delivery reports ---------------------------------------------------------


def callback_signature(message_id: int) -> str:
    """The signature in the eSMS CallbackUrl of a message: nobody without the secret can forge it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"esms-callback:{message_id}".encode(), hashlib.sha256).hexdigest()[:32]


def esms_report(s: Session, message_id: int, signature: str, args) -> bool | None:
    """One eSMS callback (its query arguments). None when the signature is wrong; True when the
    message turned out undelivered and was marked bounced."""
    if not hmac.compare_digest(callback_signature(message_id), signature):
        return None
    try:
        failed, succeeded = int(args.get("SendFailed", "0")), int(args.get("SendSuccess", "0"))
    except ValueError:
        return False
    if args.get("SendStatus") != "5":
        return False  # still waiting for approval, or refused (shown when it was sent)
    if succeeded:
        s.execute(update(Message).where(Message.id == message_id, Message.status == MessageStatus.SENT,
                                        Message.delivered_at.is_(None)).values(delivered_at=utcnow()))  # fmt: skip
        return False
    if not failed:
        return False
    detail = args.get("error_info") or f"eSMS báo {failed} tin không đến được"
    return _bounced(s, message_id, Problem.PROVIDER_UNDELIVERED.text(provider="eSMS", detail=detail[:300]))


def _bounced(s: Session, message_id: int, reason: str) -> bool:
    """A sent message marked bounced (only a sent one: nothing else changes); True when it was."""
    changed = s.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.SENT)
        .values(status=MessageStatus.BOUNCED, error=reason)
    ).rowcount
    return bool(changed)


def zalo_signature_ok(body: bytes, payload: dict, header: str) -> bool:
    """Zalo's webhook signature: ``mac=`` sha256(app_id + body + timestamp + OA secret key)."""
    config = current_app.config
    if not config["ZALO_OA_SECRET"] or not header:
        return False
    if str(payload.get("app_id", "")) != config["ZALO_APP_ID"]:
        return False
    raw = str(payload.get("app_id", "")).encode() + body + str(payload.get("timestamp", "")).encode()
    expected = "mac=" + hashlib.sha256(raw + config["ZALO_OA_SECRET"].encode()).hexdigest()
    return hmac.compare_digest(expected, header.strip())


def zalo_event(s: Session, payload: dict) -> int | None:
    """A verified Zalo event: the message it confirms delivered (its id), if it is one of ours."""
    if payload.get("event_name") != "user_received_message":
        return None
    data = payload.get("message") or {}
    keys = [str(data.get(k)) for k in ("msg_id", "tracking_id") if data.get(k)]
    if not keys:
        return None
    tracked = [int(m.group(2)) for k in keys if (m := re.fullmatch(r"khaosat\.(\d{1,12})\.(\d{1,12})", k))]
    query = select(Message).where(Message.status.in_([MessageStatus.SENT, MessageStatus.BOUNCED]))
    query = query.where(Message.id.in_(tracked)) if tracked else query.where(Message.provider_id.in_(keys))
    message = s.scalars(query.limit(1)).first()
    if message is None:
        return None
    if message.delivered_at is None:
        message.delivered_at = utcnow()
    return message.id
