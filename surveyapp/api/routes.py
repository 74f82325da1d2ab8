from __future__ import annotations

import math
from functools import wraps

from flask import jsonify, request
from sqlalchemy import select

from questionnaires.scoring import RulesError

from ..campaigns.services import campaign_by_key, cells
from ..db import session
from ..models import Campaign, GroupMode, Unit
from ..results.services import NoRules, compute, rank_ranges, weighted, weighted_rows
from . import bp
from .openapi import SPEC
from .tokens import valid_token


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="surveyapp"'
    return response


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token or not valid_token(session(), token.strip()):
            return _error(401, "Thiếu hoặc sai mã truy cập (Authorization: Bearer …).")
        return view(*args, **kwargs)

    return wrapped


def _campaign_or_404(key: str) -> Campaign | None:
    return campaign_by_key(session(), key)


def _number(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 6)


def _campaign_json(c: Campaign) -> dict:
    return {
        "key": c.key,
        "year": c.year,
        "name": c.name,
        "status": c.status,
        "scope_unit": {"code": c.scope_unit.code, "name": c.scope_unit.name},
        "starts_on": c.starts_on.isoformat() if c.starts_on else None,
        "ends_on": c.ends_on.isoformat() if c.ends_on else None,
    }


@bp.route("/openapi.json")
def openapi():
    return jsonify(SPEC)


@bp.route("/campaigns")
@token_required
def campaigns():
    rows = session().scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.key)).all()
    return jsonify({"campaigns": [_campaign_json(c) for c in rows]})


@bp.route("/campaigns/<key>/progress")
@token_required
def progress(key: str):
    campaign = _campaign_or_404(key)
    if campaign is None:
        return _error(404, f"Không có đợt khảo sát “{key}”.")
    rows = cells(session(), campaign)
    return jsonify(
        {
            "campaign": campaign.key,
            "cells": [
                {"unit_code": c.unit_code, "unit_name": c.unit_name, "group_code": c.group_code, "target": c.target,
                 "received": c.received, "valid": c.valid}
                for c in rows
            ],
        }
    )  # fmt: skip


@bp.route("/campaigns/<key>/invitations")
@token_required
def invitation_outcomes(key: str):
    """Per invited group and unit, how many people were invited, reached, opened, answered …:
    counts only, never a name."""
    from ..messaging.services import OUTCOMES, outcomes, rates_of

    campaign = _campaign_or_404(key)
    if campaign is None:
        return _error(404, f"Không có đợt khảo sát “{key}”.")
    s = session()

    def counts(found) -> dict:
        r = rates_of(found)
        return {**{k: found[k] for k in OUTCOMES}, "rr1": _number(r.rr1), "rr2": _number(r.rr2),
                "coop1": _number(r.coop1)}  # fmt: skip

    groups = []
    for group in campaign.groups:
        if group.mode != GroupMode.INVITATION:
            continue
        found = outcomes(s, group)
        names = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_([k for k in found if k != "*"]))).all())
        units = [{"unit_code": code, "unit_name": names[code], **counts(found[code])}
                 for code in sorted(k for k in found if k != "*")]  # fmt: skip
        groups.append({"group_code": group.code, "group_name": group.name, "outcomes": counts(found["*"]),
                       "units": units})  # fmt: skip
    return jsonify({"campaign": campaign.key, "groups": groups})


@bp.route("/campaigns/<key>/scores")
@token_required
def scores(key: str):
    campaign = _campaign_or_404(key)
    if campaign is None:
        return _error(404, f"Không có đợt khảo sát “{key}”.")
    try:
        table, _counts = compute(session(), campaign)
    except (NoRules, RulesError) as exc:
        return _error(409, str(exc))
    ranges = rank_ranges(session(), campaign, table)
    result = weighted(session(), campaign, table)
    extra = {r.unit_code: r for r in weighted_rows(campaign, table, result)} if result is not None else {}

    def weighting(u):
        row = extra.get(u.unit)
        if row is None:
            return None
        w = result.table.unit(u.unit)
        return {"total": _number(row.weighted_total), "rank": row.weighted_rank, "respondents": row.respondents,
                "effective_n": round(row.effective_n, 4), "notes": list(row.notes),
                "criteria": [{"code": code, "points": _number(c.points), "value": _number(c.value)}
                             for code, c in w.criteria.items()]}  # fmt: skip

    return jsonify(
        {
            "campaign": campaign.key,
            "rules": table.rules.id,
            "component_total": table.rules.component_total,
            "units": [
                {
                    "unit_code": u.unit,
                    "unit_name": u.name,
                    "total": _number(u.total),
                    "rank": u.rank,
                    "rank_range": [ranges[u.unit].low, ranges[u.unit].high] if u.unit in ranges else None,
                    "insufficient_sample": u.insufficient,
                    "weighted": weighting(u),
                    "criteria": [
                        {"code": code, "points": _number(c.points), "n": c.n, "value": _number(c.value),
                         "low": _number(c.low), "high": _number(c.high), "flags": list(c.flags),
                         "respondents": c.respondents, "design_effect": _number(c.deff)}
                        for code, c in u.criteria.items()
                    ],
                }
                for u in table.units
            ],
        }
    )  # fmt: skip
