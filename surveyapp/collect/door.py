"""The public forms' protection without a Flask session (issue 17, part 1).

A public form (a poster's ``/f/``, a slip's ``/s/``, an invitation's ``/i/``) opens no session:
its CSRF value is ``HMAC(key, device cookie)``, the device cookie being the random, HttpOnly,
SameSite=Lax cookie each phone already carries for the burst flag. A post is taken only when its
``csrf_token`` field equals the HMAC of the device cookie that came with it. Another site can make
a phone post, but cannot read the phone's cookie (HttpOnly, another origin) nor compute the HMAC
(it needs the server's secret), and the cookie is not sent on a cross-site POST at all (Lax): as
strong as the session-stored token it replaces, without a session cookie to open, sign and send.
The submission token (a signed id and the time the form was shown) carries everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from flask.sessions import SecureCookieSessionInterface

from .quality import hash_key

DEVICE_COOKIE = "dv"
#: the paths whose pages never open, read or send the staff session
PUBLIC_PREFIXES = ("/f/", "/s/", "/i/", "/k/", "/a/", "/e/", "/favicon.ico")


def device_id() -> tuple[str, bool]:
    """This phone's device cookie, or a new one (and True: it must be set on the response)."""
    found = request.cookies.get(DEVICE_COOKIE)
    if found and 8 <= len(found) <= 64:
        return found, False
    return secrets.token_urlsafe(16), True


def csrf_for(device: str) -> str:
    key = hash_key(current_app.config["SECRET_KEY"], "public form csrf")
    return hmac.new(key, device.encode(), hashlib.sha256).hexdigest()


def csrf_ok() -> bool:
    """The post carries the CSRF value of the device cookie it came with."""
    device = request.cookies.get(DEVICE_COOKIE)
    posted = request.form.get("csrf_token", "")
    # as bytes: compare_digest refuses str with non-ASCII characters (a post may carry anything)
    return bool(device) and hmac.compare_digest(csrf_for(device).encode(), posted.encode())


class StaffOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, never opened nor saved on the public paths."""

    def open_session(self, app, request):
        if request.path.startswith(PUBLIC_PREFIXES):
            return self.null_session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if request.path.startswith(PUBLIC_PREFIXES):
            return None
        return super().save_session(app, session, response)
