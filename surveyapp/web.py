"""Pieces every page shares: notice pages for errors, security headers, the raw-body check."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from questionnaires.labels import vn_number  # noqa: F401 (the filter, and for the exports)

from .messages import page

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: staff file uploads (and the send page, which can tick up to 20,000 people) may be as big as
#: MAX_UPLOAD_BYTES; every other request is held to MAX_FORM_BYTES
UPLOAD_ENDPOINTS = frozenset(
    {"invitations.import_list", "setup.units_preview", "setup.units_apply", "planning.draws", "authoring.import_file",
     "messaging.compose", "invitations.dossiers_page"}
)  # fmt: skip

#: providers' reports posted as JSON, each refused unless its signature checks (messaging/returns.py)
JSON_ENDPOINTS = frozenset({"messaging.zalo_hook"})


class NoticeError(HTTPException):
    """An HTTP error that shows one of the notice pages of ``messages.PAGES``."""

    def __init__(self, key: str, code: int):
        super().__init__()
        self.key = key
        self.code = code


def notice(key: str, status: int = 200, **context):
    title, text = page(key)
    return render_template("notice.html", title=title, text=text, key=key, **context), status


def fail(key: str, status: int):
    """Stop the request with a notice page."""
    raise NoticeError(key, status)


def reject_malformed_body():
    """Refuse bodies that are not form data or not valid UTF-8 before anything parses them.

    Werkzeug silently replaces undecodable bytes; we would rather refuse than store mojibake.
    """
    if request.endpoint not in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["MAX_FORM_BYTES"]
    # a NUL byte is never text: PostgreSQL refuses it in any string, so it would be a server error
    # wherever it reached a query (a path, a filter, a login name, an answer)
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        return notice("nul_byte", 400)
    if request.method != "POST" or request.content_length == 0:
        return None
    mimetype = request.mimetype
    if mimetype == "application/json" and request.endpoint in JSON_ENDPOINTS:
        return None  # checked by its signature, then parsed as JSON
    if mimetype not in FORM_CONTENT_TYPES:
        return notice("bad_content_type", 415)
    if mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        if not form_body_is_utf8(raw):
            return notice("bad_encoding", 400)
        if b"%00" in raw or b"\x00" in raw:
            return notice("nul_byte", 400)
    elif any("\x00" in value for value in request.form.values()):  # multipart: the fields, not the files
        return notice("nul_byte", 400)
    return None


def form_body_is_utf8(raw: bytes) -> bool:
    """Whether every name and value of a urlencoded body decodes as UTF-8. The body is decoded at
    once: "&" and "=" cannot continue a UTF-8 sequence, so this equals decoding each field (and
    costs a fifth of parsing them)."""
    try:
        unquote_to_bytes(raw.decode("ascii").replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


#: personal and single-use codes in URLs; never written to logs (README, "Anonymity")
SECRET_PATHS = re.compile(r"/(qr/)?([is])/[A-Za-z0-9_-]{8,}")


#: a client's address as gunicorn writes it into its own lines ("Invalid request from ip=…")
CLIENT_ADDRESS = re.compile(r"\bip=[0-9A-Fa-f:.\[\]]*[0-9A-Fa-f\]]")


class RedactCodes(logging.Filter):
    """Replace invitation and slip codes in log lines (werkzeug's access log, our own logs), and
    client addresses in gunicorn's own lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):  # gunicorn's access log passes its atoms as a mapping
            record.args = {
                k: SECRET_PATHS.sub(r"/\1\2/…", v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        elif record.args:
            record.args = tuple(SECRET_PATHS.sub(r"/\1\2/…", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = CLIENT_ADDRESS.sub("ip=…", SECRET_PATHS.sub(r"/\1\2/…", record.msg))
        return True


#: staff pages, exports and the API show confidential answers and names: never kept in any cache
CONFIDENTIAL_PREFIXES = ("/admin", "/api", "/login")


def security_headers(response):
    if request.path.startswith(CONFIDENTIAL_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("PRODUCTION"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    )
    return response


def buffer_static_files(response):
    """Read small text files into memory and close them before Flask-Compress compresses them.

    Flask-Compress reads a file response with ``get_data()`` but never closes the file.
    """
    if response.direct_passthrough and response.mimetype in ("text/css", "text/javascript", "application/javascript"):
        response.direct_passthrough = False
        body = response.get_data()
        response.close()
        response.set_data(body)
    return response


#: which notice page each plain HTTP error shows
HTTP_ERROR_PAGES = {
    BadRequest: ("bad_request", 400),
    403: ("forbidden", 403),
    404: ("not_found", 404),
    405: ("method", 405),
    413: ("too_large", 413),
    429: ("rate_limited", 429),
    500: ("server_error", 500),
}


def _notice_for(key: str, status: int):
    def handler(_exc):
        return notice(key, status)

    return handler


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (production)."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


#: Vietnam keeps UTC+7 all year (no summer time), so a fixed offset is Asia/Ho_Chi_Minh
VIETNAM = timezone(timedelta(hours=7), "ICT")


def vn_datetime(value: datetime | None) -> str:
    """A stored time as staff read it: Vietnam time, dd/mm/yyyy HH:MM."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives naive UTC back
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vn_date(value: datetime | None) -> str:
    return vn_datetime(value)[:10]


class DatabaseInt(IntegerConverter):
    """``<int:…>`` in a URL takes only what an integer column holds: 99…9 (40 digits) is a 404,
    not an overflow in the database driver."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Register after ``compress.init_app``: after_request hooks run last-registered first.
    Before the blueprints: their routes take the bounded ``int`` converter."""
    app.url_map.converters["int"] = DatabaseInt
    app.jinja_env.filters.update(vn_datetime=vn_datetime, vn_date=vn_date, vn_number=vn_number)
    if app.config.get("LOG_JSON"):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        app.logger.handlers[:] = [handler]
        app.logger.setLevel(logging.INFO)
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCodes) for f in logger.filters):
            logger.addFilter(RedactCodes())
    app.after_request(security_headers)
    app.after_request(buffer_static_files)

    @app.errorhandler(NoticeError)
    def _notice(exc: NoticeError):
        return notice(exc.key, exc.code)

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return notice("csrf", 400)

    for error, (key, status) in HTTP_ERROR_PAGES.items():
        app.register_error_handler(error, _notice_for(key, status))


__all__ = ["abort", "fail", "init_app", "notice", "reject_malformed_body"]
