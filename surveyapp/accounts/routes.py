from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..audit import record
from ..auth import current_user, staff_required
from ..db import session
from ..models import Role, Unit, User, too_long
from . import bp

ROLE_NAMES = {
    Role.ADMIN: "Quản trị (Phòng/Sở Nội vụ)",
    Role.UNIT_OFFICER: "Cán bộ đơn vị",
    Role.SCORER: "Tổ chấm điểm",
    Role.CLERK: "Nhập liệu",
}
USERNAME = re.compile(r"^[a-z0-9._-]{3,64}$")
MIN_PASSWORD = 10


def _check(username: str | None, password: str | None, role: str, unit_code: str) -> tuple[list[str], Unit | None]:
    errors = []
    if username is not None and not USERNAME.match(username):
        errors.append("Tên đăng nhập 3–64 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới.")
    if password is not None and len(password) < MIN_PASSWORD:
        errors.append(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.")
    if role not in set(Role):
        errors.append("Vai trò không hợp lệ.")
    unit = session().scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    if role == Role.UNIT_OFFICER and unit is None:
        errors.append("Cán bộ đơn vị phải gắn với một đơn vị.")
    return errors, unit


@bp.route("/admin/users", methods=["GET", "POST"])
@staff_required()
def users():
    s = session()
    errors = []
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        role = request.form.get("role", "")
        errors, unit = _check(username, password, role, request.form.get("unit", ""))
        errors += too_long(User, sentences=True, full_name=request.form.get("full_name", "").strip())
        if not errors and s.scalar(select(User.id).where(User.username == username)):
            errors.append(f"Tên đăng nhập “{username}” đã có.")
        if not errors:
            user = User(username=username, full_name=request.form.get("full_name", "").strip(), role=role,
                        unit_id=unit.id if unit and role == Role.UNIT_OFFICER else None,
                        password_hash=generate_password_hash(password))  # fmt: skip
            s.add(user)
            s.flush()
            record(s, "user.created", f"user:{username}", role=role, unit=unit.code if unit else None)
            s.commit()
            flash(f"Đã tạo tài khoản “{username}”.", "ok")
            return redirect(url_for("accounts.users"))
    return (
        render_template(
            "accounts/users.html",
            accounts=s.scalars(select(User).order_by(User.username)).all(),
            units=s.scalars(select(Unit).where(Unit.retired_at.is_(None)).order_by(Unit.code)).all(),
            role_names=ROLE_NAMES,
            errors=errors,
            user=current_user(),
        ),
        422 if errors else 200,
    )


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@staff_required()
def change(user_id: int):
    s = session()
    account = s.get(User, user_id)
    if account is None:
        abort(404)
    action = request.form.get("action")
    if action == "toggle":
        if account.id == current_user().id:
            flash("Không thể tự khoá tài khoản của chính mình.", "error")
            return redirect(url_for("accounts.users"))
        account.active = not account.active
        record(s, "user.changed", f"user:{account.username}", active=account.active)
    elif action == "password":
        password = request.form.get("password", "")
        if len(password) < MIN_PASSWORD:
            flash(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.", "error")
            return redirect(url_for("accounts.users"))
        account.set_password(password)
        record(s, "user.password_reset", f"user:{account.username}")
    else:
        abort(400)
    s.commit()
    flash("Đã lưu.", "ok")
    return redirect(url_for("accounts.users"))
