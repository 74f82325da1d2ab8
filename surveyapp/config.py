"""All configuration, read from the environment in this one place.

``DATABASE_URL``
    SQLAlchemy URL of the database; default: SQLite file ``surveyapp.sqlite`` in the instance folder.
``SECRET_KEY``
    Signs sessions, CSRF tokens and submission ids; in development a random key is made once and kept
    in ``instance/secret_key``, so restarts keep logins, open forms and saved drafts valid.
    **Required** when ``SURVEYAPP_ENV=production``.
``PUBLIC_BASE_URL``
    The public address used in links and QR codes, e.g. ``https://khaosat.noivu.example.vn``;
    default ``http://127.0.0.1:5000``.
``SURVEYAPP_ENV``
    ``development`` (default) or ``production``.
``MAX_FORM_BYTES``
    Largest answer form accepted, in bytes; default 65536.
``MAX_UPLOAD_BYTES``
    Largest file staff may upload (invitation lists), in bytes; default 8 MiB.
``SESSION_HOURS``
    How long a staff login lasts; default 8.
``DATABASE_POOL_SIZE``
    Connections each worker keeps open to PostgreSQL; default 10 (plus 20 overflow).
``RATELIMIT_STORAGE_URI``
    Where rate-limit counters live, shared by every worker and server: ``redis://127.0.0.1:6379/0``
    in production; default ``memory://`` (one process only).
``RATELIMIT_PER_ADDRESS`` / ``RATELIMIT_PER_DEVICE``
    Answer submissions allowed per client address and per phone; defaults ``300 per hour`` (a busy
    counter's shared Wi-Fi stays well below) and ``10 per hour``.
``KIOSK_MIN_SECONDS`` / ``KIOSK_IDLE_SECONDS`` / ``KIOSK_PACE_SECONDS`` / ``KIOSK_BURST``
    A counter's shared tablet (/k/<code>): the shortest time between two submissions it sends
    (default 20 s; one sooner is refused with a page asking to wait), the idle time after which a
    half-answered form is thrown away for the next citizen (default 90 s), and the burst flag: a
    level rising by one a submission and falling by one every ``KIOSK_PACE_SECONDS`` (default 60)
    flags the submissions that push it past ``KIOSK_BURST`` (default 5).
``TRUST_PROXY``
    ``1`` behind one reverse proxy: client address and scheme come from X-Forwarded-For/-Proto.
``LOG_JSON``
    ``1`` writes the app's logs as one JSON object per line; default on in production.
``REDIS_URL``
    The job queue (RQ) for sending invitations and heavy exports, e.g. ``redis://127.0.0.1:6379/1``;
    run ``surveyapp worker`` beside the web servers. Unset (a laptop): jobs run in a thread of the
    process that started them. ``QUEUE_NAME`` (default ``surveyapp``) separates installations
    sharing one Redis.
``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_TLS``, ``SMTP_USER``, ``SMTP_PASSWORD``, ``MAIL_FROM``
    E-mail: the SMTP server (port default 587 with ``starttls``, 465 with ``tls``, 25 with ``none``),
    the login (optional), and the sender, e.g. ``Sở Nội vụ <khaosat@noivu.example.vn>``.
    ``SMTP_BOUNCE_ADDRESS`` (optional) receives returned mail; default ``MAIL_FROM``.
``BOUNCE_MAILBOX``
    That address's mailbox, read for delivery reports by the worker every 10 minutes and by
    ``surveyapp invitations bounces``: ``imaps://user:password@host[:port]/INBOX`` (``imap://`` only
    for a server on this machine). Reports read are marked seen; messages they return are bounced.
``SMS_PROVIDER``, ``ESMS_API_KEY``, ``ESMS_SECRET_KEY``, ``ESMS_BRANDNAME``, ``ESMS_SMS_TYPE``
    SMS through eSMS.vn (``SMS_PROVIDER=esms``); the brand name registered with the carriers and the
    message type (default 2, customer care). ``ESMS_URL`` overrides the address (tests).
``ZALO_ACCESS_TOKEN``, ``ZALO_TEMPLATE_ID``, ``ZALO_TEMPLATE_DATA``
    Zalo Notification Service: the Official Account's token, the approved template, and what fills
    each of its parameters (``ho_ten={họ tên}; don_vi={đơn vị}; han_tra_loi={hạn trả lời};
    ma_moi={mã mời}``, the default). ``ZALO_URL`` overrides the address (tests).
    ``ZALO_APP_ID`` and ``ZALO_OA_SECRET`` check the signature of Zalo's delivery reports, posted to
    ``/hook/zalo`` (set that address as the OA's webhook). SMS delivery reports come back to
    ``/hook/esms/…``, an address signed per message.
``MESSAGE_RATE_EMAIL`` / ``MESSAGE_RATE_SMS`` / ``MESSAGE_RATE_ZALO``
    How fast each channel sends, shared by every worker: defaults ``20 per second``, ``5 per second``,
    ``5 per second``.
``EXPORT_QUEUE_ABOVE`` / ``EXPORT_KEEP_DAYS``
    A campaign (or group) with more valid answers than this (default 20000) gets its workbook and
    full CSV made by the worker, with a progress page and a download when ready; the files are kept
    7 days. Smaller ones download at once.
``MESSAGE_RETRY_DELAYS``
    Seconds to wait before each new try of a temporarily failed message; default ``60,300,1800``
    (three more tries, then it is marked failed).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta


class ConfigError(RuntimeError):
    pass


def from_environment(instance_path: str, environ: os._Environ | dict | None = None) -> dict:
    env = os.environ if environ is None else environ
    production = env.get("SURVEYAPP_ENV", "development") == "production"
    secret = env.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY phải được đặt khi chạy ở môi trường production")
        secret = _instance_secret(instance_path)
    database_url = env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'surveyapp.sqlite')}"
    # Heroku-style URLs name the old driver; we use psycopg 3.
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return {
        "SECRET_KEY": secret,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PRODUCTION": production,
        "MAX_FORM_BYTES": int(env.get("MAX_FORM_BYTES", 64 * 1024)),
        # The app-wide ceiling; every request but a staff upload is held to MAX_FORM_BYTES.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_BYTES", 8 * 1024 * 1024)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(env.get("SESSION_HOURS", 8))),
        # the cookie is not re-issued on every request: a session lasts SESSION_HOURS from signing in
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # A citizen may fill the form slowly or resend a saved draft later the same day.
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "image/svg+xml",
            "text/plain",
        ],
        "COMPRESS_MIN_SIZE": 300,
        "DATABASE_POOL_SIZE": int(env.get("DATABASE_POOL_SIZE", 10)),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_PER_ADDRESS": env.get("RATELIMIT_PER_ADDRESS", "300 per hour"),
        "RATELIMIT_PER_DEVICE": env.get("RATELIMIT_PER_DEVICE", "10 per hour"),
        "KIOSK_MIN_SECONDS": float(env.get("KIOSK_MIN_SECONDS", 20)),
        "KIOSK_IDLE_SECONDS": float(env.get("KIOSK_IDLE_SECONDS", 90)),
        "KIOSK_PACE_SECONDS": float(env.get("KIOSK_PACE_SECONDS", 60)),
        "KIOSK_BURST": float(env.get("KIOSK_BURST", 5)),
        "TRUST_PROXY": env.get("TRUST_PROXY", "0") == "1",
        "LOG_JSON": env.get("LOG_JSON", "1" if production else "0") == "1",
        **_messaging(env),
    }


def _messaging(env) -> dict:
    tls = env.get("SMTP_TLS", "starttls").strip().lower()
    if tls not in ("none", "starttls", "tls"):
        raise ConfigError(f"SMTP_TLS phải là none, starttls hoặc tls (đang là “{tls}”)")
    port = env.get("SMTP_PORT") or {"none": "25", "starttls": "587", "tls": "465"}[tls]
    try:
        delays = [float(v) for v in env.get("MESSAGE_RETRY_DELAYS", "60,300,1800").split(",") if v.strip()]
    except ValueError:
        raise ConfigError(
            "MESSAGE_RETRY_DELAYS phải là các số giây cách nhau bởi dấu phẩy, ví dụ 60,300,1800"
        ) from None
    return {
        "REDIS_URL": env.get("REDIS_URL", ""),
        "QUEUE_NAME": env.get("QUEUE_NAME", "surveyapp"),
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(port),
        "SMTP_TLS": tls,
        "SMTP_USER": env.get("SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", ""),
        "SMTP_BOUNCE_ADDRESS": env.get("SMTP_BOUNCE_ADDRESS", ""),
        "BOUNCE_MAILBOX": env.get("BOUNCE_MAILBOX", ""),
        "EXPORT_QUEUE_ABOVE": int(env.get("EXPORT_QUEUE_ABOVE", 20_000)),
        "EXPORT_KEEP_DAYS": int(env.get("EXPORT_KEEP_DAYS", 7)),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", 30)),
        "SMS_PROVIDER": env.get("SMS_PROVIDER", "").strip().lower(),
        "ESMS_URL": env.get("ESMS_URL", "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"),
        "ESMS_API_KEY": env.get("ESMS_API_KEY", ""),
        "ESMS_SECRET_KEY": env.get("ESMS_SECRET_KEY", ""),
        "ESMS_BRANDNAME": env.get("ESMS_BRANDNAME", ""),
        "ESMS_SMS_TYPE": env.get("ESMS_SMS_TYPE", "2"),
        "ZALO_URL": env.get("ZALO_URL", "https://business.openapi.zalo.me/message/template"),
        "ZALO_ACCESS_TOKEN": env.get("ZALO_ACCESS_TOKEN", ""),
        "ZALO_TEMPLATE_ID": env.get("ZALO_TEMPLATE_ID", ""),
        "ZALO_TEMPLATE_DATA": env.get(
            "ZALO_TEMPLATE_DATA", "ho_ten={họ tên}; don_vi={đơn vị}; han_tra_loi={hạn trả lời}; ma_moi={mã mời}"
        ),
        "ZALO_APP_ID": env.get("ZALO_APP_ID", ""),
        "ZALO_OA_SECRET": env.get("ZALO_OA_SECRET", ""),
        "PROVIDER_TIMEOUT": float(env.get("PROVIDER_TIMEOUT", 20)),
        "MESSAGE_RATE_EMAIL": env.get("MESSAGE_RATE_EMAIL", "20 per second"),
        "MESSAGE_RATE_SMS": env.get("MESSAGE_RATE_SMS", "5 per second"),
        "MESSAGE_RATE_ZALO": env.get("MESSAGE_RATE_ZALO", "5 per second"),
        "MESSAGE_RETRY_DELAYS": delays,
        #: a message a worker took this long ago and never finished is treated as its worker having stopped
        "MESSAGE_CLAIM_TIMEOUT": float(env.get("MESSAGE_CLAIM_TIMEOUT", 600)),
    }


def _instance_secret(instance_path: str) -> str:
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        secret = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret)
        return secret
