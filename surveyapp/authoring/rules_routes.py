"""The scoring rules page: the rules as a form, a preview of every unit's points under the new
rules beside the current ones, versions, and a warning before changing an open or closed campaign."""

from __future__ import annotations

import re

import yaml
from flask import flash, redirect, render_template, request, url_for

from questionnaires import QuestionType
from questionnaires.scoring import RulesError, load_rules_text
from questionnaires.scoring.rules import CHANNELS

from ..auth import current_user, staff_required
from ..collect.quality import CHANNEL_NAMES
from ..db import session
from ..lookups import campaign_or_404
from ..models import CampaignStatus
from ..results.services import NoRules, compute, questionnaires
from ..setup.campaigns import rules_versions, set_rules
from . import bp
from . import rules_form as rf

WHERE = re.compile(r"tiêu chí “([^”]+)”")


def _groups(campaign) -> list[dict]:
    """Each group with the scale questions and aspects its questionnaire offers to the rules."""
    out = []
    for group in campaign.groups:
        q = questionnaires(campaign)[group.code]
        items = q.scale_items()
        aspects = [(key, name) for key, name in q.aspects.items() if any(i.aspect == key for i in items)]
        levels = max((len(i.scale.labels) for i in items), default=5)
        out.append({"code": group.code, "name": group.name, "items": items, "aspects": aspects, "levels": levels})
    return out


def _weight_variables(campaign) -> list[dict]:
    """What a weighting margin can be, per group: the channel, or a single-choice or yes/no
    question; each with its categories (code, Vietnamese name)."""
    out = []
    for group in campaign.groups:
        q = questionnaires(campaign)[group.code]
        channels = [(c, CHANNEL_NAMES[c]) for c in CHANNELS]
        out.append({"value": f"{group.code}|channel", "label": f"{group.name} · kênh trả lời", "categories": channels})
        for question in q.top_questions():
            if question.type == QuestionType.YESNO:
                categories = [("yes", "Có"), ("no", "Không")]
            elif question.type == QuestionType.SINGLE:
                categories = [(o.code, o.label) for o in question.options]
            else:
                continue
            out.append({"value": f"{group.code}|{question.id}", "label": f"{group.name} · {question.label}",
                        "categories": categories})  # fmt: skip
    return out


def _page(campaign, data: dict, *, errors: dict | None = None, problems: list[str] | None = None, preview=None,
          confirm_needed: bool = False, status: int = 200):  # fmt: skip
    s = session()
    per_criterion: dict[str, list[str]] = {}
    general = []
    for p in problems or []:
        match = WHERE.search(p)
        text = p.split(": ", 1)[1] if ": " in p else p
        if match:
            per_criterion.setdefault(match.group(1), []).append(text)
        else:
            general.append(text)
    return render_template(
        "authoring/rules.html", campaign=campaign, form=rf.view(data), errors=errors or {}, general=general,
        per_criterion=per_criterion, preview=preview, groups=_groups(campaign), methods=rf.METHOD_NAMES,
        bands_on=rf.BANDS_ON_NAMES, effects=rf.EFFECT_NAMES, versions=rules_versions(s, campaign),
        confirm_needed=confirm_needed, max_levels=max([g["levels"] for g in _groups(campaign)] or [5]),
        scale=QuestionType.SCALE, weight_variables=_weight_variables(campaign), user=current_user(),
    ), status  # fmt: skip


def _current(campaign) -> dict:
    if campaign.scoring_rules:
        data = yaml.safe_load(campaign.scoring_rules)
        if isinstance(data, dict):
            return data
    return rf.blank_rules(f"Điểm điều tra xã hội học {campaign.name}")


@bp.route("/admin/c/<key>/rules/edit", methods=["GET", "POST"])
@staff_required()
def rules_edit(key: str):
    s = session()
    campaign = campaign_or_404(s, key)
    if request.method == "GET":
        return _page(campaign, _current(campaign))
    data, errors = rf.parse(request.form)
    action = request.form.get("action", "preview")
    if action == "add_criterion":
        data["criteria"].append(rf.blank_criterion())
        return _page(campaign, data, errors=errors)
    if errors:
        return _page(campaign, data, errors=errors, problems=["Một số ô chưa đúng: xem các ô đánh dấu đỏ."],
                     status=422)  # fmt: skip
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    try:
        rules = load_rules_text(text, questionnaires(campaign), "quy tắc")
    except RulesError as exc:
        return _page(campaign, data, problems=exc.problems, status=422)
    preview = _preview(campaign, rules)
    if action == "save":
        started = campaign.status != CampaignStatus.DRAFT
        if started and request.form.get("confirm") != "1":
            return _page(campaign, data, preview=preview, confirm_needed=True, status=422)
        user = current_user()
        row = set_rules(s, campaign, text, user.id if user else None)
        s.commit()
        flash(f"Đã lưu quy tắc tính điểm (phiên bản {row.number})." if row else "Quy tắc không thay đổi.", "ok")
        return redirect(url_for("authoring.rules_edit", key=key))
    return _page(campaign, data, preview=preview, confirm_needed=campaign.status != CampaignStatus.DRAFT)


def _preview(campaign, rules):
    """Every unit's points under the new rules beside the current ones, on the answers so far."""
    s = session()
    new, _counts = compute(s, campaign, rules)
    try:
        current, _ = compute(s, campaign)
    except (NoRules, RulesError):
        current = None
    before = {u.unit: u for u in current.units} if current else {}
    return {"table": new, "before": before}
