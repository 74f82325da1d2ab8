from __future__ import annotations

import csv
import io
import json

import xlsxwriter
from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..audit import ACTIONS, record
from ..auth import current_user, staff_required
from ..campaigns.services import campaign_or_404, cells
from ..collect.quality import CHANNEL_NAMES, FLAG_NAMES, parse_hours
from ..db import session
from ..models import AuditEvent, Campaign, QuotaFullPolicy, Response, Role, Unit, User
from ..web import vn_datetime
from . import bp
from .services import ReviewError, days_left, flagged, per_day, review

#: the table shows the most lagging cells first; a province fits whole, the country is filtered
ROWS_SHOWN = 300
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTS = {
    "lag": lambda c: (-c.lag, c.percent, c.unit_code),
    "percent": lambda c: (c.percent, c.unit_code),
    "unit": lambda c: (c.unit_code, c.group_code),
}


def _campaign(key: str) -> Campaign:
    return campaign_or_404(session(), key)


def _scope() -> int | None:
    """Unit officers see their own unit only."""
    user = current_user()
    if user.role == Role.UNIT_OFFICER:
        if user.unit_id is None:
            abort(403)
        return user.unit_id
    return None


def _cells(campaign: Campaign):
    only = _scope()
    kind = request.args.get("kind") or None
    parent = request.args.get("parent") or None
    rows = cells(session(), campaign, kind=kind, parent_code=parent, only_unit_id=only)
    sort = request.args.get("sort", "lag")
    rows.sort(key=SORTS.get(sort, SORTS["lag"]))
    return rows, only, kind, parent, sort


@bp.route("/admin/c/<key>/dashboard")
@staff_required(Role.SCORER, Role.UNIT_OFFICER)
def dashboard(key: str):
    campaign = _campaign(key)
    rows, only, kind, parent, sort = _cells(campaign)
    totals: dict[str, list[int]] = {}
    for c in rows:
        t = totals.setdefault(c.group_name, [0, 0, 0])
        t[0] += c.target
        t[1] += c.received
        t[2] += c.valid
    s = session()
    kinds, parents = [], []
    if only is None:
        kinds = sorted({k for (k,) in s.execute(select(Unit.kind).distinct())})
        parent_unit = Unit.__table__.alias("p")
        parents = s.execute(
            select(parent_unit.c.code, parent_unit.c.name)
            .where(parent_unit.c.id.in_(select(Unit.parent_id).where(Unit.parent_id.is_not(None))))
            .order_by(parent_unit.c.code)
        ).all()
    daily = per_day(s, campaign, only)
    shown = rows if request.args.get("all") == "1" else rows[:ROWS_SHOWN]
    return render_template(
        "monitor/dashboard.html",
        campaign=campaign,
        rows=shown,
        row_count=len(rows),
        totals=totals,
        daily=daily,
        daily_rows=[(day, n, None) for day, n in daily[-14:]],
        daily_peak=max((n for _, n in daily), default=1),
        days_left=days_left(campaign),
        kinds=kinds,
        parents=parents,
        kind=kind,
        parent=parent,
        sort=sort,
        user=current_user(),
    )


@bp.route("/admin/c/<key>/dashboard.xlsx")
@staff_required(Role.SCORER, Role.UNIT_OFFICER)
def dashboard_xlsx(key: str):
    campaign = _campaign(key)
    rows, *_ = _cells(campaign)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    pct = book.add_format({"num_format": "0.0%"})
    sheet = book.add_worksheet("Tiến độ")
    heads = ["Mã đơn vị", "Đơn vị", "Loại", "Trực thuộc", "Nhóm đối tượng", "Chỉ tiêu", "Đã nhận", "Hợp lệ", "Tỷ lệ",
             "Còn thiếu"]  # fmt: skip
    for col, h in enumerate(heads):
        sheet.write_string(0, col, h, head)
    for r, c in enumerate(rows, start=1):
        for col, v in enumerate((c.unit_code, c.unit_name, c.unit_kind, c.parent_name or "", c.group_name)):
            sheet.write_string(r, col, v)
        sheet.write_number(r, 5, c.target)
        sheet.write_number(r, 6, c.received)
        sheet.write_number(r, 7, c.valid)
        sheet.write_number(r, 8, c.percent / 100, pct)
        sheet.write_number(r, 9, c.lag)
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, max(len(rows), 1), len(heads) - 1)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 26)
    sheet.set_column(3, 4, 30)
    book.close()
    return HttpResponse(
        buffer.getvalue(), mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="tien-do-{campaign.key}.xlsx"'},
    )  # fmt: skip


@bp.route("/admin/c/<key>/quality")
@staff_required()
def quality(key: str):
    campaign = _campaign(key)
    show_all = request.args.get("all") == "1"
    responses = flagged(session(), campaign, include_reviewed=show_all)
    units = dict(session().execute(select(Unit.id, Unit.name)).all())
    groups = {g.id: g.name for g in campaign.groups}
    return render_template(
        "monitor/quality.html", campaign=campaign, responses=responses, units=units, groups=groups,
        flag_names=FLAG_NAMES, channel_names=CHANNEL_NAMES, show_all=show_all, user=current_user(),
    )  # fmt: skip


@bp.route("/admin/c/<key>/responses/<int:response_id>/review", methods=["POST"])
@staff_required()
def review_response(key: str, response_id: int):
    campaign = _campaign(key)
    s = session()
    response = s.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id:
        abort(404)
    try:
        review(s, response, request.form.get("decision", ""), request.form.get("note", ""))
    except ReviewError as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash("Đã lưu quyết định.", "ok")
    return redirect(url_for("monitor.quality", key=key))


@bp.route("/admin/c/<key>/settings", methods=["GET", "POST"])
@staff_required()
def settings(key: str):
    campaign = _campaign(key)
    s = session()
    errors = []
    if request.method == "POST":
        form = request.form
        policy = form.get("quota_full_policy")
        if policy not in set(QuotaFullPolicy):
            errors.append("Cách xử lý khi đủ chỉ tiêu không hợp lệ.")
        try:
            seconds = float(form.get("min_seconds_per_question", "").replace(",", "."))
            burst = int(form.get("burst_limit", ""))
            if not 0 <= seconds <= 60 or not 1 <= burst <= 1000:
                raise ValueError
        except ValueError:
            errors.append("Số giây mỗi câu phải từ 0 đến 60; số phiếu mỗi máy mỗi giờ từ 1 đến 1000.")
        if not errors:
            before = {"quota_full_policy": campaign.quota_full_policy, "min_seconds_per_question":
                      campaign.min_seconds_per_question, "burst_limit": campaign.burst_limit,
                      "check_opening_hours": campaign.check_opening_hours}  # fmt: skip
            campaign.quota_full_policy = policy
            campaign.min_seconds_per_question = seconds
            campaign.burst_limit = burst
            campaign.check_opening_hours = form.get("check_opening_hours") == "on"
            record(s, "campaign.settings_changed", f"campaign:{campaign.key}", before=before,
                   after={"quota_full_policy": policy, "min_seconds_per_question": seconds, "burst_limit": burst,
                          "check_opening_hours": campaign.check_opening_hours})  # fmt: skip
            s.commit()
            flash("Đã lưu thiết lập.", "ok")
            return redirect(url_for("monitor.settings", key=key))
    return render_template(
        "monitor/settings.html", campaign=campaign, errors=errors, user=current_user(), parse_hours=parse_hours
    ), (422 if errors else 200)


@bp.route("/admin/audit")
@staff_required()
def audit():
    events = session().scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(500)).all()
    return render_template("monitor/audit.html", events=events, actions=ACTIONS, user=current_user(), json=json)


@bp.route("/admin/audit.csv")
@staff_required()
def audit_csv():
    s = session()
    users = dict(s.execute(select(User.id, User.username)).all())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Thời điểm (giờ Việt Nam)", "Người thực hiện", "Thao tác", "Đối tượng", "Chi tiết"])
    for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        cells_ = [
            vn_datetime(e.at),
            users.get(e.user_id, "dòng lệnh"),
            ACTIONS.get(e.action, e.action),
            e.target,
            e.details,
        ]
        writer.writerow(["'" + c if c[:1] in "=+-@" else c for c in cells_])
    return HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="nhat-ky.csv"'},
    )  # fmt: skip
