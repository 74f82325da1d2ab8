"""The ways a message leaves the product, one small adapter per provider behind one interface:
``send(Outgoing) -> provider id``, raising :class:`SendFailed` with a Vietnamese reason and whether
trying again later may help. Each adapter's request follows its provider's published API:

- e-mail over SMTP (``smtplib``; ``SMTP_TLS`` none | starttls | tls), plain text and HTML, with a
  one-click ``List-Unsubscribe`` (RFC 8058) and a Message-ID made from the message's own key;
- SMS through eSMS.vn, ``SendMultipleMessage_V4_post_json`` (fields ApiKey, SecretKey, Phone,
  Content, Brandname, SmsType, IsUnicode, RequestId; success is ``CodeResult`` "100"); its
  ``RequestId`` is the message's key, so eSMS itself refuses a duplicate for 24 hours;
- Zalo Notification Service, ``POST https://business.openapi.zalo.me/message/template`` with the
  ``access_token`` header and ``phone`` (84…), ``template_id``, ``template_data``, ``tracking_id``;
  success is ``error`` 0 with ``data.msg_id``. The link is a button of the approved template whose
  address carries ``{mã mời}``, not a link in the text.

Configured from the environment (surveyapp/config.py); an unconfigured channel says what to set.
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr
from html import escape

from .errors import Problem
from .templates import render


@dataclass(frozen=True)
class Outgoing:
    #: unique per message and send: the Message-ID, eSMS's RequestId, Zalo's tracking_id
    key: str
    recipient: str
    name: str
    subject: str
    text: str
    link: str
    unsubscribe: str
    #: the placeholder values for this person (template-based channels fill their own fields)
    values: dict[str, str] = field(default_factory=dict)
    #: where the SMS provider reports delivery (signed per message, messaging/returns.py)
    callback: str = ""


class SendFailed(Exception):
    def __init__(self, reason: str, *, temporary: bool):
        self.reason = reason
        self.temporary = temporary
        super().__init__(reason)


class NotConfigured(Exception):
    pass


HOW = {
    "email": "đặt SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USER, SMTP_PASSWORD và MAIL_FROM (README, “Gửi lời mời”).",
    "sms": "đặt SMS_PROVIDER=esms, ESMS_API_KEY, ESMS_SECRET_KEY và ESMS_BRANDNAME.",
    "zalo": "đặt ZALO_ACCESS_TOKEN và ZALO_TEMPLATE_ID (mẫu ZNS đã được Zalo duyệt).",
}
NAMES = {"email": "email", "sms": "tin nhắn SMS", "zalo": "tin Zalo"}


def html_body(text: str, link: str, unsubscribe: str) -> str:
    """The e-mail's HTML part: the same words, paragraphs kept, the personal link a button."""
    parts = []
    for paragraph in text.split("\n\n"):
        lines = []
        for line in paragraph.split("\n"):
            if link and line.strip() == link:
                lines.append(
                    f'<a href="{escape(link)}" style="display:inline-block;padding:10px 18px;background:#9b1c1c;'
                    f'color:#fff;text-decoration:none;border-radius:6px;font-weight:bold">Mở phiếu khảo sát</a>'
                    f'<br><span style="font-size:13px;color:#555">{escape(link)}</span>'
                )
            else:
                lines.append(escape(line).replace(escape(link), f'<a href="{escape(link)}">{escape(link)}</a>')
                             if link else escape(line))  # fmt: skip
        parts.append("<p>" + "<br>".join(lines) + "</p>")
    footer = (
        f'<p style="font-size:12px;color:#666">Không muốn nhận thêm thư nhắc về đợt khảo sát này? '
        f'<a href="{escape(unsubscribe)}">Bấm vào đây</a>.</p>'
    )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"></head>'
        f'<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.5;color:#111">{"".join(parts)}'
        f"{footer}</body></html>"
    )


class EmailChannel:
    name = "email"

    def __init__(self, config: dict):
        self.host = config["SMTP_HOST"]
        self.port = config["SMTP_PORT"]
        self.tls = config["SMTP_TLS"]
        self.user, self.password = config["SMTP_USER"], config["SMTP_PASSWORD"]
        self.sender = config["MAIL_FROM"]
        self.bounce = config["SMTP_BOUNCE_ADDRESS"] or self.sender
        self.timeout = config["SMTP_TIMEOUT"]
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        context = ssl.create_default_context()
        try:
            if self.tls == "tls":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.tls == "starttls":
                    smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(Problem.SMTP_LOGIN.text(detail=_smtp_words(exc)), temporary=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            detail = _smtp_words(exc) if isinstance(exc, smtplib.SMTPResponseException) else type(exc).__name__
            if isinstance(exc, socket.timeout | TimeoutError):
                detail = "hết thời gian chờ"
            elif isinstance(exc, ConnectionRefusedError):
                detail = "máy chủ không nhận kết nối"
            raise SendFailed(Problem.SMTP_UNREACHABLE.text(host=self.host, port=self.port, detail=detail),
                             temporary=True) from None  # fmt: skip
        self._smtp = smtp
        return smtp

    def message(self, out: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = formataddr((out.name, out.recipient))
        mail["Subject"] = out.subject
        domain = self.sender.rsplit("@", 1)[-1].strip("> ") or "surveyapp.local"
        mail["Message-ID"] = f"<{out.key}@{domain}>"
        mail["List-Unsubscribe"] = f"<{out.unsubscribe}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(out.text + f"\n\n--\nKhông muốn nhận thêm thư nhắc: {out.unsubscribe}\n")
        mail.add_alternative(html_body(out.text, out.link, out.unsubscribe), subtype="html")
        return mail

    def send(self, out: Outgoing) -> str:
        mail = self.message(out)
        for attempt in (1, 2):  # a connection the server closed while idle is opened again once
            smtp = self._connect()
            try:
                smtp.send_message(mail, from_addr=self.bounce, to_addrs=[out.recipient])
                return mail["Message-ID"]
            except smtplib.SMTPServerDisconnected:
                self._smtp = None
                if attempt == 2:
                    raise SendFailed(Problem.SMTP_UNREACHABLE.text(host=self.host, port=self.port,
                                                                   detail="máy chủ ngắt kết nối"),
                                     temporary=True) from None  # fmt: skip
            except smtplib.SMTPRecipientsRefused as exc:
                code, words = next(iter(exc.recipients.values()))
                raise SendFailed(Problem.SMTP_REFUSED.text(detail=f"{code} {_decode(words)}"),
                                 temporary=400 <= code < 500) from None  # fmt: skip
            except smtplib.SMTPResponseException as exc:
                problem = Problem.SMTP_TEMPORARY if 400 <= exc.smtp_code < 500 else Problem.SMTP_REFUSED
                self.close()
                raise SendFailed(problem.text(detail=_smtp_words(exc)), temporary=exc.smtp_code < 500) from None
            except (OSError, smtplib.SMTPException) as exc:
                self._smtp = None
                raise SendFailed(Problem.SMTP_UNREACHABLE.text(host=self.host, port=self.port,
                                                               detail=type(exc).__name__),
                                 temporary=True) from None  # fmt: skip
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def _decode(words: bytes | str) -> str:
    return words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)


def _smtp_words(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_decode(exc.smtp_error)}".strip()


def post_json(url: str, body: dict, headers: dict, timeout: float, provider: str) -> dict:
    """POST ``body`` as JSON; the answer's JSON. Network trouble and 5xx are temporary, other
    HTTP errors are not."""
    if not url.startswith(("https://", "http://")):
        raise SendFailed(Problem.PROVIDER_UNREACHABLE.text(provider=provider, detail="địa chỉ không phải http(s)"),
                         temporary=False)  # fmt: skip
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json", **headers},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the configured provider
            raw = answer.read(1_000_000)
    except urllib.error.HTTPError as exc:
        detail = f"HTTP {exc.code}"
        if exc.code >= 500 or exc.code == 429:
            raise SendFailed(Problem.PROVIDER_ERROR.text(provider=provider, detail=detail), temporary=True) from None
        raise SendFailed(Problem.PROVIDER_REFUSED.text(provider=provider, detail=detail), temporary=False) from None
    except (OSError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        detail = "hết thời gian chờ" if isinstance(reason, TimeoutError | socket.timeout) else type(reason).__name__
        raise SendFailed(Problem.PROVIDER_UNREACHABLE.text(provider=provider, detail=detail), temporary=True) from None
    try:
        return json.loads(raw)
    except ValueError:
        raise SendFailed(Problem.PROVIDER_ERROR.text(provider=provider, detail="câu trả lời không phải JSON"),
                         temporary=True) from None  # fmt: skip


class EsmsChannel:
    name = "sms"
    provider = "eSMS"

    def __init__(self, config: dict):
        self.url = config["ESMS_URL"]
        self.api_key, self.secret = config["ESMS_API_KEY"], config["ESMS_SECRET_KEY"]
        self.brandname = config["ESMS_BRANDNAME"]
        self.sms_type = config["ESMS_SMS_TYPE"]
        self.timeout = config["PROVIDER_TIMEOUT"]

    def request(self, out: Outgoing) -> dict:
        return {
            "ApiKey": self.api_key,
            "SecretKey": self.secret,
            "Phone": "0" + out.recipient[2:],  # eSMS's examples write the national form, 09…
            "Content": out.text,
            "Brandname": self.brandname,
            "SmsType": self.sms_type,
            "IsUnicode": "1",  # Vietnamese with its diacritics
            "RequestId": out.key[:50],
            "campaignid": out.subject[:100],
            "CallbackUrl": out.callback,
        }

    def send(self, out: Outgoing) -> str:
        answer = post_json(self.url, self.request(out), {}, self.timeout, self.provider)
        if str(answer.get("CodeResult")) != "100":
            words = answer.get("ErrorMessage") or f"mã {answer.get('CodeResult')}"
            raise SendFailed(Problem.PROVIDER_REFUSED.text(provider=self.provider, detail=words), temporary=False)
        return str(answer.get("SMSID") or "")

    def close(self) -> None:
        pass


def zalo_fields(spec: str) -> dict[str, str]:
    """``ZALO_TEMPLATE_DATA``: the approved template's parameters and what fills each,
    ``ho_ten={họ tên}; don_vi={đơn vị}; ma_moi={mã mời}`` (one per ";" or line)."""
    fields = {}
    for part in spec.replace("\n", ";").split(";"):
        if "=" in part:
            name, value = part.split("=", 1)
            if name.strip():
                fields[name.strip()] = value.strip()
    return fields


class ZaloChannel:
    name = "zalo"
    provider = "Zalo"

    def __init__(self, config: dict):
        self.url = config["ZALO_URL"]
        self.token = config["ZALO_ACCESS_TOKEN"]
        self.template_id = config["ZALO_TEMPLATE_ID"]
        self.fields = zalo_fields(config["ZALO_TEMPLATE_DATA"])
        self.timeout = config["PROVIDER_TIMEOUT"]

    def request(self, out: Outgoing) -> dict:
        return {
            "phone": out.recipient,
            "template_id": self.template_id,
            "template_data": {name: render(value, out.values) for name, value in self.fields.items()},
            "tracking_id": out.key[:48],
        }

    def send(self, out: Outgoing) -> str:
        answer = post_json(self.url, self.request(out), {"access_token": self.token}, self.timeout, self.provider)
        if answer.get("error") != 0:
            words = f"{answer.get('message') or 'lỗi'} (mã {answer.get('error')})"
            raise SendFailed(Problem.PROVIDER_REFUSED.text(provider=self.provider, detail=words), temporary=False)
        return str((answer.get("data") or {}).get("msg_id") or "")

    def close(self) -> None:
        pass


def configured(config: dict) -> dict[str, bool]:
    """Which channels this installation can send over."""
    return {
        "email": bool(config["SMTP_HOST"] and config["MAIL_FROM"]),
        "sms": config["SMS_PROVIDER"] == "esms" and bool(config["ESMS_API_KEY"] and config["ESMS_SECRET_KEY"]),
        "zalo": bool(config["ZALO_ACCESS_TOKEN"] and config["ZALO_TEMPLATE_ID"]),
    }


def open_channel(config: dict, channel: str):
    if not configured(config).get(channel):
        raise NotConfigured(Problem.NOT_CONFIGURED.text(channel=NAMES[channel], how=HOW[channel]))
    return {"email": EmailChannel, "sms": EsmsChannel, "zalo": ZaloChannel}[channel](config)
