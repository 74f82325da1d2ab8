from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from questionnaires import QuestionType

from ..auth import current_user, staff_required
from ..collect.forms import build_form_class
from ..collect.services import Outcome, paper_context, questionnaire_of, rated_units, store_response
from ..db import session
from ..lookups import group_or_404
from ..models import Campaign, Quota, RespondentGroup, Response, Role, Unit
from . import bp
from .codes import CodeError, code_table, condition_codes, translate
from .services import correct, keyed_forms, paper_response, remove, typed_of

PAPER_NUMBER_MAX = 32


def _group(key: str, group_code: str) -> tuple[Campaign, RespondentGroup]:
    return group_or_404(session(), key, group_code)


def _quota_units(group: RespondentGroup) -> list[Unit]:
    return list(
        session().scalars(
            select(Unit).join(Quota, Quota.unit_id == Unit.id).where(Quota.group_id == group.id).order_by(Unit.code)
        )
    )


def _whole(text: str, digits: int) -> bool:
    """A whole number written with ASCII digits, at most ``digits`` long ("²" and "٣" are digits to Python)."""
    return text.isascii() and text.isdigit() and len(text) <= digits


#: numbered copies printed at once, at most
MAX_COPIES = 200


@bp.route("/admin/c/<key>/g/<group_code>/paper")
@staff_required(Role.CLERK, Role.UNIT_OFFICER)
def paper_form(key: str, group_code: str):
    """The paper form to print: one blank copy, or numbered copies of one unit chosen on the page."""
    campaign, group = _group(key, group_code)
    s = session()
    # each language prints: ?lang=km gives the same form (same codes) in that language
    questionnaire = questionnaire_of(group.questionnaire_version, request.args.get("lang"))
    choices = _quota_units(group)
    unit = next((u for u in choices if u.code == request.args.get("unit")), None)
    problem = None
    copies, start = request.args.get("copies", "1").strip(), request.args.get("start", "1").strip()
    if not (_whole(copies, 3) and 1 <= int(copies) <= MAX_COPIES and _whole(start, 5) and 1 <= int(start) <= 99999):
        problem = f"Số bản phải từ 1 đến {MAX_COPIES}, số bắt đầu từ 1 đến 99999; đang hiện một phiếu trống."
        copies, start = "1", "1"
    if request.args.get("unit") and unit is None:
        problem = "Không có đơn vị này trong chỉ tiêu của nhóm; đang hiện phiếu không ghi đơn vị."
    numbered = "copies" in request.args and problem is None
    first = int(start)
    numbers = (
        [f"{unit.code if unit else group.code}-{n:04d}" for n in range(first, first + int(copies))]
        if numbered else [None]
    )  # fmt: skip
    return render_template(
        "paper/form.html",
        campaign=campaign,
        group=group,
        questionnaire=questionnaire,
        units=rated_units(s, group, campaign, questionnaire),
        unit=unit,
        unit_choices=choices,
        numbers=numbers,
        copies=copies,
        start=start,
        max_copies=MAX_COPIES,
        problem=problem,
        code_table=code_table,
        condition_codes=condition_codes,
        QuestionType=QuestionType,
    )


@bp.route("/admin/c/<key>/g/<group_code>/entry", methods=["GET", "POST"])
@staff_required(Role.CLERK)
def entry(key: str, group_code: str):
    """Key in a paper form, or correct one keyed before (``edit``: its response number)."""
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
    editing = _editable(s, group, unit, request.values.get("edit"))
    typed: dict[str, str] = typed_of(s, editing, form_class.entries) if editing is not None else {}
    paper_number = editing.paper_number if editing is not None else ""
    code_errors: dict[str, str] = {}
    form = None
    status = 200
    if request.method == "POST":
        paper_number = request.form.get("paper_number", "").strip()
        values = MultiDict()
        for e in form_class.entries:
            typed[e.name] = request.form.get(e.name, "")[:2000]
            try:
                for value in translate(e.question, typed[e.name]):
                    values.add(e.name, value)
            except CodeError as exc:
                code_errors[e.name] = str(exc)
        if not paper_number or len(paper_number) > PAPER_NUMBER_MAX:
            code_errors["paper_number"] = f"Vui lòng nhập số phiếu (tối đa {PAPER_NUMBER_MAX} ký tự)."
        form = form_class(formdata=values)
        valid = form.validate()
        if not code_errors and valid and editing is not None:
            if paper_number != editing.paper_number and _number_taken(s, campaign, paper_number):
                code_errors["paper_number"] = f"Phiếu số “{paper_number}” đã được nhập trước đó."
            else:
                correct(s, editing, form.answer_rows(unit.id), paper_number)
                s.commit()
                flash(f"Đã sửa phiếu số {paper_number}.", "ok")
                return redirect(url_for("paper.entry", key=key, group_code=group_code, unit=unit.code), code=303)
        elif not code_errors and valid:
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
            paper_number=paper_number,
            code_table=code_table,
            editing=editing,
            keyed=keyed_forms(s, group, unit),
            may_change=_may_change,
            user=current_user(),
        ),
        status,
    )


def _may_change(response: Response) -> bool:
    """Administrators correct or delete any keyed form; a clerk those they keyed themselves."""
    user = current_user()
    return user.role == Role.ADMIN or response.entered_by_id == user.id


def _editable(s, group: RespondentGroup, unit: Unit, ref: str | None) -> Response | None:
    if not ref:
        return None
    response = paper_response(s, group, int(ref)) if _whole(ref, 18) else None
    if response is None or response.unit_id != unit.id:
        abort(404)
    if not _may_change(response):
        abort(403)
    return response


def _number_taken(s, campaign: Campaign, number: str) -> bool:
    return s.scalar(select(Response.id).where(Response.campaign_id == campaign.id,
                                              Response.paper_number == number)) is not None  # fmt: skip


@bp.route("/admin/c/<key>/g/<group_code>/entry/<int:response_id>/delete", methods=["POST"])
@staff_required(Role.CLERK)
def delete_keyed(key: str, group_code: str, response_id: int):
    """Delete a keyed form (keyed twice, for the wrong unit …) with a reason; audited."""
    _campaign, group = _group(key, group_code)
    s = session()
    response = paper_response(s, group, response_id)
    if response is None:
        abort(404)
    if not _may_change(response):
        abort(403)
    unit_code = s.get(Unit, response.unit_id).code
    note = request.form.get("note", "").strip()
    back = url_for("paper.entry", key=key, group_code=group_code, unit=unit_code)
    if not note or len(note) > 500:
        flash("Chưa xoá: vui lòng ghi lý do xoá (tối đa 500 ký tự).", "error")
        return redirect(back, code=303)
    number = response.paper_number
    remove(s, response, note)
    s.commit()
    flash(f"Đã xoá phiếu số {number}.", "ok")
    return redirect(back, code=303)
