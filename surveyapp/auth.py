"""Staff sign-in and roles: administrators see everything; unit officers their own unit's progress,
posters and slips; scorers results and exports; clerks paper entry."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from .db import session as db_session
from .messages import VietnameseTranslations
from .models import LoginFailure, Role, User, utcnow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return VietnameseTranslations()

    username = StringField("Tên đăng nhập", validators=[InputRequired("Vui lòng nhập tên đăng nhập.")])
    password = PasswordField("Mật khẩu", validators=[InputRequired("Vui lòng nhập mật khẩu.")])


def current_user() -> User | None:
    """The signed-in staff member, if the session is still good: the account is active, its
    sessions were not ended since (logout, password change) and the login is younger than
    SESSION_HOURS, counted from signing in (not from the last request)."""
    if "user" not in g:
        uid = session.get("uid")
        user = db_session().get(User, uid) if uid else None
        if user is not None and not (user.active and session.get("sv") == user.session_version and _fresh()):
            user = None
        g.user = user
    return g.user


def _fresh() -> bool:
    signed_in = session.get("at")
    if not isinstance(signed_in, int | float):
        return False
    age = time.time() - signed_in
    return 0 <= age < current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after signing in, or None: never another site. Browsers drop
    tabs and newlines and read a backslash as a slash, so "/\t/evil.example" would leave us."""
    if not target or any(ch < " " or ch == "\x7f" or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def staff_required(*roles: Role):
    """Only signed-in staff (of the given roles; administrators always) may enter."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if user.role != Role.ADMIN and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


#: password checks allowed per account and address in the window; a wrong guess elsewhere never
#: locks out the right password from another address
MAX_FAILURES = 5
#: once an account has this many failures from everywhere it is under attack: each address that
#: already failed for it gets one check per window (an address that never failed keeps its five)
ACCOUNT_UNDER_ATTACK = 20
STRICT_FAILURES = 1
#: failures from one address, any account (a password spray); an office's shared address has room
ADDRESS_MAX_FAILURES = 50
FAILURE_WINDOW = timedelta(minutes=15)
#: checked when the account does not exist, so an unknown name takes as long as a wrong password
_DUMMY_HASH = generate_password_hash("surveyapp: no such account")


def address_hash() -> str:
    """A keyed hash of the client address for sign-in failures: enough to count them, never the
    address itself, and not the hash respondents' addresses are kept under."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"login address:{request.remote_addr}".encode(), hashlib.sha256).hexdigest()


def _refused(s, username: str, address: str) -> bool:
    """Whether this attempt (already recorded) is one too many. Each attempt is recorded and
    committed before any password is checked, so racing attempts cannot pass the limit."""
    since = utcnow() - FAILURE_WINDOW
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    pair = s.scalar(recent.where(LoginFailure.username == username, LoginFailure.address_hash == address))
    by_user = s.scalar(recent.where(LoginFailure.username == username))
    by_address = s.scalar(recent.where(LoginFailure.address_hash == address))
    limit = STRICT_FAILURES if by_user - pair >= ACCOUNT_UNDER_ATTACK else MAX_FAILURES
    return pair > limit or by_address > ADDRESS_MAX_FAILURES


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        s = db_session()
        username = form.username.data.strip().lower()[:64]
        address = address_hash()
        attempt = LoginFailure(username=username, address_hash=address)
        s.add(attempt)
        s.commit()  # counted before the password is checked (the record goes if it was right)
        if _refused(s, username, address):
            minutes = int(FAILURE_WINDOW.total_seconds() // 60)
            error, status = f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", 429
            return render_template("login.html", form=form, error=error), status
        user = s.scalar(select(User).where(User.username == username))
        known = user is not None and user.active
        right = check_password_hash(user.password_hash if known else _DUMMY_HASH, form.password.data)
        if known and right:
            s.execute(delete(LoginFailure).where(LoginFailure.username == username,
                                                 LoginFailure.address_hash == address))  # fmt: skip
            s.commit()
            session.clear()
            session.permanent = True
            session["uid"] = user.id
            session["sv"] = user.session_version
            session["at"] = int(time.time())
            return redirect(safe_next(request.args.get("next")) or url_for("campaigns.index"))
        error, status = "Tên đăng nhập hoặc mật khẩu không đúng.", 401
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Signs out every copy of this session, not only this browser's cookie."""
    user = current_user()
    if user is not None:
        user.end_sessions()
        db_session().commit()
    session.clear()
    return redirect(url_for("auth.login"))
