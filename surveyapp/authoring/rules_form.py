"""The scoring rules as a form: criteria, their method, bands and sources, read from and written to
the rules' plain data (questionnaires/SCORING.md), so the form and the YAML are the same rules.

The form is flat: criterion ``i`` has fields ``c{i}_code``, ``c{i}_name`` …, its source ``j``
``c{i}_s{j}_group`` …, its bands ``c{i}_band_min`` / ``c{i}_band_points`` (lists). Numbers take a
decimal comma. Checking what the rules mean (weights summing to 1, questions that exist, bands in
order) is left to the rules loader, the one authority, whose messages the page shows.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.datastructures import MultiDict

from .forms import clean_text, parse_number

METHOD_NAMES = {
    "share": "Tỷ lệ câu trả lời tích cực × điểm tối đa",
    "mean": "Điểm trung bình quy đổi × điểm tối đa",
    "bands": "Theo khung điểm (ngưỡng phần trăm)",
}
BANDS_ON_NAMES = {"share": "tỷ lệ tích cực (%)", "mean": "điểm trung bình quy đổi (%)"}
EFFECT_NAMES = {
    "flag": "Chỉ đánh dấu “chưa đủ mẫu”",
    "zero": "Cho 0 điểm",
    "exclude": "Không tính điểm, không xếp hạng",
}
#: blank rows shown after the ones in use, so a band or a source can be added without scripts
SPARE_BANDS = 2
SPARE_SOURCES = 1


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def blank_rules(title: str) -> dict:
    return {"id": "quy_tac", "title": title, "component_total": 0, "criteria": [blank_criterion()]}


def blank_criterion() -> dict:
    return {"code": "", "name": "", "max": "", "method": "share", "sources": []}


def parse(form: MultiDict) -> tuple[dict, dict[str, str]]:
    """The rules' plain data from the form, and a message per field that is not even a number."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "id": clean_text(form.get("id"), 64, errors, "id") or "quy_tac",
        "title": clean_text(form.get("title"), 300, errors, "title"),
    }
    total = parse_number(form.get("component_total"), errors, "component_total")
    data["component_total"] = total if total is not None else form.get("component_total", "")
    share = parse_number(form.get("min_share"), errors, "min_share")
    effect = form.get("effect") if form.get("effect") in EFFECT_NAMES else "flag"
    if share is not None or effect != "flag":
        data["insufficient_sample"] = {"min_share_of_quota": (share if share is not None else 100) / 100,
                                       "effect": effect}  # fmt: skip
    criteria = []
    for i in range(_count(form, "criteria_count")):
        p = f"c{i}_"
        if form.get(p + "delete") == "1":
            continue
        criterion: dict[str, Any] = {
            "code": clean_text(form.get(p + "code"), 32, errors, p + "code"),
            "name": clean_text(form.get(p + "name"), 300, errors, p + "name"),
        }
        maximum = parse_number(form.get(p + "max"), errors, p + "max")
        criterion["max"] = maximum if maximum is not None else form.get(p + "max", "")
        method = form.get(p + "method") if form.get(p + "method") in METHOD_NAMES else "share"
        criterion["method"] = method
        positive = [int(x) for x in form.getlist(p + "positive") if x.isascii() and x.isdigit() and len(x) < 4]
        if positive:
            criterion["positive"] = sorted(set(positive))
        if method == "bands":
            bands = []
            for raw_min, raw_points in zip(form.getlist(p + "band_min"), form.getlist(p + "band_points"), strict=False):
                if not raw_min.strip() and not raw_points.strip():
                    continue
                low = parse_number(raw_min, errors, p + "bands")
                points = parse_number(raw_points, errors, p + "bands")
                bands.append(
                    {"min": low if low is not None else raw_min, "points": points if points is not None else raw_points}
                )
            criterion["bands"] = bands
            if form.get(p + "bands_on") == "mean":
                criterion["bands_on"] = "mean"
        sources = []
        for j in range(_count(form, p + "sources_count")):
            q = f"{p}s{j}_"
            group = form.get(q + "group") or ""
            if not group:
                continue
            source: dict[str, Any] = {"group": group}
            aspect = form.get(q + "aspect") or ""
            if aspect:
                source["aspect"] = aspect
            else:
                prefix = f"{group}:"
                source["questions"] = [v[len(prefix) :] for v in form.getlist(q + "questions") if v.startswith(prefix)]
            weight = parse_number(form.get(q + "weight"), errors, q + "weight")
            if weight is not None:
                source["weight"] = weight
            elif (form.get(q + "weight") or "").strip():
                source["weight"] = form.get(q + "weight")
            sources.append(source)
        criterion["sources"] = sources
        criteria.append(criterion)
    data["criteria"] = criteria
    weighting = _parse_weighting(form, errors)
    if weighting:
        data["weighting"] = weighting
    return data, errors


#: what a weighting margin's share inputs say when the officer has just chosen its variable
CHOOSE_SHARES = "Nhập tỷ lệ (%) đã biết của từng loại ở ô dưới, rồi bấm “Xem trước điểm”."


def _parse_weighting(form: MultiDict, errors: dict[str, str]) -> dict | None:
    """The weighting section (issue 20, part 2): margin ``k`` has ``w{k}_var`` ("group|by"), its
    categories ``w{k}_cat`` with their known shares in percent ``w{k}_share`` (shown for the
    variable in ``w{k}_shown_for``), and the per-unit shares of the file kept in ``w{k}_units``."""
    margins = []
    for k in range(_count(form, "margins_count")):
        p = f"w{k}_"
        var = form.get(p + "var") or ""
        if form.get(p + "delete") == "1" or "|" not in var:
            continue
        group, by = var.split("|", 1)
        shares: dict[str, Any] = {}
        if form.get(p + "shown_for") == var:
            for category, raw in zip(form.getlist(p + "cat"), form.getlist(p + "share"), strict=False):
                if not raw.strip():
                    continue
                value = parse_number(raw, errors, p + "shares")
                shares[category] = round(value / 100, 9) if value is not None else raw
        if not shares:
            errors[p + "shares"] = CHOOSE_SHARES
        margin: dict[str, Any] = {"group": group, "by": by, "shares": shares}
        try:
            units = json.loads(form.get(p + "units") or "{}")
        except ValueError:
            units = {}
        if isinstance(units, dict) and units and form.get(p + "units_for") == var:
            margin["units"] = units
        margins.append(margin)
    if not margins:
        return None
    weighting: dict[str, Any] = {"margins": margins}
    cap = parse_number(form.get("w_cap"), errors, "w_cap")
    if cap is not None:
        weighting["cap"] = cap
    elif (form.get("w_cap") or "").strip():
        weighting["cap"] = form.get("w_cap")
    return weighting


def _count(form: MultiDict, key: str) -> int:
    value = form.get(key, "0")
    return min(int(value), 200) if value.isascii() and value.isdigit() and len(value) < 10 else 0


def view(data: dict) -> dict:
    """What the template shows for rules data: numbers with decimal commas, spare rows added."""
    insufficient = data.get("insufficient_sample") or {}
    share = insufficient.get("min_share_of_quota")
    criteria = []
    for raw in data.get("criteria") or []:
        bands = [{"min": _fmt(b.get("min")), "points": _fmt(b.get("points"))} for b in raw.get("bands") or []]
        bands += [{"min": "", "points": ""}] * SPARE_BANDS
        sources = [
            {"group": s.get("group", ""), "aspect": s.get("aspect") or "", "questions": list(s.get("questions") or []),
             "weight": _fmt(s.get("weight"))}
            for s in raw.get("sources") or []
        ] + [{"group": "", "aspect": "", "questions": [], "weight": ""}] * SPARE_SOURCES  # fmt: skip
        criteria.append({
            "code": str(raw.get("code", "")), "name": raw.get("name", ""), "max": _fmt(raw.get("max")),
            "method": raw.get("method", "share"), "positive": list(raw.get("positive") or []),
            "bands": bands, "bands_on": raw.get("bands_on", "share"), "sources": sources,
        })  # fmt: skip
    weighting = data.get("weighting") or {}
    margins = [
        {"var": f"{m.get('group', '')}|{m.get('by', '')}",
         "shares": {str(c): _fmt(round(v * 100, 6)) if isinstance(v, int | float) else str(v)
                    for c, v in (m.get("shares") or {}).items()},
         "units": json.dumps(m.get("units") or {}, ensure_ascii=False), "unit_count": len(m.get("units") or {})}
        for m in weighting.get("margins") or [] if isinstance(m, dict)
    ] + [{"var": "", "shares": {}, "units": "{}", "unit_count": 0}]  # fmt: skip
    return {
        "margins": margins,
        "cap": _fmt(weighting.get("cap")),
        "id": data.get("id", "quy_tac"),
        "title": data.get("title", ""),
        "component_total": _fmt(data.get("component_total")),
        "min_share": _fmt(round(share * 100, 6)) if isinstance(share, int | float) else "",
        "effect": insufficient.get("effect", "flag"),
        "criteria": criteria,
    }
