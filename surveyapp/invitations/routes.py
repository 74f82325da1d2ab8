from __future__ import annotations

from collections import Counter

from flask import Response as HttpResponse
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import qr
from ..audit import record
from ..auth import current_user, staff_required
from ..campaigns.services import progress
from ..db import session
from ..lookups import group_or_404
from ..messaging import services as sending  # (a module: the two areas import each other)
from ..messaging.channels import configured
from ..models import Campaign, CounterAccess, GroupMode, Invitation, RespondentGroup, Role, Slip, Unit, too_long
from . import bp
from .services import (
    ImportError_,
    Person,
    add_invitations,
    campaign_units,
    group_invitations,
    invitation_url,
    links_csv,
    links_xlsx,
    make_slips,
    parse_people,
    reissue,
    revoke,
    slip_url,
    status_text,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _group(key: str, group_code: str) -> tuple[Campaign, RespondentGroup]:
    return group_or_404(session(), key, group_code)


def _own_unit_only(unit: Unit) -> None:
    """Unit officers print slips for their own unit only."""
    user = current_user()
    if user.role == Role.UNIT_OFFICER and user.unit_id != unit.id:
        abort(403)


def _download(data: bytes, mimetype: str, filename: str) -> HttpResponse:
    return HttpResponse(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/admin/c/<key>/g/<group_code>/")
@staff_required()
def group_page(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    s = session()
    invitations = group_invitations(s, group) if group.mode == GroupMode.INVITATION else []
    answered = sum(1 for i in invitations if i.answered)
    delivery = sending.deliveries(s, group, invitations) if invitations else {}
    stage_counts = Counter(d.stage for d in delivery.values())
    shown_stage = request.args.get("tinh-trang")
    listed = (
        [i for i in invitations if delivery[i.id].stage == shown_stage]
        if shown_stage in sending.STAGES
        else invitations
    )
    # the same figures as the campaign page and the dashboard: valid responses against the quotas
    quota = [row for row in progress(s, campaign) if row.group_code == group.code]
    batches = s.execute(
        select(Unit.code, Unit.name, Slip.batch, Slip.used)
        .join(Unit, Slip.unit_id == Unit.id)
        .where(Slip.group_id == group.id)
        .order_by(Unit.code, Slip.batch)
    ).all()
    slip_batches: dict[tuple[str, str, int], list[int]] = {}
    for code, name, batch, used in batches:
        counts = slip_batches.setdefault((code, name, batch), [0, 0])
        counts[0] += 1
        counts[1] += int(used)
    return render_template(
        "invitations/group.html",
        campaign=campaign,
        group=group,
        invitations=invitations,
        listed=listed,
        delivery=delivery,
        stages=sending.STAGES,
        stage_counts=stage_counts,
        shown_stage=shown_stage,
        channels_ready=configured(current_app.config),
        answered=answered,
        target=sum(row.target for row in quota),
        received=sum(row.received for row in quota),
        status_text=status_text,
        units=campaign_units(s, campaign),
        slip_batches=slip_batches,
        access_choices=[
            (CounterAccess.POSTER, "Chỉ mã QR dán tại quầy"),
            (CounterAccess.SLIPS, "Chỉ phiếu QR dùng một lần"),
            (CounterAccess.BOTH, "Cả hai"),
        ],  # fmt: skip
        user=current_user(),
    )


@bp.route("/admin/c/<key>/g/<group_code>/mau-danh-sach-moi.xlsx")
@staff_required()
def list_template(key: str, group_code: str):
    import io

    from flask import send_file

    from ..setup.units import template_xlsx

    campaign, group = _group(key, group_code)
    rows = [("Nguyễn Văn An", "Đại biểu HĐND", campaign.scope_unit.code, "0912345678", "an@example.gov.vn")]
    data = template_xlsx(("Họ tên", "Chức vụ", "Đơn vị", "Điện thoại", "Email"), rows, f"Danh sách mời: {group.name}")
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"mau-danh-sach-moi-{group.code}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip


@bp.route("/admin/c/<key>/g/<group_code>/import", methods=["POST"])
@staff_required()
def import_list(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    upload = request.files.get("list")
    if upload is None or not upload.filename:
        flash("Vui lòng chọn tệp danh sách (CSV hoặc Excel).", "error")
        return redirect(url_for("invitations.group_page", key=key, group_code=group_code))
    s = session()
    try:
        people = parse_people(s, campaign, group, upload.read(), upload.filename)
    except ImportError_ as exc:
        return _group_page_with_problems(key, group_code, exc.problems)
    add_invitations(s, group, people)
    record(s, "invitations.imported", f"group:{campaign.key}/{group.code}", people=len(people), file=upload.filename)
    s.commit()
    flash(f"Đã thêm {len(people)} người vào danh sách mời.", "ok")
    return redirect(url_for("invitations.group_page", key=key, group_code=group_code))


def _group_page_with_problems(key: str, group_code: str, problems: list[str]):
    flash("Chưa nhập người nào vì danh sách có lỗi:", "error")
    for problem in problems[:50]:
        flash(problem, "error")
    if len(problems) > 50:
        flash(f"… và {len(problems) - 50} lỗi khác.", "error")
    return redirect(url_for("invitations.group_page", key=key, group_code=group_code))


@bp.route("/admin/c/<key>/g/<group_code>/add", methods=["POST"])
@staff_required()
def add_person(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    s = session()
    name = " ".join(request.form.get("full_name", "").split())
    unit = s.scalar(select(Unit).where(Unit.code == request.form.get("unit", "")))
    if not name or unit is None or unit.id not in {u.id for u in campaign_units(s, campaign)}:
        flash("Vui lòng nhập họ tên và chọn đơn vị.", "error")
        return redirect(url_for("invitations.group_page", key=key, group_code=group_code))
    duplicate = s.scalar(
        select(Invitation.id).where(
            Invitation.group_id == group.id, Invitation.unit_id == unit.id, Invitation.full_name == name
        )
    )
    if duplicate:
        flash(f"“{name}” ({unit.name}) đã có trong danh sách mời.", "error")
        return redirect(url_for("invitations.group_page", key=key, group_code=group_code))
    person = Person(name, request.form.get("position", "").strip(), unit, request.form.get("phone", "").strip(),
                    request.form.get("email", "").strip())  # fmt: skip
    longs = too_long(Invitation, full_name=person.full_name, position=person.position, phone=person.phone,
                     email=person.email)  # fmt: skip
    if longs:
        flash(f"Chưa thêm: {'; '.join(longs)}.", "error")
        return redirect(url_for("invitations.group_page", key=key, group_code=group_code))
    add_invitations(s, group, [person])
    record(s, "invitation.added", f"group:{campaign.key}/{group.code}", unit=unit.code)
    s.commit()
    flash(f"Đã thêm “{name}”.", "ok")
    return redirect(url_for("invitations.group_page", key=key, group_code=group_code))


def _invitation(key: str, invitation_id: int) -> Invitation:
    invitation = session().get(Invitation, invitation_id)
    if invitation is None or invitation.group.campaign.key != key:
        abort(404)
    return invitation


@bp.route("/admin/c/<key>/inv/<int:invitation_id>/revoke", methods=["POST"])
@staff_required()
def revoke_link(key: str, invitation_id: int):
    invitation = _invitation(key, invitation_id)
    revoke(session(), invitation)
    record(session(), "invitation.revoked", f"invitation:{invitation.id}")
    session().commit()
    flash(f"Đã thu hồi đường dẫn của “{invitation.full_name}”.", "ok")
    return redirect(url_for("invitations.group_page", key=key, group_code=invitation.group.code))


@bp.route("/admin/c/<key>/inv/<int:invitation_id>/reissue", methods=["POST"])
@staff_required()
def reissue_link(key: str, invitation_id: int):
    invitation = _invitation(key, invitation_id)
    try:
        reissue(session(), invitation)
    except ValueError as exc:
        flash(str(exc), "error")
    else:
        record(session(), "invitation.reissued", f"invitation:{invitation.id}")
        session().commit()
        flash(f"Đã cấp đường dẫn mới cho “{invitation.full_name}”; đường dẫn cũ không dùng được nữa.", "ok")
    return redirect(url_for("invitations.group_page", key=key, group_code=invitation.group.code))


@bp.route("/admin/c/<key>/g/<group_code>/links.<fmt>")
@staff_required()
def links(key: str, group_code: str, fmt: str):
    campaign, group = _group(key, group_code)
    invitations = group_invitations(session(), group)
    if request.args.get("only") == "pending":
        invitations = [i for i in invitations if not i.answered and not i.revoked]
    stages = {
        i: (d.text, sending.last_sent_words(d)) for i, d in sending.deliveries(session(), group, invitations).items()
    }
    name = f"{'nhac-nho' if request.args.get('only') else 'duong-dan'}-{campaign.key}-{group.code}"
    if fmt == "csv":
        return _download(links_csv(invitations, stages), "text/csv", f"{name}.csv")
    if fmt == "xlsx":
        return _download(links_xlsx(f"{campaign.name} — {group.name}", invitations, stages), XLSX, f"{name}.xlsx")
    abort(404)


@bp.route("/admin/c/<key>/g/<group_code>/qr-slips")
@staff_required()
def invitation_slips(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    invitations = [i for i in group_invitations(session(), group) if not i.answered and not i.revoked]
    cards = [
        {"title": i.full_name, "subtitle": " · ".join(x for x in (i.position, i.unit.name) if x),
         "qr": url_for("invitations.qr_invitation", code=i.code), "url": invitation_url(i.code)}
        for i in invitations
    ]  # fmt: skip
    return render_template(
        "invitations/slips.html", campaign=campaign, group=group, cards=cards, personal=True,
        heading="Phiếu mời trả lời khảo sát",
    )  # fmt: skip


@bp.route("/admin/c/<key>/g/<group_code>/access", methods=["POST"])
@staff_required()
def set_access(key: str, group_code: str):
    _campaign, group = _group(key, group_code)
    choice = request.form.get("counter_access")
    if group.mode != GroupMode.COUNTER or choice not in set(CounterAccess):
        abort(400)
    record(session(), "group.access_changed", f"group:{group.campaign.key}/{group.code}",
           before=group.counter_access, after=choice)  # fmt: skip
    group.counter_access = choice
    session().commit()
    flash("Đã lưu cách người dân trả lời.", "ok")
    return redirect(url_for("invitations.group_page", key=key, group_code=group_code))


@bp.route("/admin/c/<key>/g/<group_code>/slips", methods=["POST"])
@staff_required(Role.UNIT_OFFICER)
def new_slips(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    s = session()
    unit = s.scalar(select(Unit).where(Unit.code == request.form.get("unit", "")))
    try:
        count = int(request.form.get("count", "0"))
    except ValueError:
        count = 0
    if group.mode != GroupMode.COUNTER or unit is None or unit.id not in {u.id for u in campaign_units(s, campaign)}:
        abort(400)
    _own_unit_only(unit)
    if group.counter_access == CounterAccess.POSTER:
        return _slips_refused(key, group_code)
    try:
        slips = make_slips(s, group, unit, count)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("invitations.group_page", key=key, group_code=group_code))
    record(s, "slips.created", f"group:{campaign.key}/{group.code}", unit=unit.code, count=count,
           batch=slips[0].batch)  # fmt: skip
    s.commit()
    return redirect(
        url_for("invitations.print_slips", key=key, group_code=group_code, unit_code=unit.code, batch=slips[0].batch)
    )


@bp.route("/admin/c/<key>/g/<group_code>/slips/<unit_code>/<int:batch>")
@staff_required(Role.UNIT_OFFICER)
def print_slips(key: str, group_code: str, unit_code: str, batch: int):
    campaign, group = _group(key, group_code)
    s = session()
    slips = s.scalars(
        select(Slip)
        .join(Unit, Slip.unit_id == Unit.id)
        .where(Slip.group_id == group.id, Unit.code == unit_code, Slip.batch == batch)
        .order_by(Slip.id)
    ).all()
    if not slips:
        abort(404)
    _own_unit_only(slips[0].unit)
    if group.counter_access == CounterAccess.POSTER:
        return _slips_refused(key, group_code)
    cards = [
        {"title": slip.unit.name, "subtitle": f"Đợt in {batch} · phiếu {n}/{len(slips)}",
         "qr": url_for("invitations.qr_slip", code=slip.code), "url": slip_url(slip.code)}
        for n, slip in enumerate(slips, start=1)
    ]  # fmt: skip
    return render_template(
        "invitations/slips.html", campaign=campaign, group=group, cards=cards, personal=False,
        heading="Mời ông/bà cho ý kiến về việc giải quyết thủ tục hành chính",
    )  # fmt: skip


def _slips_refused(key: str, group_code: str):
    """Slips would turn citizens away while the group takes the poster only: say so, print none."""
    flash("Nhóm này đang chỉ nhận trả lời qua mã QR dán tại quầy: phiếu QR dùng một lần sẽ bị từ chối khi quét. "
          "Hãy chọn “Chỉ phiếu QR dùng một lần” hoặc “Cả hai” trước khi tạo hoặc in phiếu.", "error")  # fmt: skip
    if current_user().role == Role.ADMIN:
        return redirect(url_for("invitations.group_page", key=key, group_code=group_code), code=303)
    return redirect(url_for("campaigns.index"), code=303)


@bp.route("/qr/i/<code>.svg")
@staff_required()
def qr_invitation(code: str):
    if session().scalar(select(Invitation.id).where(Invitation.code == code)) is None:
        abort(404)
    return HttpResponse(qr.svg(invitation_url(code)), mimetype="image/svg+xml")


@bp.route("/qr/s/<code>.svg")
@staff_required(Role.UNIT_OFFICER)
def qr_slip(code: str):
    if session().scalar(select(Slip.id).where(Slip.code == code)) is None:
        abort(404)
    return HttpResponse(qr.svg(slip_url(code)), mimetype="image/svg+xml")


DOSSIER_ALIASES = ("mã hồ sơ", "ma ho so", "số hồ sơ", "so ho so", "mã", "dossier")


@bp.route("/admin/c/<key>/g/<group_code>/ho-so", methods=["GET", "POST"])
@staff_required()
def dossiers_page(key: str, group_code: str):
    """One answer per dossier: ask the receipt's code on the form; match a unit's list of dossiers
    for coverage (the list is read in memory, never stored); destroy the key after closing."""
    from sampling.errors import FrameError
    from sampling.frames import find_column, read_table

    from ..collect import dossier as dossiers

    campaign, group = _group(key, group_code)
    s = session()
    found = None
    if request.method == "POST":
        intent = request.form.get("intent")
        if intent in ("on", "off"):
            dossiers.enable(s, group, intent == "on")
            record(
                s, "dossiers.asked" if intent == "on" else "dossiers.not_asked", f"group:{campaign.key}/{group.code}"
            )
            s.commit()
            said = "Phiếu sẽ hỏi mã hồ sơ: mỗi hồ sơ một phiếu." if intent == "on" else "Phiếu không hỏi mã hồ sơ nữa."
            flash(said, "ok")
            return redirect(url_for("invitations.dossiers_page", key=key, group_code=group_code), 303)
        if intent == "destroy":
            if not dossiers.destroy_key(s, campaign):
                flash("Chỉ huỷ được khoá khi đợt khảo sát đã đóng.", "error")
            else:
                record(s, "dossiers.key_destroyed", f"campaign:{campaign.key}")
                s.commit()
                flash("Đã huỷ khoá mã hồ sơ: từ nay không ai đối chiếu được phiếu với hồ sơ.", "ok")
            return redirect(url_for("invitations.dossiers_page", key=key, group_code=group_code), 303)
        upload = request.files.get("list")
        if intent == "coverage" and upload is not None and upload.filename:
            try:
                rows = read_table(upload.read(), upload.filename, 5 * 1024 * 1024)
                at = find_column([h.strip() for h in rows[0]], None, DOSSIER_ALIASES, "mã hồ sơ", upload.filename)
                codes = [r[at] if at < len(r) else "" for r in rows[1:]]
                listed, answered, unreadable = dossiers.coverage(s, campaign, group, codes)
                found = {"file": upload.filename, "listed": listed, "answered": answered, "unreadable": unreadable}
            except FrameError as exc:
                flash(str(exc), "error")
        else:
            flash("Vui lòng chọn tệp danh sách hồ sơ (CSV hoặc Excel) có cột “Mã hồ sơ”.", "error")
    from ..campaigns.services import form_url
    from ..models import CollectionPoint

    points = s.execute(
        select(Unit.name, CollectionPoint.code).join(Unit, CollectionPoint.unit_id == Unit.id)
        .where(CollectionPoint.group_id == group.id, CollectionPoint.active).order_by(Unit.name)
    ).all()  # fmt: skip
    receipts = [(name, f"{form_url(code)}#{dossiers.RECEIPT_KEY}=") for name, code in points]
    return render_template("invitations/dossiers.html", campaign=campaign, group=group, found=found,
                           destroyed=campaign.dossier_key_destroyed_at, receipts=receipts)  # fmt: skip
