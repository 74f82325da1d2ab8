"""Pieces every page shares: notice pages for errors, security headers, the raw-body check."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, abort, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from .messages import page

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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
    if request.method != "POST" or request.content_length == 0:
        return None
    mimetype = request.mimetype
    if mimetype not in FORM_CONTENT_TYPES:
        return notice("bad_content_type", 415)
    if mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        try:
            parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            return notice("bad_encoding", 400)
    return None


def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
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


def init_app(app: Flask) -> None:
    """Register after ``compress.init_app``: after_request hooks run last-registered first."""
    app.after_request(security_headers)
    app.after_request(buffer_static_files)

    @app.errorhandler(NoticeError)
    def _notice(exc: NoticeError):
        return notice(exc.key, exc.code)

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return notice("csrf", 400)

    @app.errorhandler(404)
    def _not_found(_exc):
        return notice("not_found", 404)

    @app.errorhandler(405)
    def _method(_exc):
        return notice("method", 405)

    @app.errorhandler(403)
    def _forbidden(_exc):
        return notice("forbidden", 403)

    @app.errorhandler(413)
    def _too_large(_exc):
        return notice("too_large", 413)

    @app.errorhandler(BadRequest)
    def _bad_request(_exc):
        return notice("bad_request", 400)

    @app.errorhandler(500)
    def _server_error(_exc):
        return notice("server_error", 500)


__all__ = ["abort", "fail", "init_app", "notice", "reject_malformed_body"]
