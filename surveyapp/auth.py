"""Staff sign-in. Roles beyond the administrator come with the monitoring work (issue 5)."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from .db import session as db_session
from .messages import VietnameseTranslations
from .models import Role, User

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return VietnameseTranslations()

    username = StringField("Tên đăng nhập", validators=[InputRequired("Vui lòng nhập tên đăng nhập.")])
    password = PasswordField("Mật khẩu", validators=[InputRequired("Vui lòng nhập mật khẩu.")])


def current_user() -> User | None:
    if "user" not in g:
        uid = session.get("uid")
        g.user = db_session().get(User, uid) if uid else None
        if g.user is not None and not g.user.active:
            g.user = None
    return g.user


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = db_session().scalar(select(User).where(User.username == form.username.data.strip()))
        if user is not None and user.active and check_password_hash(user.password_hash, form.password.data):
            session.clear()
            session.permanent = True
            session["uid"] = user.id
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("campaigns.index")
            return redirect(target)
        error = "Tên đăng nhập hoặc mật khẩu không đúng."
    return render_template("login.html", form=form, error=error), 200 if error is None else 401


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
