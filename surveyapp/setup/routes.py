from __future__ import annotations

import base64
import binascii
import io
import re
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from questionnaires.scoring import RulesError

from ..audit import record
from ..auth import current_user, staff_required
from ..collect.quality import parse_hours
from ..db import session
from ..lookups import campaign_or_404
from ..models import CampaignStatus, GroupMode, QuestionnaireVersion, Unit, too_long
from . import bp
from .campaigns import (
    CATALOGUE,
    SetupError,
    add_group,
    builtin_versions,
    close_campaign,
    copy_campaign,
    create_campaign,
    open_campaign,
    readiness,
    set_rules,
)
from .units import UnitFileError, apply_changes, plan_changes, read_unit_file

MODE_NAMES = {GroupMode.COUNTER: "Quét mã QR tại quầy", GroupMode.INVITATION: "Mời cá nhân (đường dẫn riêng)",
              GroupMode.PAPER: "Phiếu giấy"}  # fmt: skip


def _units():
    return session().scalars(select(Unit).order_by(Unit.code)).all()


def _tree(units: list[Unit]) -> list[tuple[int, Unit]]:
    """Units in tree order with their depth, for an indented list."""
    children: dict[int | None, list[Unit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    out, stack = [], [(0, u) for u in reversed(children.get(None, []))]
    while stack:
        depth, u = stack.pop()
        out.append((depth, u))
        stack.extend((depth + 1, c) for c in reversed(children.get(u.id, [])))
    return out


@bp.route("/admin/units/mau-danh-sach-don-vi.xlsx")
@staff_required()
def units_template():
    from .units import TEMPLATE_HEADERS, TEMPLATE_ROWS, template_xlsx

    data = template_xlsx(TEMPLATE_HEADERS, TEMPLATE_ROWS, "Mẫu danh sách đơn vị")
    return send_file(io.BytesIO(data), as_attachment=True, download_name="mau-danh-sach-don-vi.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip


@bp.route("/admin/units")
@staff_required()
def units():
    return render_template("setup/units.html", tree=_tree(_units()), user=current_user())


def _preview(data: bytes, filename: str):
    s = session()
    rows = read_unit_file(data, filename)
    return rows, plan_changes(s, rows, filename)


@bp.route("/admin/units/preview", methods=["POST"])
@staff_required()
def units_preview():
    upload = request.files.get("units")
    if upload is None or not upload.filename:
        flash("Vui lòng chọn tệp danh sách đơn vị.", "error")
        return redirect(url_for("setup.units"))
    data = upload.read()
    try:
        rows, changes = _preview(data, upload.filename)
    except UnitFileError as exc:
        return render_template(
            "setup/units.html", tree=_tree(_units()), problems=exc.problems, user=current_user()
        ), 422
    return render_template(
        "setup/preview.html", changes=changes, filename=upload.filename, rows=len(rows),
        payload=base64.b64encode(data).decode("ascii"), fingerprint=changes.fingerprint(), user=current_user(),
    )  # fmt: skip


@bp.route("/admin/units/apply", methods=["POST"])
@staff_required()
def units_apply():
    filename = request.form.get("filename", "tệp")
    try:
        data = base64.b64decode(request.form.get("payload", ""), validate=True)
        rows, changes = _preview(data, filename)
    except (binascii.Error, ValueError) as exc:
        problems = (
            exc.problems if isinstance(exc, UnitFileError) else ["Dữ liệu xem trước bị hỏng, vui lòng tải lại tệp."]
        )
        return render_template("setup/units.html", tree=_tree(_units()), problems=problems, user=current_user()), 422
    if changes.fingerprint() != request.form.get("fingerprint"):
        flash("Danh sách đơn vị trong hệ thống đã thay đổi kể từ khi xem trước: vui lòng xem trước lại.", "error")
        return redirect(url_for("setup.units"))
    s = session()
    apply_changes(s, rows, changes)
    record(s, "units.imported", f"file:{filename}", new=len(changes.new), changed=len(changes.changed),
           retired=[c for c, _ in changes.retired])  # fmt: skip
    s.commit()
    flash(f"Đã áp dụng: {len(changes.new)} đơn vị mới, {len(changes.changed)} thay đổi, "
          f"{len(changes.retired)} đơn vị giải thể.", "ok")  # fmt: skip
    return redirect(url_for("setup.units"))


@bp.route("/admin/units/<path:code>", methods=["GET", "POST"])  # older lists let "/" into codes
@staff_required()
def unit(code: str):
    s = session()
    u = s.scalar(select(Unit).where(Unit.code == code))
    if u is None:
        abort(404)
    errors = []
    if request.method == "POST":
        name = " ".join(request.form.get("name", "").split())
        kind = request.form.get("kind", "").strip()
        frame = request.form.get("frame_size", "").strip()
        hours = request.form.get("opening_hours", "").strip() or None
        if not name or not kind:
            errors.append("Vui lòng nhập tên và loại đơn vị.")
        errors += too_long(Unit, sentences=True, name=name, kind=kind, opening_hours=hours)
        if frame and not re.fullmatch(r"[0-9]{1,9}", frame):
            errors.append("Số hồ sơ phải là số nguyên không âm, tối đa 999.999.999.")
        if hours:
            try:
                parse_hours(hours)
            except ValueError:
                errors.append("Giờ làm việc phải có dạng 07:30-11:30,13:30-17:00.")
        if not errors:
            before = {"name": u.name, "kind": u.kind, "frame_size": u.frame_size, "opening_hours": u.opening_hours,
                      "retired": u.retired_at is not None}  # fmt: skip
            u.name, u.kind, u.frame_size, u.opening_hours = name, kind, int(frame) if frame else None, hours
            from ..models import utcnow

            retire = request.form.get("retired") == "on"
            u.retired_at = (u.retired_at or utcnow()) if retire else None
            record(s, "unit.changed", f"unit:{u.code}", before=before)
            s.commit()
            flash("Đã lưu.", "ok")
            return redirect(url_for("setup.unit", code=code))
    return render_template("setup/unit.html", unit=u, errors=errors, user=current_user()), 422 if errors else 200


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@bp.route("/admin/campaigns/new", methods=["GET", "POST"])
@staff_required()
def new_campaign():
    s = session()
    error = None
    if request.method == "POST":
        f = request.form
        scope = s.scalar(select(Unit).where(Unit.code == f.get("scope", "")))
        try:
            if scope is None:
                raise SetupError("Vui lòng chọn đơn vị phạm vi của đợt.")
            campaign = create_campaign(
                s, key=f.get("key", "").strip(), year=int(f.get("year", "0") or 0), name=f.get("name", ""),
                scope=scope, starts_on=_date(f.get("starts_on")), ends_on=_date(f.get("ends_on")),
                anonymous=f.get("anonymous") == "on", quota_full_policy=f.get("quota_full_policy", "stop"),
            )  # fmt: skip
        except (SetupError, ValueError) as exc:
            s.rollback()
            error = str(exc) if isinstance(exc, SetupError) else "Năm hoặc ngày không hợp lệ."
        else:
            s.commit()
            return redirect(url_for("setup.campaign_setup", key=campaign.key))
    scopes = [u for u in _units() if u.retired_at is None]
    return render_template("setup/new.html", scopes=scopes, error=error, user=current_user(),
                           year=date.today().year), 422 if error else 200  # fmt: skip


@bp.route("/admin/c/<key>/setup")
@staff_required()
def campaign_setup(key: str):
    s = session()
    campaign = campaign_or_404(s, key)
    versions = builtin_versions(s)
    s.commit()
    kinds = sorted({u.kind for u in _units() if u.retired_at is None})
    return render_template(
        "setup/campaign.html", campaign=campaign, problems=readiness(s, campaign), catalogue=CATALOGUE,
        versions=versions, kinds=kinds, mode_names=MODE_NAMES, user=current_user(),
    )  # fmt: skip


@bp.route("/admin/c/<key>/groups", methods=["POST"])
@staff_required()
def new_group(key: str):
    s = session()
    campaign = campaign_or_404(s, key)
    f = request.form
    version_id = f.get("version", type=int)
    version = s.get(QuestionnaireVersion, version_id) if version_id and 0 < version_id < 2**31 else None
    kinds = f.getlist("rated_kinds")
    from .campaigns import units_of_kinds

    try:
        if version is None:
            raise SetupError("Vui lòng chọn phiếu hỏi.")
        add_group(s, campaign, code=f.get("code", "").strip(), name=f.get("name", ""), version=version,
                  mode=f.get("mode", ""), rated_units=units_of_kinds(s, campaign, kinds) if kinds else [])  # fmt: skip
    except SetupError as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash("Đã thêm nhóm đối tượng.", "ok")
    return redirect(url_for("setup.campaign_setup", key=key))


@bp.route("/admin/c/<key>/status", methods=["POST"])
@staff_required()
def status(key: str):
    s = session()
    campaign = campaign_or_404(s, key)
    action = request.form.get("action")
    try:
        if action in ("open", "reopen"):
            if action == "open" and campaign.status != CampaignStatus.DRAFT:
                raise SetupError("Chỉ mở được đợt đang chuẩn bị.")
            if action == "reopen" and campaign.status != CampaignStatus.CLOSED:
                raise SetupError("Chỉ mở lại được đợt đã đóng.")
            open_campaign(s, campaign)
        elif action == "close":
            close_campaign(s, campaign)
        else:
            abort(400)
    except SetupError as exc:
        s.rollback()
        flash("Chưa mở được đợt khảo sát vì:" if action != "close" else "Không đóng được:", "error")
        for line in str(exc).splitlines():
            flash(line, "error")
        return redirect(url_for("setup.campaign_setup", key=key)), 303
    s.commit()
    flash(
        {"open": "Đã mở đợt khảo sát.", "reopen": "Đã mở lại đợt khảo sát.", "close": "Đã đóng đợt khảo sát."}[action],
        "ok",
    )
    return redirect(url_for("setup.campaign_setup", key=key))


@bp.route("/admin/c/<key>/rules", methods=["POST"])
@staff_required()
def rules_upload(key: str):
    s = session()
    campaign = campaign_or_404(s, key)
    try:
        user = current_user()
        set_rules(s, campaign, request.form.get("rules", ""), user.id if user else None)
    except RulesError as exc:
        s.rollback()
        for problem in exc.problems:
            flash(problem, "error")
    else:
        s.commit()
        flash("Đã lưu quy tắc tính điểm.", "ok")
    return redirect(url_for("setup.campaign_setup", key=key))


@bp.route("/admin/c/<key>/copy", methods=["POST"])
@staff_required()
def copy(key: str):
    s = session()
    source = campaign_or_404(s, key)
    f = request.form
    try:
        report = copy_campaign(s, source, key=f.get("new_key", "").strip(), year=int(f.get("year", "0") or 0),
                               name=f.get("name", ""), starts_on=_date(f.get("starts_on")),
                               ends_on=_date(f.get("ends_on")))  # fmt: skip
    except (SetupError, ValueError) as exc:
        s.rollback()
        flash(str(exc) if isinstance(exc, SetupError) else "Năm hoặc ngày không hợp lệ.", "error")
        return redirect(url_for("setup.campaign_setup", key=key))
    s.commit()
    return render_template("setup/copied.html", report=report, source=source, user=current_user())
