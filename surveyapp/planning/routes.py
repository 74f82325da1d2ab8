from __future__ import annotations

import io
from pathlib import Path

from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import InputRequired

import sampling
from sampling import SamplingError, build_plan, load_plan_text
from sampling.export import SummaryRow, draw_xlsx, plan_summary_xlsx
from sampling.frames import draw, read_frame

from ..audit import record
from ..auth import current_user, staff_required
from ..db import session
from ..lookups import campaign_or_404
from ..messages import VietnameseTranslations
from ..models import Campaign, FrameDraw, Quota, RespondentGroup, Role, Unit
from . import bp, plan_form
from .services import apply_plan, plan_units, record_draw, summary_rows

EXAMPLE_PLAN = Path(sampling.__file__).parent / "examples" / "ninh_giang_2023.yaml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PlanForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return VietnameseTranslations()

    plan_text = TextAreaField("Kế hoạch mẫu (YAML)", validators=[InputRequired("Vui lòng nhập kế hoạch mẫu.")])


def _campaign(key: str) -> Campaign:
    return campaign_or_404(session(), key)


def _group_totals(rows: list[SummaryRow]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.group_name] = totals.get(r.group_name, 0) + r.quota
    return totals


@bp.route("/admin/c/<key>/plan", methods=["GET", "POST"])
@staff_required(Role.SCORER)
def plan(key: str):
    c = _campaign(key)
    s = session()
    form = PlanForm()
    units = plan_units(s, c)
    kinds = sorted({u.kind for u in units if u.code != c.scope_unit.code})
    preview, error, status, field_errors = None, None, 200, {}
    values = plan_form.view(c.sampling_plan)
    text = None
    if request.method == "POST":
        if current_user().role != Role.ADMIN:
            abort(403)
        if request.form.get("action") == "form_preview":
            data, field_errors = plan_form.parse(request.form, [g.code for g in c.groups], kinds)
            values = plan_form.view(plan_form.to_text(data))
            if field_errors:
                error, status = "Một số ô chưa đúng: xem các ô đánh dấu đỏ.", 422
            elif not data["groups"]:
                error, status = "Hãy chọn cách lập chỉ tiêu cho ít nhất một nhóm đối tượng.", 422
            else:
                text = form.plan_text.data = plan_form.to_text(data)
        elif form.validate_on_submit():
            text = form.plan_text.data
        else:
            status = 422
        if text:
            try:
                built = build_plan(load_plan_text(text, "kế hoạch"), units, "kế hoạch")
                if request.form.get("action") == "apply":
                    cells = apply_plan(s, c, built)
                    c.sampling_plan = text
                    record(s, "campaign.plan_applied", f"campaign:{c.key}", cells=cells, total=built.total,
                           groups=built.totals_by_group(), plan=text)  # fmt: skip
                    s.commit()
                    flash(f"Đã áp dụng kế hoạch: {cells} ô chỉ tiêu, tổng {built.total} phiếu.")
                    return redirect(url_for("planning.plan", key=key))
                names = {g.code: g.name for g in c.groups}
                unit_names = {u.code: u.name for u in units}
                preview = [
                    SummaryRow(names.get(cell.group, cell.group), cell.unit_code, unit_names.get(cell.unit_code, ""),
                               cell.quota, cell.margin)
                    for cell in built.cells
                ]  # fmt: skip
            except SamplingError as exc:
                s.rollback()
                error, status = str(exc), 422
    rows = summary_rows(s, c)
    return (
        render_template(
            "planning/plan.html",
            campaign=c,
            rows=rows,
            totals=_group_totals(rows),
            preview=preview,
            preview_totals=_group_totals(preview or []),
            form=form,
            error=error,
            example=c.sampling_plan or EXAMPLE_PLAN.read_text(encoding="utf-8"),
            values=values,
            field_errors=field_errors,
            methods=plan_form.METHOD_NAMES,
            confidence=plan_form.CONFIDENCE,
            kinds=kinds,
            parents=[u for u in units if any(v.parent_code == u.code for v in units)],
            units=units,
            user=current_user(),
        ),
        status,
    )


@bp.route("/admin/c/<key>/plan.xlsx")
@staff_required(Role.SCORER)
def plan_xlsx(key: str):
    c = _campaign(key)
    data = plan_summary_xlsx(f"Kế hoạch mẫu: {c.name}", summary_rows(session(), c))
    return HttpResponse(
        data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="ke-hoach-mau-{c.key}.xlsx"'}
    )


@bp.route("/admin/c/<key>/ho-so-chon-mau.<fmt>")
@staff_required(Role.SCORER)
def dossier_file(key: str, fmt: str):
    """The methodology dossier (planning/dossier.py) as Word or PDF."""
    from ..documents import to_docx, to_pdf
    from .dossier import blocks

    if fmt not in ("docx", "pdf"):
        abort(404)
    c = _campaign(key)
    content = blocks(session(), c)
    if fmt == "pdf":
        data, mimetype = to_pdf(content, f"Hồ sơ chọn mẫu · {c.name}"), "application/pdf"
    else:
        out = io.BytesIO()
        to_docx(content).save(out)
        data = out.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    name = f"ho-so-chon-mau-{c.key}.{fmt}"
    return HttpResponse(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/admin/c/<key>/draws", methods=["GET", "POST"])
@staff_required()
def draws(key: str):
    """Draw respondents at random from a unit's list (the file never stays on the server)."""
    c = _campaign(key)
    s = session()
    error = None
    if request.method == "POST":
        group = next((g for g in c.groups if g.code == request.form.get("group")), None)
        unit = s.scalar(select(Unit).where(Unit.code == request.form.get("unit", "")))
        upload = request.files.get("frame")
        try:
            if group is None or unit is None:
                raise SamplingError("Vui lòng chọn nhóm đối tượng và đơn vị.")
            if upload is None or not upload.filename:
                raise SamplingError("Vui lòng chọn tệp danh sách (CSV hoặc Excel) của đơn vị.")
            size_text = request.form.get("n", "").strip()
            quota = s.scalar(select(Quota.target).where(Quota.group_id == group.id, Quota.unit_id == unit.id))
            n = int(size_text) if size_text else (quota or 0)
            reserve = int(request.form.get("reserve", "").strip() or round(n * 0.2))
            seed_text = request.form.get("seed", "").strip()
            seed = int(seed_text) if seed_text else None
            method = request.form.get("method", "simple")
            frame = read_frame(upload.read(), upload.filename)
            result = draw(len(frame), n, reserve, method, seed)
        except ValueError as exc:
            error = (
                str(exc) if isinstance(exc, SamplingError) else "Số người, số dự phòng và hạt giống phải là số nguyên."
            )
        else:
            record_draw(s, c, group, unit, frame, result)
            record(s, "frame.drawn", f"campaign:{c.key}", group=group.code, unit=unit.code, seed=result.seed,
                   n=len(result.selected), reserve=len(result.reserve), frame_sha256=frame.sha256)  # fmt: skip
            s.commit()
            data = draw_xlsx(frame, result, unit.name, group.name)
            name = f"danh-sach-{c.key}-{group.code}-{unit.code}-seed{result.seed}.xlsx"
            return HttpResponse(data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
    past = s.execute(
        select(FrameDraw, Unit.name, RespondentGroup.name)
        .join(Unit, FrameDraw.unit_id == Unit.id)
        .join(RespondentGroup, FrameDraw.group_id == RespondentGroup.id)
        .where(FrameDraw.campaign_id == c.id)
        .order_by(FrameDraw.id.desc())
    ).all()
    units = [u for u in plan_units(s, c) if u.code != c.scope_unit.code]
    return (
        render_template("planning/draws.html", campaign=c, past=past, units=units, error=error, user=current_user()),
        422 if error else 200,
    )
