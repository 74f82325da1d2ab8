from __future__ import annotations

from pathlib import Path

from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired

import sampling
from sampling import SamplingError, build_plan, load_plan_text
from sampling.export import SummaryRow, plan_summary_xlsx

from ..audit import record
from ..auth import current_user, staff_required
from ..campaigns.services import campaign_or_404
from ..db import session
from ..messages import VietnameseTranslations
from ..models import Campaign, Role
from . import bp
from .services import apply_plan, plan_units, summary_rows

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
    preview, error, status = None, None, 200
    if request.method == "POST":
        if current_user().role != Role.ADMIN:
            abort(403)
        if form.validate_on_submit():
            try:
                built = build_plan(load_plan_text(form.plan_text.data, "kế hoạch"), plan_units(s, c), "kế hoạch")
                if request.form.get("action") == "apply":
                    cells = apply_plan(s, c, built)
                    record(s, "campaign.plan_applied", f"campaign:{c.key}", cells=cells, total=built.total,
                           groups=built.totals_by_group())  # fmt: skip
                    s.commit()
                    flash(f"Đã áp dụng kế hoạch: {cells} ô chỉ tiêu, tổng {built.total} phiếu.")
                    return redirect(url_for("planning.plan", key=key))
                names = {g.code: g.name for g in c.groups}
                units = {u.code: u.name for u in plan_units(s, c)}
                preview = [
                    SummaryRow(names.get(cell.group, cell.group), cell.unit_code, units.get(cell.unit_code, ""),
                               cell.quota, cell.margin)
                    for cell in built.cells
                ]  # fmt: skip
            except SamplingError as exc:
                s.rollback()
                error, status = str(exc), 422
        else:
            status = 422
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
            example=EXAMPLE_PLAN.read_text(encoding="utf-8"),
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
