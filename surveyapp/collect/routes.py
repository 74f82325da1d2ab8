from __future__ import annotations

from flask import current_app, render_template, request

from ..db import session
from ..models import CampaignStatus, Channel
from ..web import fail, notice
from . import bp
from .forms import build_form_class
from .services import (
    Outcome,
    campaign_accepts,
    new_submission_token,
    quota_is_full,
    rated_units,
    read_submission_token,
    resolve_point,
    store_response,
)

ALWAYS_ALLOWED_FIELDS = {"csrf_token", "submission_id"}


def _context(code: str):
    s = session()
    ctx = resolve_point(s, code)
    if ctx is None:
        fail("point_unknown", 404)
    if not ctx.point.active:
        fail("point_inactive", 410)
    refusal = campaign_accepts(ctx.campaign)
    if refusal:
        fail(refusal, 410 if ctx.campaign.status == CampaignStatus.CLOSED else 403)
    return s, ctx


@bp.route("/f/<code>", methods=["GET", "POST"])
def answer(code: str):
    s, ctx = _context(code)
    questionnaire = ctx.questionnaire
    units = rated_units(s, ctx.group, ctx.campaign, questionnaire)
    form_class = build_form_class(questionnaire, units)
    secret = current_app.config["SECRET_KEY"]

    if request.method == "GET":
        if quota_is_full(s, ctx.campaign, ctx.group.id, ctx.unit.id):
            return notice("quota_full", 200)
        form = form_class(formdata=None)
        form.submission_id.data = new_submission_token(secret)
        return _render(ctx, questionnaire, units, form, 200)

    known = {entry.name for entry in form_class.entries} | ALWAYS_ALLOWED_FIELDS
    if set(request.form) - known:
        fail("unknown_fields", 400)
    token = read_submission_token(secret, request.form.get("submission_id", ""))
    if token is None:
        fail("bad_submission", 400)
    submission_id, shown_at = token

    form = form_class()
    if not form.validate():
        return _render(ctx, questionnaire, units, form, 422)

    outcome = store_response(s, ctx, submission_id, shown_at, form.answer_rows(ctx.unit.id), Channel.COUNTER)
    if outcome is Outcome.STORED:
        s.commit()
    if outcome in (Outcome.STORED, Outcome.REPLAYED):
        return render_template("collect/thanks.html", ctx=ctx, code=code, submission_id=submission_id), 200
    if outcome is Outcome.QUOTA_FULL:
        return notice("quota_full", 409)
    return notice("submission_conflict", 409)


def _render(ctx, questionnaire, units, form, status: int):
    return (
        render_template(
            "collect/form.html",
            ctx=ctx,
            questionnaire=questionnaire,
            units=units,
            form=form,
            errors=getattr(form, "error_count", 0),
        ),
        status,
    )
