from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from questionnaires import QuestionType

from ..auth import current_user, staff_required
from ..campaigns.services import group_or_404
from ..collect.forms import build_form_class
from ..collect.services import Outcome, paper_context, questionnaire_of, rated_units, store_response
from ..db import session
from ..models import Campaign, Quota, RespondentGroup, Role, Unit
from . import bp
from .codes import CodeError, code_table, condition_codes, translate

PAPER_NUMBER_MAX = 32


def _group(key: str, group_code: str) -> tuple[Campaign, RespondentGroup]:
    return group_or_404(session(), key, group_code)


def _quota_units(group: RespondentGroup) -> list[Unit]:
    return list(
        session().scalars(
            select(Unit).join(Quota, Quota.unit_id == Unit.id).where(Quota.group_id == group.id).order_by(Unit.code)
        )
    )


@bp.route("/admin/c/<key>/g/<group_code>/paper")
@staff_required(Role.CLERK, Role.UNIT_OFFICER)
def paper_form(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    s = session()
    # each language prints: ?lang=km gives the same form (same codes) in that language
    questionnaire = questionnaire_of(group.questionnaire_version, request.args.get("lang"))
    unit = s.scalar(select(Unit).where(Unit.code == request.args.get("unit", ""))) if request.args.get("unit") else None
    try:
        copies = max(1, min(int(request.args.get("copies", 1)), 200))
        start = max(1, int(request.args.get("start", 1)))
    except ValueError:
        abort(400)
    numbered = "copies" in request.args
    numbers = (
        [f"{unit.code if unit else group.code}-{n:04d}" for n in range(start, start + copies)] if numbered else [None]
    )
    return render_template(
        "paper/form.html",
        campaign=campaign,
        group=group,
        questionnaire=questionnaire,
        units=rated_units(s, group, campaign, questionnaire),
        unit=unit,
        numbers=numbers,
        code_table=code_table,
        condition_codes=condition_codes,
        QuestionType=QuestionType,
    )


@bp.route("/admin/c/<key>/g/<group_code>/entry", methods=["GET", "POST"])
@staff_required(Role.CLERK)
def entry(key: str, group_code: str):
    campaign, group = _group(key, group_code)
    s = session()
    units = _quota_units(group)
    unit = next((u for u in units if u.code == request.values.get("unit")), None)
    if unit is None:
        return render_template("paper/choose.html", campaign=campaign, group=group, units=units, user=current_user())
    ctx = paper_context(group, unit)
    questionnaire = ctx.questionnaire
    rated = rated_units(s, group, campaign, questionnaire)
    form_class = build_form_class(questionnaire, rated)
    typed: dict[str, str] = {}
    code_errors: dict[str, str] = {}
    form = None
    status = 200
    if request.method == "POST":
        paper_number = request.form.get("paper_number", "").strip()
        values = MultiDict()
        for e in form_class.entries:
            typed[e.name] = request.form.get(e.name, "")
            try:
                for value in translate(e.question, typed[e.name]):
                    values.add(e.name, value)
            except CodeError as exc:
                code_errors[e.name] = str(exc)
        if not paper_number or len(paper_number) > PAPER_NUMBER_MAX:
            code_errors["paper_number"] = f"Vui lòng nhập số phiếu (tối đa {PAPER_NUMBER_MAX} ký tự)."
        form = form_class(formdata=values)
        valid = form.validate()
        if not code_errors and valid:
            outcome = store_response(
                s, ctx, str(uuid.uuid4()), None, form.answer_rows(unit.id), paper_number=paper_number,
                entered_by_id=current_user().id, accept_over_quota=True,
            )  # fmt: skip
            if outcome is Outcome.STORED:
                s.commit()
                flash(f"Đã lưu phiếu số {paper_number}.", "ok")
                return redirect(url_for("paper.entry", key=key, group_code=group_code, unit=unit.code), code=303)
            code_errors["paper_number"] = f"Phiếu số “{paper_number}” đã được nhập trước đó."
        status = 422
    return (
        render_template(
            "paper/entry.html",
            campaign=campaign,
            group=group,
            unit=unit,
            questionnaire=questionnaire,
            entries=form_class.entries,
            form=form,
            typed=typed,
            code_errors=code_errors,
            paper_number=request.form.get("paper_number", ""),
            code_table=code_table,
            user=current_user(),
        ),
        status,
    )
