from __future__ import annotations

import io

from flask import Response as HttpResponse
from flask import abort, render_template
from sqlalchemy.orm import Session

from questionnaires.scoring import RulesError, satisfaction
from questionnaires.scoring.stats import alpha_words

from ..auth import current_user, staff_required
from ..db import db, session
from ..lookups import campaign_or_404
from ..messaging.services import fieldwork_tables
from ..models import Campaign, GroupMode, Role
from ..setup.campaigns import current_rules_label
from . import bp
from .services import (
    NoRules,
    alphas,
    compute,
    differences,
    distributions,
    question_columns,
    questionnaires,
    raw_rows,
    source_names,
)
from .workbook import FLAG_NAMES, flags_text, raw_csv, write_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _campaign(key: str) -> Campaign:
    return campaign_or_404(session(), key)


def _scores(campaign: Campaign):
    try:
        return compute(session(), campaign), None
    except (NoRules, RulesError) as exc:
        return (None, None), str(exc)


@bp.route("/admin/c/<key>/results")
@staff_required(Role.SCORER)
def results(key: str):
    campaign = _campaign(key)
    (table, counts), error = _scores(campaign)
    qs = questionnaires(campaign)
    sipas = []
    for group in campaign.groups:
        if group.mode == GroupMode.COUNTER and counts is not None:
            _items, aspects, overall = satisfaction(qs[group.code], group.code, counts)
            sipas.append((group, [(a.label, a.share, None) for _key, a in aspects], overall))
    ranked = sorted((u for u in table.units if u.rank is not None), key=lambda u: u.rank) if table else []
    diffs = differences(counts, qs) if counts else []
    return render_template(
        "results/results.html",
        campaign=campaign,
        table=table,
        error=error,
        sipas=sipas,
        totals=[(u.name, u.total, None) for u in ranked],
        alphas=alphas(session(), campaign) if counts else [],
        alpha_words=alpha_words,
        diffs=diffs,
        questionnaires=qs,
        group_names={g.code: g.name for g in campaign.groups},
        flags_text=flags_text,
        rules_label=current_rules_label(session(), campaign),
        user=current_user(),
    )


@bp.route("/admin/c/<key>/results/u/<unit_code>")
@staff_required(Role.SCORER)
def unit_results(key: str, unit_code: str):
    campaign = _campaign(key)
    (table, counts), error = _scores(campaign)
    if table is None:
        abort(404)
    try:
        unit = table.unit(unit_code)
    except StopIteration:
        abort(404)
    qs = questionnaires(campaign)
    dist = distributions(counts, unit_code)
    blocks = []
    for group in campaign.groups:
        items = [(q, dist.get((group.code, q.id), {})) for q in qs[group.code].scale_items()]
        items = [(q, d) for q, d in items if d]
        if items:
            blocks.append((group, items))
    return render_template(
        "results/unit.html", campaign=campaign, table=table, unit=unit, blocks=blocks, flag_names=FLAG_NAMES,
        user=current_user(),
    )  # fmt: skip


@bp.route("/admin/c/<key>/results.xlsx")
@staff_required(Role.SCORER)
def workbook(key: str):
    campaign = _campaign(key)
    (table, _counts), error = _scores(campaign)
    if table is None:
        abort(404)
    buffer = io.BytesIO()
    write_workbook(buffer, campaign.name, table, raw_sheet_specs(campaign),
                   rules_label=current_rules_label(session(), campaign), names=source_names(campaign),
                   fieldwork=fieldwork_tables(session(), campaign))  # fmt: skip
    return HttpResponse(
        buffer.getvalue(), mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="diem-dieu-tra-{campaign.key}.xlsx"'},
    )  # fmt: skip


def raw_sheet_specs(campaign: Campaign):
    qs = questionnaires(campaign)
    specs = []
    for group in campaign.groups:
        specs.append(
            (f"Dữ liệu {group.name}", question_columns(qs[group.code]),
             lambda g=group: raw_rows(session(), campaign, g))
        )  # fmt: skip
    return specs


@bp.route("/admin/c/<key>/g/<group_code>/raw.csv")
@staff_required(Role.SCORER)
def raw(key: str, group_code: str):
    campaign = _campaign(key)
    group = next((g for g in campaign.groups if g.code == group_code), None)
    if group is None:
        abort(404)
    columns = question_columns(questionnaires(campaign)[group.code])
    engine = db.engine

    def body():
        # its own session, closed when the download ends, whether or not the request context is
        # torn down first (streamed bodies outlive the view)
        s = Session(engine, expire_on_commit=False)
        try:
            yield from raw_csv(columns, raw_rows(s, campaign, group))
        finally:
            s.close()

    return HttpResponse(
        body(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="du-lieu-{campaign.key}-{group.code}.csv"'},
    )  # fmt: skip


@bp.route("/admin/c/<key>/rules")
@staff_required(Role.SCORER)
def rules(key: str):
    campaign = _campaign(key)
    (table, _counts), error = _scores(campaign)
    return render_template(
        "results/rules.html",
        campaign=campaign,
        rules=table.rules if table else None,
        error=error,
        user=current_user(),
        names=source_names(campaign) if table else None,
    )
