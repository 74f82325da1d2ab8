from __future__ import annotations

import csv
import hashlib
import io

import xlsxwriter
from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from questionnaires.labels import answer_lines

from ..audit import ACTIONS, Names, describe_details, describe_target, record
from ..auth import current_user, safe_next, staff_required
from ..campaigns.services import cells
from ..collect.quality import CHANNEL_NAMES, FLAG_NAMES, parse_hours
from ..collect.services import questionnaire_of
from ..db import session
from ..lookups import campaign_or_404
from ..messaging.services import coverage_rows, outcome_rows
from ..models import (
    Answer,
    AuditEvent,
    Campaign,
    CampaignStatus,
    QuotaFullPolicy,
    RespondentGroup,
    Response,
    Role,
    ScoredChannels,
    Unit,
    User,
)
from ..results.services import counter_pressure
from ..web import vn_datetime
from . import bp
from .forms import NOTE_MAX, IssuerForm, ReviewForm
from .services import DECISIONS, ReviewError, days_left, duration_text, flagged, per_day, review, review_many

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


#: the counter units with the lowest coverage listed on the dashboard (all of them are in the workbook)
COVERAGE_SHOWN = 20


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
    left = days_left(campaign)
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
    invited = outcome_rows(s, campaign, only)
    covered = coverage_rows(s, campaign, rows)
    coverage_totals: dict[str, list[int]] = {}
    for c in covered:
        if c.frame:
            t = coverage_totals.setdefault(c.group_name, [0, 0])
            t[0] += c.valid
            t[1] += c.frame
    return render_template(
        "monitor/dashboard.html",
        campaign=campaign,
        rows=shown,
        row_count=len(rows),
        totals=totals,
        daily=daily,
        daily_rows=[(f"{day[8:10]}/{day[5:7]}/{day[:4]}", n, None) for day, n in daily[-14:]],  # dd/mm/yyyy
        daily_peak=max((n for _, n in daily), default=1),
        days_left=left,
        # an open campaign within its dates reloads itself (static/refresh.js); a closed one stays still
        live=campaign.status == CampaignStatus.OPEN and (left is None or left >= 0),
        kinds=kinds,
        parents=parents,
        kind=kind,
        parent=parent,
        sort=sort,
        invited=invited,
        covered=sorted((c for c in covered if c.share is not None), key=lambda c: c.share)[:COVERAGE_SHOWN],
        coverage_totals=coverage_totals,
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
    s = session()
    show_all = request.args.get("all") == "1"
    flag = request.args.get("flag") if request.args.get("flag") in FLAG_NAMES else None
    unit_code = request.args.get("unit", "")
    unit = s.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    responses, total = flagged(s, campaign, include_reviewed=show_all, flag=flag,
                               unit_id=unit.id if unit else None)  # fmt: skip
    units = dict(s.execute(select(Unit.id, Unit.name)).all())
    flagged_units = s.execute(
        select(Unit.code, Unit.name).where(Unit.id.in_(
            select(Response.unit_id).where(Response.campaign_id == campaign.id, Response.flags != "")
        )).order_by(Unit.code)
    ).all()  # fmt: skip
    groups = {g.id: g.name for g in campaign.groups}
    return render_template(
        "monitor/quality.html", campaign=campaign, responses=responses, total=total, units=units, groups=groups,
        flag_names=FLAG_NAMES, channel_names=CHANNEL_NAMES, show_all=show_all, flag=flag, unit=unit,
        flagged_units=flagged_units, decisions=DECISIONS, user=current_user(),
        pressure=counter_pressure(s, campaign),
    )  # fmt: skip


def _response(campaign: Campaign, response_id: int) -> Response:
    response = session().get(Response, response_id)
    if response is None or response.campaign_id != campaign.id:
        abort(404)
    return response


@bp.route("/admin/c/<key>/responses/<int:response_id>")
@staff_required()
def response_page(key: str, response_id: int):
    """One response as a reviewer needs it: its answers in words, how long it took, its flags."""
    campaign = _campaign(key)
    s = session()
    response = _response(campaign, response_id)
    questionnaire = questionnaire_of(response.questionnaire_version, response.language)
    rows = s.execute(
        select(Answer.question_id, Answer.subject_unit_id, Answer.value_code, Answer.value_num, Answer.value_text)
        .where(Answer.response_id == response.id).order_by(Answer.id)
    ).all()  # fmt: skip
    subjects = {r[1] for r in rows} | {response.unit_id}  # the units this response is about, named
    units = dict(s.execute(select(Unit.id, Unit.name).where(Unit.id.in_(subjects))).all())
    lines = answer_lines(questionnaire, rows, units)
    answered = len({(r[0], r[1]) for r in rows})
    seconds = (response.submitted_at - response.started_at).total_seconds() if response.started_at else None
    return render_template(
        "monitor/response.html", campaign=campaign, response=response, questionnaire=questionnaire, lines=lines,
        unit_name=units.get(response.unit_id, ""), group=s.get(RespondentGroup, response.group_id),
        answered=answered, seconds=seconds, duration_text=duration_text, flag_names=FLAG_NAMES,
        channel_names=CHANNEL_NAMES, decisions=DECISIONS, user=current_user(),
    )  # fmt: skip


@bp.route("/admin/c/<key>/responses/review", methods=["POST"])
@staff_required()
def review_responses(key: str):
    """Keep, exclude or restore the ticked responses with one reason."""
    campaign = _campaign(key)
    s = session()
    form = ReviewForm()
    back = safe_next(request.form.get("next", "")) or url_for("monitor.quality", key=key)
    if not form.validate():
        flash(f"Chưa lưu: {form.first_error()}", "error")
        return redirect(back)
    try:
        changed, skipped = review_many(s, campaign, form.ids.data, form.decision.data, form.note.data)
    except ReviewError as exc:
        s.rollback()
        flash(f"Chưa lưu: {exc}", "error")
        return redirect(back)
    s.commit()
    done = {"keep": "Đã giữ", "exclude": "Đã loại", "restore": "Đã khôi phục"}[form.decision.data]
    message = f"{done} {changed} phiếu."
    if skipped:
        message += f" {skipped} phiếu không đổi vì trạng thái hiện tại không cho phép (ví dụ phiếu đã loại từ trước)."
    flash(message, "ok" if changed else "error")
    return redirect(back)


@bp.route("/admin/c/<key>/responses/<int:response_id>/review", methods=["POST"])
@staff_required()
def review_response(key: str, response_id: int):
    campaign = _campaign(key)
    s = session()
    response = _response(campaign, response_id)
    try:
        review(s, response, request.form.get("decision", ""), request.form.get("note", "")[:NOTE_MAX])
    except ReviewError as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash("Đã lưu quyết định.", "ok")
    return redirect(safe_next(request.form.get("next", "")) or url_for("monitor.quality", key=key))


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
        scored = form.get("scored_channels", ScoredChannels.ALL)
        if scored not in set(ScoredChannels):
            errors.append("Cách chọn câu trả lời để tính điểm không hợp lệ.")
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
                      "check_opening_hours": campaign.check_opening_hours,
                      "scored_channels": campaign.scored_channels}  # fmt: skip
            campaign.quota_full_policy = policy
            campaign.min_seconds_per_question = seconds
            campaign.burst_limit = burst
            campaign.check_opening_hours = form.get("check_opening_hours") == "on"
            campaign.scored_channels = scored
            record(s, "campaign.settings_changed", f"campaign:{campaign.key}", before=before,
                   after={"quota_full_policy": policy, "min_seconds_per_question": seconds, "burst_limit": burst,
                          "check_opening_hours": campaign.check_opening_hours, "scored_channels": scored})  # fmt: skip
            s.commit()
            flash("Đã lưu thiết lập.", "ok")
            return redirect(url_for("monitor.settings", key=key))
    return render_template(
        "monitor/settings.html", campaign=campaign, errors=errors, user=current_user(), parse_hours=parse_hours
    ), (422 if errors else 200)


@bp.route("/admin/c/<key>/issuer", methods=["POST"])
@staff_required()
def set_issuer(key: str):
    """The authority named at the top of the citizen form, and its emblem."""
    campaign = _campaign(key)
    s = session()
    form = IssuerForm()
    back = redirect(url_for("monitor.settings", key=key), code=303)
    if not form.validate():
        flash(f"Chưa lưu: {form.issuer.errors[0] if form.issuer.errors else 'dữ liệu không hợp lệ.'}", "error")
        return back
    try:
        emblem = form.emblem_bytes()
    except ValueError as exc:
        flash(f"Chưa lưu: {exc}", "error")
        return back
    before = {"issuer": campaign.issuer, "emblem": campaign.emblem_hash}
    campaign.issuer = " ".join((form.issuer.data or "").split()) or None
    if emblem is not None:
        campaign.emblem, campaign.emblem_type = emblem
        campaign.emblem_hash = hashlib.sha256(emblem[0]).hexdigest()[:16]
    elif form.remove_emblem.data:
        campaign.emblem = campaign.emblem_type = campaign.emblem_hash = None
    record(s, "campaign.issuer_changed", f"campaign:{campaign.key}", before=before,
           after={"issuer": campaign.issuer, "emblem": campaign.emblem_hash})  # fmt: skip
    s.commit()
    flash("Đã lưu cơ quan ban hành phiếu.", "ok")
    return back


@bp.route("/admin/audit")
@staff_required()
def audit():
    s = session()
    events = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(500)).all()
    names = Names(s, [e.target for e in events])
    rows = [(e, describe_target(e.target, names), describe_details(e.details, names, _campaign_of(e.target)))
            for e in events]  # fmt: skip
    return render_template("monitor/audit.html", rows=rows, actions=ACTIONS, user=current_user())


def _campaign_of(target: str) -> str | None:
    """The campaign key a target names (``campaign:K`` or ``group:K/G``), to name its groups."""
    kind, _, ref = target.partition(":")
    return ref.partition("/")[0] if kind in ("campaign", "group") else None


@bp.route("/admin/audit.csv")
@staff_required()
def audit_csv():
    s = session()
    users = dict(s.execute(select(User.id, User.username)).all())
    names = Names(s, list(s.scalars(select(AuditEvent.target).where(AuditEvent.target.like("invitation:%")))))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Thời điểm (giờ Việt Nam)", "Người thực hiện", "Thao tác", "Đối tượng", "Chi tiết",
                     "Mã đối tượng", "Dữ liệu gốc"])  # fmt: skip
    for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        cells_ = [
            vn_datetime(e.at),
            users.get(e.user_id, "dòng lệnh"),
            ACTIONS.get(e.action, e.action),
            describe_target(e.target, names),
            describe_details(e.details, names, _campaign_of(e.target)),
            e.target,
            e.details,
        ]
        writer.writerow(["'" + c if c[:1] in "=+-@" else c for c in cells_])
    return HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="nhat-ky.csv"'},
    )  # fmt: skip
