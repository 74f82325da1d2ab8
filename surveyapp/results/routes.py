from __future__ import annotations

import io

from flask import Response as HttpResponse
from flask import abort, jsonify, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires.scoring import RulesError, satisfaction
from questionnaires.scoring.stats import alpha_words

from .. import jobs
from ..auth import current_user, staff_required
from ..db import db, session
from ..lookups import campaign_or_404
from ..models import Campaign, ExportFile, GroupMode, Role
from ..setup.campaigns import current_rules_label
from . import bp
from .exports import filename_of, is_heavy, request_export, state_of, write_campaign_workbook
from .services import (
    RANK_SEED,
    NoRules,
    alphas,
    compute,
    counter_pressure,
    differences,
    distributions,
    margin_descriptions,
    question_columns,
    questionnaires,
    rank_ranges,
    raw_rows,
    source_names,
    weighted,
    weighted_rows,
)
from .workbook import FLAG_NAMES, flags_text, raw_csv

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
        pressure=counter_pressure(session(), campaign, table),
        ranges=rank_ranges(session(), campaign, table) if table else {},
        weighted=_weighted_rows(campaign, table),
        weighting_names=margin_descriptions(campaign, table.rules.weighting) if table and table.rules.weighting else [],
        rank_seed=RANK_SEED,
        user=current_user(),
    )


def _weighted_rows(campaign: Campaign, table) -> list:
    """The weighted figures beside the unweighted, when the rules weight (issue 20, part 2)."""
    result = weighted(session(), campaign, table) if table is not None else None
    return weighted_rows(campaign, table, result) if result is not None else []


@bp.route("/admin/c/<key>/bao-cao.<fmt>")
@staff_required(Role.SCORER)
def report_file(key: str, fmt: str):
    """The annual report (results/report.py) as Word or PDF."""
    from ..documents import to_docx, to_pdf
    from .report import blocks

    if fmt not in ("docx", "pdf"):
        abort(404)
    campaign = _campaign(key)
    (table, _counts), error = _scores(campaign)
    if table is None:
        abort(404)
    content = blocks(session(), campaign)
    if fmt == "pdf":
        data, mimetype = to_pdf(content, f"Báo cáo kết quả điều tra · {campaign.name}"), "application/pdf"
    else:
        out = io.BytesIO()
        to_docx(content).save(out)
        data = out.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    name = f"bao-cao-{campaign.key}.{fmt}"
    return HttpResponse(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/admin/c/<key>/so-sanh", methods=["GET", "POST"])
@staff_required(Role.SCORER)
def compare_years(key: str):
    """This campaign against an earlier one, per unit and criterion (questionnaires/scoring/compare.py),
    through a crosswalk of merged units uploaded here (read in memory, not stored)."""
    from flask import request

    from questionnaires.scoring.compare import compare

    from .yearly import read_crosswalk

    campaign = _campaign(key)
    s = session()
    others = [
        c for c in s.scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.name)) if c.id != campaign.id
    ]
    chosen = request.values.get("earlier") or (others[0].key if others else "")
    earlier = next((c for c in others if c.key == chosen), None)
    error, changes, names, walk = None, [], {}, None
    upload = request.files.get("crosswalk")
    if upload is not None and upload.filename:
        try:
            walk = read_crosswalk(upload.read(), upload.filename)
        except ValueError as exc:
            error = str(exc)
    if earlier is not None and error is None:
        (now, _c), error = _scores(campaign)
        (before, _c2), error_before = _scores(earlier) if error is None else ((None, None), None)
        error = error or error_before
        if error is None:
            changes = compare(now, before, walk)
            names = {c.code: c.name for c in now.rules.criteria}
    return render_template("results/compare.html", campaign=campaign, others=others, earlier=earlier, error=error,
                           changes=changes, criterion_names=names, crosswalk=walk, user=current_user())  # fmt: skip


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
    if is_heavy(session(), campaign):
        return _queued(campaign, "workbook", "")
    buffer = io.BytesIO()
    write_campaign_workbook(session(), campaign, buffer, table=table)
    return HttpResponse(
        buffer.getvalue(), mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename_of(campaign, "workbook")}"'},
    )  # fmt: skip


def _queued(campaign: Campaign, kind: str, group_code: str):
    """A heavy export: made by the worker; the officer watches its progress and downloads it."""
    s = session()
    export, new = request_export(s, campaign, kind, group_code, current_user().id)
    s.commit()
    if new:  # a second click while one is being made shows that one
        jobs.enqueue("export", export.id)
    return redirect(url_for("results.export_page", key=campaign.key, export_id=export.id))


@bp.route("/admin/c/<key>/g/<group_code>/raw.csv")
@staff_required(Role.SCORER)
def raw(key: str, group_code: str):
    campaign = _campaign(key)
    group = next((g for g in campaign.groups if g.code == group_code), None)
    if group is None:
        abort(404)
    if is_heavy(session(), campaign, group):
        return _queued(campaign, "csv", group.code)
    engine = db.engine
    columns = question_columns(questionnaires(campaign)[group.code])

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
        headers={"Content-Disposition": f'attachment; filename="{filename_of(campaign, "csv", group.code)}"'},
    )  # fmt: skip


DATA_TYPES = {"sav": "application/x-spss-sav", "dta": "application/x-stata-dta", "csv": "text/csv"}


@bp.route("/admin/c/<key>/g/<group_code>/data.<fmt>")
@staff_required(Role.SCORER)
def data_file(key: str, group_code: str, fmt: str):
    """A group's answers for SPSS, Stata or as coded CSV (results/datafile.py): the raw export's rows."""
    import os
    import tempfile

    from . import datafile

    campaign = _campaign(key)
    group = next((g for g in campaign.groups if g.code == group_code), None)
    if group is None or fmt not in DATA_TYPES:
        abort(404)
    questionnaire = questionnaires(campaign)[group.code]
    handle, path = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)
    try:
        if fmt == "csv":  # the codebook has its own download
            datafile.write_csv(path, questionnaire, raw_rows(session(), campaign, group), codebook=False)
        else:
            datafile.write(path, fmt, questionnaire, raw_rows(session(), campaign, group),
                           file_label=f"{campaign.name} · {group.name}")  # fmt: skip
        with open(path, "rb") as f:
            body = f.read()
    finally:
        os.unlink(path)
    name = f"du-lieu-{campaign.key}-{group.code}.{fmt}"
    return HttpResponse(body, mimetype=DATA_TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@bp.route("/admin/c/<key>/g/<group_code>/codebook.xlsx")
@staff_required(Role.SCORER)
def codebook(key: str, group_code: str):
    from . import datafile

    campaign = _campaign(key)
    group = next((g for g in campaign.groups if g.code == group_code), None)
    if group is None:
        abort(404)
    out = io.BytesIO()
    datafile.write_codebook(out, questionnaires(campaign)[group.code])
    name = f"bang-ma-{campaign.key}-{group.code}.xlsx"
    return HttpResponse(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _export(key: str, export_id: int) -> tuple[Campaign, ExportFile]:
    campaign = _campaign(key)
    export = session().get(ExportFile, export_id)
    if export is None or export.campaign_id != campaign.id:
        abort(404)
    return campaign, export


@bp.route("/admin/c/<key>/tai-ve/<int(max=2147483647):export_id>")
@staff_required(Role.SCORER)
def export_page(key: str, export_id: int):
    campaign, export = _export(key, export_id)
    group = next((g for g in campaign.groups if g.code == export.group_code), None)
    return render_template("results/export.html", campaign=campaign, export=export, state=state_of(export),
                           group=group, user=current_user())  # fmt: skip


@bp.route("/admin/c/<key>/tai-ve/<int(max=2147483647):export_id>/tien-do")
@staff_required(Role.SCORER)
def export_progress(key: str, export_id: int):
    _campaign_, export = _export(key, export_id)
    state = state_of(export)
    response = jsonify(state=state, done=min(export.done, export.total or export.done), total=export.total,
                       finished=state in ("done", "failed"))  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/c/<key>/tai-ve/<int(max=2147483647):export_id>/tep")
@staff_required(Role.SCORER)
def export_file(key: str, export_id: int):
    _campaign_, export = _export(key, export_id)
    if state_of(export) != "done":
        return redirect(url_for("results.export_page", key=key, export_id=export_id))
    content = session().scalar(select(ExportFile.content).where(ExportFile.id == export.id))
    mimetype = XLSX if export.kind == "workbook" else "text/csv"
    return HttpResponse(content, mimetype=mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})  # fmt: skip


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
